//! Base credentials and role assumption.
//!
//! The base SDK config is what `aws-config` loads from the standard AWS environment
//! (`AWS_REGION`, `AWS_ENDPOINT_URL[_<SERVICE>]`, `AWS_ACCESS_KEY_ID`…, `AWS_PROFILE`, web
//! identity, container and instance roles). `credentialProviderPriority` then picks the base
//! identity as aws-v3 does, with two deliberate fixes (see README):
//! - `StaticCredential` with a role ARN uses the static keys as the identity that assumes
//!   the role (aws-v3 silently ignores the keys there);
//! - with no keys and no role, the ambient identity is used (aws-v3 fails).
//!
//! Retries: aws-v3 runs botocore's defaults (5 attempts). Unless `AWS_MAX_ATTEMPTS` /
//! `AWS_RETRY_MODE` say otherwise, the SDK's standard mode is set to 5 attempts too.
//! Timeouts: every call has an attempt timeout and an operation timeout (with retries), so
//! an AWS endpoint that never answers fails its unit instead of hanging the run. Every
//! client of a run (STS, Organizations, the listers) derives from this config.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use secrecy::{ExposeSecret, SecretString};

use super::AwsError;
use crate::config::{AwsSettings, CredentialProvider};

/// Loads the base SDK config. Makes no network call.
pub async fn base_config(settings: &AwsSettings) -> SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).http_client(shared_http_client());
    if std::env::var_os("AWS_MAX_ATTEMPTS").is_none()
        && std::env::var_os("AWS_RETRY_MODE").is_none()
    {
        loader = loader.retry_config(RetryConfig::standard().with_max_attempts(5));
    }
    loader = loader.timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(settings.attempt_timeout.min(Duration::from_secs(10)))
            .operation_attempt_timeout(settings.attempt_timeout)
            .operation_timeout(settings.operation_timeout)
            .build(),
    );
    if let Some(keys) = chosen_static_keys(settings) {
        loader = loader.credentials_provider(Credentials::new(
            keys.access_key_id.expose_secret(),
            keys.secret_access_key.expose_secret(),
            keys.session_token
                .as_ref()
                .map(|t| t.expose_secret().to_string()),
            None,
            "OceanIntegrationConfig",
        ));
    }
    let config = loader.load().await;
    if config.region().is_some() {
        return config;
    }
    // STS and Organizations need some region; aws-v3 uses the partition's default.
    config
        .to_builder()
        .region(Region::new(settings.partition.default_region()))
        .build()
}

/// One HTTP client for every AWS client of the process: the SDK's default (hyper, rustls
/// with aws-lc, the proxy of the environment), built once. Without it each SDK client —
/// one per (account, region, kind) listed — builds its own connection pool and TLS
/// configuration (root certificates included): with every kind in a mapping that was about
/// 40 MiB of peak memory for the same work (docs/performance.md).
fn shared_http_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// The static keys, when the priority list selects them before an applicable web
/// identity.
fn chosen_static_keys(settings: &AwsSettings) -> Option<&crate::config::StaticKeys> {
    let web_identity = std::env::var("AWS_WEB_IDENTITY_TOKEN_FILE").is_ok_and(|v| !v.is_empty());
    for provider in &settings.credential_provider_priority {
        match provider {
            CredentialProvider::AssumeRoleWithWebIdentity if web_identity => return None,
            CredentialProvider::StaticCredential if settings.static_keys.is_some() => {
                return settings.static_keys.as_ref();
            }
            CredentialProvider::AssumeRole => return None,
            _ => {}
        }
    }
    None
}

/// `sts:AssumeRole` from `base`, returning an SDK config that acts as the role. The
/// credentials refresh themselves: `refresh_margin` before they expire, the role is assumed
/// again (a run over many accounts can outlast the one hour AssumeRole grants). A failed
/// renewal keeps the current credentials in service until they really expire, and is
/// retried with backoff.
pub(crate) async fn assume_role(
    base: &SdkConfig,
    role_arn: &str,
    session_name: &str,
    external_id: Option<&SecretString>,
    refresh_margin: Duration,
) -> Result<SdkConfig, AwsError> {
    let role = AssumedRole {
        base: base.clone(),
        role_arn: role_arn.to_string(),
        session_name: session_name.to_string(),
        external_id: external_id.cloned(),
        refresh_margin,
        state: std::sync::Mutex::new(Renewal::default()),
        renewing: tokio::sync::Mutex::new(()),
    };
    // Assume once now: an account whose role is refused is known before listing starts.
    let first = role.assume().await?;
    role.lock().current = Some(first);
    Ok(base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(role))
        .build())
}

/// Credentials of an assumed role, re-assumed when they come close to expiry.
struct AssumedRole {
    base: SdkConfig,
    role_arn: String,
    session_name: String,
    external_id: Option<SecretString>,
    refresh_margin: Duration,
    /// Held only to read or swap the state, never across a call.
    state: std::sync::Mutex<Renewal>,
    /// Held by the one task that renews; others keep using the current credentials.
    renewing: tokio::sync::Mutex<()>,
}

