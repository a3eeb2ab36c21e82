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

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use secrecy::ExposeSecret;

use super::AwsError;
use crate::config::{AwsSettings, CredentialProvider};

/// Loads the base SDK config. Makes no network call.
pub async fn base_config(settings: &AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if std::env::var_os("AWS_MAX_ATTEMPTS").is_none()
        && std::env::var_os("AWS_RETRY_MODE").is_none()
    {
        loader = loader.retry_config(RetryConfig::standard().with_max_attempts(5));
    }
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

/// `sts:AssumeRole` from `base`, returning an SDK config that acts as the role.
pub async fn assume_role(
    base: &SdkConfig,
    role_arn: &str,
    session_name: &str,
    external_id: Option<&secrecy::SecretString>,
) -> Result<SdkConfig, AwsError> {
    let sts = aws_sdk_sts::Client::new(base);
    let out = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session_name)
        .set_external_id(external_id.map(|e| e.expose_secret().to_string()))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("sts:AssumeRole", e))?;
    let c = out
        .credentials()
        .ok_or_else(|| AwsError::other("sts:AssumeRole", "the response has no credentials"))?;
    let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        expiry,
        "AssumeRole",
    );
    Ok(base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build())
}

/// Whether S3 must use path-style addressing: custom endpoints (moto, LocalStack, MinIO)
/// generally cannot serve virtual-host buckets.
pub fn s3_force_path_style(config: &SdkConfig) -> bool {
    config.endpoint_url().is_some()
        || ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
            .iter()
            .any(|v| std::env::var(v).is_ok_and(|v| !v.is_empty()))
}