/// The credentials in service and the renewal's backoff.
#[derive(Default)]
struct Renewal {
    current: Option<Credentials>,
    /// Renewals that failed in a row.
    failures: u32,
    /// No renewal before this, after a failure.
    retry_at: Option<SystemTime>,
}

/// Credentials this close to their expiry are not handed out any more.
const EXPIRY_SAFETY: Duration = Duration::from_secs(5);

impl std::fmt::Debug for AssumedRole {
    // The base config and the credentials are secrets: print the role only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumedRole")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .finish_non_exhaustive()
    }
}

impl AssumedRole {
    fn lock(&self) -> std::sync::MutexGuard<'_, Renewal> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn assume(&self) -> Result<Credentials, AwsError> {
        let sts = aws_sdk_sts::Client::new(&self.base);
        let out = sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(&self.session_name)
            .set_external_id(
                self.external_id
                    .as_ref()
                    .map(|e| e.expose_secret().to_string()),
            )
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("sts:AssumeRole", e))?;
        let c = out
            .credentials()
            .ok_or_else(|| AwsError::other("sts:AssumeRole", "the response has no credentials"))?;
        let expiry = SystemTime::try_from(*c.expiration()).ok();
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            expiry,
            "AssumeRole",
        ))
    }

    /// When the SDK should come back for new credentials: `refresh_margin` early.
    fn refresh_at(&self, creds: &Credentials) -> Option<SystemTime> {
        creds.expiry().map(|e| {
            e.checked_sub(self.refresh_margin)
                .unwrap_or(SystemTime::UNIX_EPOCH)
        })
    }

    /// The credentials to hand out now, if no renewal is needed first: fresh ones, or
    /// still-valid ones while a renewal is backing off or running in another task.
    fn usable(&self, state: &Renewal, renewal_elsewhere: bool) -> Option<Credentials> {
        let now = SystemTime::now();
        let current = state.current.as_ref()?;
        let valid = current.expiry().is_none_or(|e| e > now + EXPIRY_SAFETY);
        let fresh = self.refresh_at(current).is_none_or(|at| at > now);
        let waiting = state.retry_at.is_some_and(|at| at > now);
        if fresh {
            return Some(self.handed_out(current, self.refresh_at(current)));
        }
        if valid && (waiting || renewal_elsewhere) {
            // Come back when the next renewal may run (or soon, while another task renews).
            let back = state
                .retry_at
                .filter(|at| *at > now)
                .unwrap_or(now + Duration::from_secs(1));
            let until = current.expiry().map_or(back, |e| back.min(e));
            return Some(self.handed_out(current, Some(until)));
        }
        None
    }

    /// A copy with the expiry the SDK's cache should act on.
    fn handed_out(&self, c: &Credentials, expiry: Option<SystemTime>) -> Credentials {
        Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            c.session_token().map(str::to_string),
            expiry,
            "AssumeRole",
        )
    }

    async fn provide(&self) -> Result<Credentials, CredentialsError> {
        if let Some(c) = self.usable(&self.lock(), false) {
            return Ok(c);
        }
        // Due for renewal. While another task renews, valid credentials are served at once.
        let _renewing = match self.renewing.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                if let Some(c) = self.usable(&self.lock(), true) {
                    return Ok(c);
                }
                let guard = self.renewing.lock().await;
                // The other task may have renewed meanwhile.
                if let Some(c) = self.usable(&self.lock(), false) {
                    return Ok(c);
                }
                guard
            }
        };
        tracing::debug!(role = %self.role_arn, "assuming the role again: its credentials are about to expire");
        match self.assume().await {
            Ok(creds) => {
                let mut state = self.lock();
                let handed = self.handed_out(&creds, self.refresh_at(&creds));
                *state = Renewal {
                    current: Some(creds),
                    failures: 0,
                    retry_at: None,
                };
                Ok(handed)
            }
            Err(e) => {
                let mut state = self.lock();
                state.failures += 1;
                // 1 s, 2 s, 4 s … up to a minute between renewal attempts.
                let backoff = Duration::from_secs(1 << state.failures.min(6).saturating_sub(1));
                state.retry_at = Some(SystemTime::now() + backoff);
                match self.usable(&state, false) {
                    Some(c) => {
                        tracing::warn!(role = %self.role_arn, error = %e, retry_in_s = backoff.as_secs(), "credential renewal failed; the current credentials stay in use until they expire");
                        Ok(c)
                    }
                    None => Err(CredentialsError::provider_error(e)),
                }
            }
        }
    }
}

impl ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.provide())
    }
}

/// Whether S3 must use path-style addressing: custom endpoints (moto, LocalStack, MinIO)
/// generally cannot serve virtual-host buckets.
pub(crate) fn s3_force_path_style(config: &SdkConfig) -> bool {
    config.endpoint_url().is_some()
        || ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
            .iter()
            .any(|v| std::env::var(v).is_ok_and(|v| !v.is_empty()))
}
