//! Typed, validated settings.
//!
//! [`Settings::load`] reads the Ocean sources (see [`sources`]), checks every value we use
//! and fails **before any network call** with an error that names the env var and what was
//! expected. Keys Ocean knows but this program does not use are accepted silently (an Ocean
//! user's Helm values keep working); keys nobody knows get a warning naming them, with a
//! suggestion when one is close (a misspelled `OCEAN__INTEGRATION__CONFIG__ACOUNT_ROLE_ARN`
//! would otherwise silently switch the run to single-account mode).
//!
//! Secrets (Port client secret, AWS keys, external ID) are [`SecretString`]s: `Debug`
//! prints `[REDACTED]` and nothing here formats them.

mod known;
pub mod sources;

use std::collections::BTreeSet;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;

pub use sources::Sources;

/// A configuration problem, reported before anything is written anywhere.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required setting is absent.
    #[error("{key} is required: {what}")]
    Missing {
        /// The env var that sets it.
        key: String,
        /// What it is for.
        what: String,
    },
    /// A setting has a value of the wrong shape.
    #[error("{key}: expected {expected}, got {got}")]
    Invalid {
        /// The env var that sets it.
        key: String,
        /// What would have been accepted.
        expected: String,
        /// What was found (never a secret's value).
        got: String,
    },
    /// A source could not be read or parsed.
    #[error("cannot read {source_name}: {reason}")]
    Source {
        /// `.env`, `config.yaml`, …
        source_name: String,
        /// Why.
        reason: String,
    },
}

/// Everything one run needs to know, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How to reach Port.
    pub port: PortSettings,
    /// Who we are in Port.
    pub(crate) integration: IntegrationSettings,
    /// What triggers resyncs.
    pub(crate) event_listener: EventListener,
    /// Create the default blueprints when none exist (`OCEAN__INITIALIZE_PORT_RESOURCES`).
    pub(crate) initialize_port_resources: bool,
    /// Send raw item examples to Port (`OCEAN__SEND_RAW_DATA_EXAMPLES`).
    pub(crate) send_raw_data_examples: bool,
    /// Read everything, write nothing to Port, print the plan (`OCEAN__DRY_RUN`).
    pub(crate) dry_run: bool,
    /// `env` / `$ENV` visible to JQ (`OCEAN__ALLOW_ENVIRONMENT_VARIABLES_JQ_ACCESS`).
    pub(crate) allow_environment_variables_jq_access: bool,
    /// Minutes between scheduled resyncs (`OCEAN__SCHEDULED_RESYNC_INTERVAL`; fractions
    /// allowed).
    pub(crate) scheduled_resync_interval: Option<f64>,
    /// Prefix of every HTTP route (`OCEAN__PATH_PREFIX`), e.g. `/aws`.
    pub(crate) path_prefix: String,
    /// `OCEAN__RESYNC_TIMEOUT_MINUTES` as given: `Some(0.0)` turns the deadline off; see
    /// [`Settings::resync_deadline`].
    pub(crate) resync_timeout_minutes: Option<f64>,
    /// Address the HTTP surface binds (`APPLICATION__HOST`, default `0.0.0.0` as Ocean's
    /// uvicorn in a container).
    pub(crate) http_host: std::net::IpAddr,
    /// When set, `POST /resync` needs `Authorization: Bearer <secret>`
    /// (`OCEAN__RESYNC_SECRET`; off by default, as Ocean).
    pub(crate) resync_secret: Option<SecretString>,
    /// AWS side: credentials, account strategy, concurrency.
    pub aws: AwsSettings,
    /// The self-service actions the daemon serves.
    pub(crate) actions: ActionSettings,
    /// Settings keys nobody knows, with a suggestion each; logged as warnings by the caller
    /// once logging is up.
    pub(crate) unknown_keys: Vec<String>,
}

/// Port connection settings.
#[derive(Debug, Clone)]
pub struct PortSettings {
    /// `OCEAN__PORT__CLIENT_ID`.
    pub(crate) client_id: SecretString,
    /// `OCEAN__PORT__CLIENT_SECRET`.
    pub(crate) client_secret: SecretString,
    /// `OCEAN__PORT__BASE_URL`, without a trailing slash and without `/v1`.
    pub(crate) base_url: String,
    /// Timeout of one Port request.
    pub(crate) request_timeout: Duration,
    /// Bulk upsert requests in flight at once.
    pub max_in_flight: usize,
    /// Client-side limit on Port requests per second (`OCEAN__PORT__RATE_LIMIT`; none by
    /// default).
    pub(crate) rate_limit: Option<u32>,
}

/// Integration identity.
#[derive(Debug, Clone)]
pub(crate) struct IntegrationSettings {
    /// `OCEAN__INTEGRATION__IDENTIFIER`.
    pub(crate) identifier: String,
    /// `OCEAN__INTEGRATION__TYPE`; `aws-v3` so entities written by the Python integration
    /// keep being recognised as ours (`$datasource` prefix `port-ocean/aws-v3/`).
    pub(crate) integration_type: String,
}

/// The event listener (`OCEAN__EVENT_LISTENER`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EventListener {
    /// Which listener.
    pub(crate) kind: ListenerKind,
    /// POLLING interval in seconds.
    pub(crate) interval_secs: u64,
    /// POLLING: resync when the process starts.
    pub(crate) resync_on_start: bool,
}

/// Ocean's listener types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListenerKind {
    /// Poll Port's resync requests (Ocean's default).
    Polling,
    /// One resync, then exit.
    Once,
    /// `POST /resync`.
    Webhook,
    /// Kafka change log.
    Kafka,
    /// Webhooks only, no resync.
    WebhooksOnly,
    /// Actions only, no resync.
    ActionsOnly,
}

/// Which base credentials to start from (`credentialProviderPriority`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CredentialProvider {
    /// Web identity (IRSA): `AWS_WEB_IDENTITY_TOKEN_FILE` is set.
    AssumeRoleWithWebIdentity,
    /// Static keys from the integration config.
    StaticCredential,
    /// The ambient default chain (env, profile, container/instance role).
    AssumeRole,
}

/// AWS partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    /// `aws`
    Aws,
    /// `aws-us-gov`
    AwsUsGov,
    /// `aws-cn`
    AwsCn,
}

impl Partition {
    /// The partition's name as used in ARNs.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsUsGov => "aws-us-gov",
            Partition::AwsCn => "aws-cn",
        }
    }

    fn parse(s: &str) -> Option<Partition> {
        match s {
            "aws" => Some(Partition::Aws),
            "aws-us-gov" => Some(Partition::AwsUsGov),
            "aws-cn" => Some(Partition::AwsCn),
            _ => None,
        }
    }

    /// The region STS and Organizations are called in when none is configured.
    pub(crate) fn default_region(self) -> &'static str {
        match self {
            Partition::Aws => "us-east-1",
            Partition::AwsUsGov => "us-gov-west-1",
            Partition::AwsCn => "cn-north-1",
        }
    }
}

/// The integration config of aws-v3 (`OCEAN__INTEGRATION__CONFIG__*`).
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// Organizations mode: the role assumed to list accounts; its name is reused per member.
    pub(crate) account_role_arn: Option<String>,
    /// Multi-account mode: exactly these roles.
    pub(crate) account_role_arns: Vec<String>,
    /// Sent as `ExternalId` on every `sts:AssumeRole`.
    pub(crate) external_id: Option<SecretString>,
    /// Organizations mode: only accounts under these OUs (recursively).
    pub(crate) ou_ids: Vec<String>,
    /// Organizations mode: when the organization cannot be listed, sync the org role's own
    /// account alone instead of failing the run (aws-v3 always does this, silently).
    pub(crate) organizations_fallback_to_single_account: bool,
    /// Static base credentials.
    pub(crate) static_keys: Option<StaticKeys>,
    /// Order in which base credential providers are considered.
    pub(crate) credential_provider_priority: Vec<CredentialProvider>,
    /// Resolved partition.
    pub partition: Partition,
    /// Accounts processed at once (role assumption and collection).
    pub(crate) max_concurrent_accounts: usize,
    /// Regions listed at once per account.
    pub(crate) max_concurrent_regions: usize,
    /// How long before expiry assumed-role credentials are renewed.
    pub(crate) credential_refresh_margin: Duration,
    /// Requests per second per (account, AWS service), when set.
    pub(crate) max_requests_per_second: Option<u32>,
    /// Timeout of one attempt of an AWS call (connect, send, read the answer).
    pub(crate) attempt_timeout: Duration,
    /// Timeout of an AWS call with all its retries.
    pub(crate) operation_timeout: Duration,
}

/// The self-service actions the long-running mode serves (`daemon::actions`).
#[derive(Debug, Clone)]
pub(crate) struct ActionSettings {
    /// `OCEAN__BASE_URL`: this daemon's public URL (Ocean's setting for it), without a
    /// trailing slash; Port delivers action webhooks to `{base}{prefix}/actions/...`.
    pub(crate) base_url: Option<String>,
    /// `OCEAN__INTEGRATION__CONFIG__ACCOUNT_CREATION_ROLE_ARN`: the management-account role
    /// allowed to create accounts. Unset, "create an AWS account" answers 404.
    pub(crate) account_creation_role_arn: Option<String>,
    /// `…__CREATE_READ_ROLE`: after creating an account, create in it the role the sync
    /// assumes (Organizations mode), so the next resync covers it.
    pub(crate) create_read_role: bool,
    /// `…__ACCOUNT_CREATION_TIMEOUT_MINUTES`: how long a creation is followed before its run
    /// is left to the next start (it is never marked failed for being slow).
    pub(crate) account_creation_timeout: Duration,
    /// `…__ACCOUNT_CREATION_POLL_SECONDS`: the first wait between two status reads (then
    /// doubling, at most a minute).
    pub(crate) account_creation_poll: Duration,
    /// `…__ACTION_WORKERS`: action runs worked on at once.
    pub(crate) workers: usize,
    /// `…__ACTION_SIGNATURE_TOLERANCE_SECONDS`: how far `x-port-timestamp` may be from now.
    pub(crate) signature_tolerance: Duration,
}

/// Static AWS keys from the integration config.
#[derive(Debug, Clone)]
pub(crate) struct StaticKeys {
    /// `aws_access_key_id`.
    pub(crate) access_key_id: SecretString,
    /// `aws_secret_access_key`.
    pub(crate) secret_access_key: SecretString,
    /// `aws_session_token`.
    pub(crate) session_token: Option<SecretString>,
}

impl Settings {
    /// Loads settings from the process environment, `.env` and `config.yaml`.
    pub fn load() -> Result<Settings, ConfigError> {
        Settings::from_sources(&Sources::from_process()?)
    }

    /// Loads settings from explicit sources.
    pub fn from_sources(sources: &Sources) -> Result<Settings, ConfigError> {
        let tree = sources.merged()?;
        let mut r = Reader::new(&tree);
        let settings = Settings::read(&mut r, sources)?;
        let unknown_keys = r.unknown();
        Ok(Settings {
            unknown_keys,
            ..settings
        })
    }

    /// Every secret these settings hold (to keep them out of what mappings see and log).
    pub(crate) fn secrets(&self) -> Vec<&SecretString> {
        let mut out = vec![&self.port.client_id, &self.port.client_secret];
        out.extend(&self.aws.external_id);
        if let Some(keys) = &self.aws.static_keys {
            out.extend([&keys.access_key_id, &keys.secret_access_key]);
            out.extend(&keys.session_token);
        }
        out
    }

    fn read(r: &mut Reader, sources: &Sources) -> Result<Settings, ConfigError> {
        let client_id = r.required_secret("port.client_id", "the Port client ID")?;
        let client_secret = r.required_secret("port.client_secret", "the Port client secret")?;
        let base_url = r
            .string("port.base_url")?
            .unwrap_or_else(|| "https://api.getport.io".into());
        let base_url = parse_base_url(&base_url)?;
        let request_timeout =
            Duration::from_secs(r.u64_in("port.request_timeout", 1..=3600)?.unwrap_or(60));
        let max_in_flight = r.u64_in("port.max_in_flight", 1..=64)?.unwrap_or(8) as usize;
        let rate_limit = r
            .u64_in("port.rate_limit", 0..=100_000)?
            .filter(|n| *n > 0)
            .map(|n| n as u32);

        let integration_type = r
            .string("integration.type")?
            .unwrap_or_else(|| "aws-v3".into());
        let identifier = r
            .string("integration.identifier")?
            .unwrap_or_else(|| format!("my-{integration_type}-integration"));
        if identifier.is_empty() || identifier.contains(['/', ' ']) {
            return Err(ConfigError::Invalid {
                key: sources::env_name("integration.identifier"),
                expected: "a non-empty identifier without spaces or '/'".into(),
                got: format!("{identifier:?}"),
            });
        }

        let event_listener = read_listener(r)?;
        let initialize_port_resources = r.bool("initialize_port_resources")?.unwrap_or(true);
        let send_raw_data_examples = r.bool("send_raw_data_examples")?.unwrap_or(true);
        let dry_run = r.bool("dry_run")?.unwrap_or(false);
        let allow_environment_variables_jq_access = r
            .bool("allow_environment_variables_jq_access")?
            .unwrap_or(true);
        // From one second to a year: a zero or huge interval cannot be scheduled.
        let scheduled_resync_interval = r.minutes(
            "scheduled_resync_interval",
            1.0 / 60.0..=525_600.0,
            "a number of minutes from 0.0167 (one second) to 525600 (a year)",
        )?;
        let path_prefix = r
            .string("path_prefix")?
            .map(|p| format!("/{}", p.trim_matches('/')))
            .filter(|p| p != "/")
            .unwrap_or_default();
        let resync_timeout_minutes = r.minutes(
            "resync_timeout_minutes",
            0.0..=525_600.0,
            "a number of minutes from 0 (off) to 525600 (a year)",
        )?;
        check_path_prefix(&path_prefix)?;
        let http_host = read_http_host(sources)?;
        let resync_secret = match r.string("resync_secret") {
            Ok(v) => v
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .map(SecretString::from),
            // Never echo a secret's value back, even a malformed one.
            Err(_) => {
                return Err(ConfigError::Invalid {
                    key: sources::env_name("resync_secret"),
                    expected: "a string".into(),
                    got: "another type".into(),
                });
            }
        };
        let aws = read_aws(r, sources)?;
        let actions = read_actions(r)?;
        Ok(Settings {
            port: PortSettings {
                client_id,
                client_secret,
                base_url,
                request_timeout,
                max_in_flight,
                rate_limit,
            },
            integration: IntegrationSettings {
                identifier,
                integration_type,
            },
            event_listener,
            initialize_port_resources,
            send_raw_data_examples,
            dry_run,
            allow_environment_variables_jq_access,
            scheduled_resync_interval,
            path_prefix,
            resync_timeout_minutes,
            http_host,
            resync_secret,
            aws,
            actions,
            unknown_keys: Vec::new(),
        })
    }
}

/// The whole-run deadline when unset in the long-running mode: a hung run must not block
/// the single runner forever, and a resync of a large organization takes minutes, not hours.
const DEFAULT_DAEMON_RESYNC_TIMEOUT: Duration = Duration::from_secs(4 * 3600);

impl Settings {
    /// The whole-run deadline: `OCEAN__RESYNC_TIMEOUT_MINUTES` (0 turns it off); unset, none
    /// for a one-shot run (its caller, a CronJob or a shell, has its own) and 4 hours in the
    /// long-running mode.
    pub(crate) fn resync_deadline(&self, long_running: bool) -> Option<Duration> {
        match self.resync_timeout_minutes {
            Some(m) if m > 0.0 => Some(Duration::from_secs_f64(m * 60.0)),
            Some(_) => None,
            None if long_running => Some(DEFAULT_DAEMON_RESYNC_TIMEOUT),
            None => None,
        }
    }
}

fn parse_base_url(raw: &str) -> Result<String, ConfigError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/v1").unwrap_or(trimmed);
    let ok = (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
        && trimmed.split("://").nth(1).is_some_and(|h| !h.is_empty());
    if !ok {
        return Err(ConfigError::Invalid {
            key: sources::env_name("port.base_url"),
            expected: "an http(s) URL such as https://api.getport.io".into(),
            got: format!("{raw:?}"),
        });
    }
    Ok(trimmed.to_string())
}

/// Plain URL path segments only: the prefix becomes part of the router's routes, where
/// `{` or `*` would be parameters.
fn check_path_prefix(prefix: &str) -> Result<(), ConfigError> {
    let ok = prefix.split('/').skip(1).all(|segment| {
        !segment.is_empty()
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    });
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            key: sources::env_name("path_prefix"),
            expected:
                "a URL path such as /aws (letters, digits, '-', '.', '_', '~' between slashes)"
                    .into(),
            got: format!("{prefix:?}"),
        })
    }
}

/// `APPLICATION__HOST` (an `APPLICATION__` setting like Ocean's `APPLICATION__PORT`, so it
/// is read from the environment or `.env`, not from the `OCEAN__` tree).
fn read_http_host(sources: &Sources) -> Result<std::net::IpAddr, ConfigError> {
    match sources.var("APPLICATION__HOST").map(str::trim) {
        None | Some("") => Ok(std::net::Ipv4Addr::UNSPECIFIED.into()),
        Some("localhost") => Ok(std::net::Ipv4Addr::LOCALHOST.into()),
        Some(host) => host.parse().map_err(|_| ConfigError::Invalid {
            key: "APPLICATION__HOST".into(),
            expected: "an IP address to listen on, such as 0.0.0.0, 127.0.0.1 or ::".into(),
            got: format!("{host:?}"),
        }),
    }
}

fn read_listener(r: &mut Reader) -> Result<EventListener, ConfigError> {
    let kind = match r.string("event_listener.type")?.as_deref() {
        None => ListenerKind::Polling,
        Some(s) => match s.to_ascii_uppercase().as_str() {
            "POLLING" => ListenerKind::Polling,
            "ONCE" => ListenerKind::Once,
            "WEBHOOK" => ListenerKind::Webhook,
            "KAFKA" => ListenerKind::Kafka,
            "WEBHOOKS_ONLY" => ListenerKind::WebhooksOnly,
            "ACTIONS_ONLY" => ListenerKind::ActionsOnly,
            other => {
                return Err(ConfigError::Invalid {
                    key: sources::env_name("event_listener.type"),
                    expected: "one of POLLING, ONCE, WEBHOOK, KAFKA, WEBHOOKS_ONLY, ACTIONS_ONLY"
                        .into(),
                    got: format!("{other:?}"),
                });
            }
        },
    };
    Ok(EventListener {
        kind,
        interval_secs: r
            .u64_in("event_listener.interval", 1..=86_400)?
            .unwrap_or(60),
        resync_on_start: r.bool("event_listener.resync_on_start")?.unwrap_or(true),
    })
}

fn read_aws(r: &mut Reader, sources: &Sources) -> Result<AwsSettings, ConfigError> {
    // Port's Docker guide passes the AWS keys as OCEAN__INTEGRATION__SECRETS__*; the Helm
    // chart maps `integration.secrets.x` to OCEAN__INTEGRATION__CONFIG__X. Accept both,
    // `config` winning.
    let cfg = |r: &mut Reader, key: &str| -> Result<Option<String>, ConfigError> {
        match r.string(&format!("integration.config.{key}"))? {
            Some(v) => Ok(Some(v)),
            None => r.string(&format!("integration.secrets.{key}")),
        }
    };
    let non_empty = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());

    let account_role_arn = non_empty(cfg(r, "account_role_arn")?);
    if let Some(arn) = &account_role_arn {
        check_role_arn(arn, "integration.config.account_role_arn")?;
    }
    let account_role_arns = r.string_list("integration.config.account_role_arns")?;
    for arn in &account_role_arns {
        check_role_arn(arn, "integration.config.account_role_arns")?;
    }
    let external_id = non_empty(cfg(r, "external_id")?).map(SecretString::from);
    let mut ou_ids: Vec<String> = Vec::new();
    for ou in non_empty(cfg(r, "ou_id")?).unwrap_or_default().split(',') {
        let ou = ou.trim();
        if !ou.is_empty() && !ou_ids.iter().any(|o| o == ou) {
            ou_ids.push(ou.to_string());
        }
    }
    let organizations_fallback_to_single_account = r
        .bool("integration.config.organizations_fallback_to_single_account")?
        .unwrap_or(false);
    let access_key = non_empty(cfg(r, "aws_access_key_id")?);
    let secret_key = non_empty(cfg(r, "aws_secret_access_key")?);
    let session_token = non_empty(cfg(r, "aws_session_token")?);
    let static_keys = match (access_key, secret_key) {
        (Some(a), Some(s)) => Some(StaticKeys {
            access_key_id: a.into(),
            secret_access_key: s.into(),
            session_token: session_token.map(SecretString::from),
        }),
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => {
            return Err(ConfigError::Invalid {
                key: sources::env_name("integration.config.aws_secret_access_key"),
                expected: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to be set together".into(),
                got: "only one of them".into(),
            });
        }
    };
    let priority_raw = cfg(r, "credential_provider_priority")?
        .unwrap_or_else(|| "AssumeRoleWithWebIdentity,StaticCredential,AssumeRole".into());
    let mut credential_provider_priority = Vec::new();
    for name in priority_raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let p = match name {
            "AssumeRoleWithWebIdentity" => CredentialProvider::AssumeRoleWithWebIdentity,
            "StaticCredential" => CredentialProvider::StaticCredential,
            "AssumeRole" => CredentialProvider::AssumeRole,
            other => {
                return Err(ConfigError::Invalid {
                    key: sources::env_name("integration.config.credential_provider_priority"),
                    expected: "a comma-separated list of AssumeRoleWithWebIdentity, StaticCredential, AssumeRole".into(),
                    got: format!("{other:?}"),
                });
            }
        };
        credential_provider_priority.push(p);
    }
    let partition = match non_empty(cfg(r, "aws_partition")?) {
        Some(p) => Partition::parse(&p).ok_or_else(|| ConfigError::Invalid {
            key: sources::env_name("integration.config.aws_partition"),
            expected: "aws, aws-us-gov or aws-cn".into(),
            got: format!("{p:?}"),
        })?,
        None => account_role_arn
            .as_deref()
            .or(account_role_arns.first().map(String::as_str))
            .and_then(|arn| arn.split(':').nth(1))
            .and_then(Partition::parse)
            .unwrap_or(Partition::Aws),
    };
    let _ = sources;
    // No AWS call may hang a run: one attempt, and one call with its retries, are bounded.
    let attempt_timeout = Duration::from_secs(
        r.u64_in("integration.config.aws_attempt_timeout_seconds", 1..=3600)?
            .unwrap_or(60),
    );
    let operation_timeout = Duration::from_secs(
        r.u64_in(
            "integration.config.aws_operation_timeout_seconds",
            1..=86_400,
        )?
        .unwrap_or(300),
    );
    if operation_timeout < attempt_timeout {
        return Err(ConfigError::Invalid {
            key: sources::env_name("integration.config.aws_operation_timeout_seconds"),
            expected: format!(
                "at least {}, the attempt timeout (OCEAN__INTEGRATION__CONFIG__AWS_ATTEMPT_TIMEOUT_SECONDS)",
                attempt_timeout.as_secs()
            ),
            got: operation_timeout.as_secs().to_string(),
        });
    }
    Ok(AwsSettings {
        account_role_arn,
        account_role_arns,
        external_id,
        ou_ids,
        organizations_fallback_to_single_account,
        static_keys,
        credential_provider_priority,
        partition,
        // aws-v3's default. More accounts at once buy no wall time once AWS (or moto) is
        // the bottleneck, and each one in flight holds its responses: 10 cost 7 MiB more
        // peak RSS at 41 accounts for the same wall time (docs/performance.md).
        max_concurrent_accounts: r
            .u64_in("integration.config.max_concurrent_accounts", 1..=256)?
            .unwrap_or(5) as usize,
        max_concurrent_regions: r
            .u64_in("integration.config.max_concurrent_regions", 1..=64)?
            .unwrap_or(10) as usize,
        // AssumeRole grants one hour; a margin of more than half of it would renew more often
        // than the credentials are used, and one close to the hour on every call.
        credential_refresh_margin: Duration::from_secs(
            r.u64_in(
                "integration.config.credential_refresh_margin_seconds",
                0..=1800,
            )?
            .unwrap_or(300),
        ),
        max_requests_per_second: r
            .u64_in("integration.config.max_requests_per_second", 0..=10_000)?
            .filter(|n| *n > 0)
            .map(|n| n as u32),
        attempt_timeout,
        operation_timeout,
    })
}

fn read_actions(r: &mut Reader) -> Result<ActionSettings, ConfigError> {
    let base_url = match r.string("base_url")? {
        Some(raw) if !raw.trim().is_empty() => {
            let url = raw.trim().trim_end_matches('/').to_string();
            let host = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            if host.is_none_or(|h| h.is_empty() || h.contains(char::is_whitespace)) {
                return Err(ConfigError::Invalid {
                    key: sources::env_name("base_url"),
                    expected:
                        "this daemon's public http(s) URL, such as https://aws-sync.example.com"
                            .into(),
                    got: format!("{raw:?}"),
                });
            }
            Some(url)
        }
        _ => None,
    };
    let account_creation_role_arn = r
        .string("integration.config.account_creation_role_arn")?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(arn) = &account_creation_role_arn {
        check_role_arn(arn, "integration.config.account_creation_role_arn")?;
    }
    Ok(ActionSettings {
        base_url,
        account_creation_role_arn,
        create_read_role: r
            .bool("integration.config.create_read_role")?
            .unwrap_or(true),
        account_creation_timeout: Duration::from_secs(
            60 * r
                .u64_in(
                    "integration.config.account_creation_timeout_minutes",
                    1..=1440,
                )?
                .unwrap_or(60),
        ),
        account_creation_poll: Duration::from_secs(
            r.u64_in("integration.config.account_creation_poll_seconds", 1..=300)?
                .unwrap_or(5),
        ),
        workers: r
            .u64_in("integration.config.action_workers", 1..=32)?
            .unwrap_or(2) as usize,
        signature_tolerance: Duration::from_secs(
            r.u64_in(
                "integration.config.action_signature_tolerance_seconds",
                1..=86_400,
            )?
            .unwrap_or(300),
        ),
    })
}

/// An IAM role ARN: `arn:<partition>:iam::<12 digits>:role/<path/>name`.
fn check_role_arn(arn: &str, path: &str) -> Result<(), ConfigError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && Partition::parse(parts[1]).is_some()
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with("role/")
        && parts[5].len() > "role/".len();
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            key: sources::env_name(path),
            expected: "an IAM role ARN like arn:aws:iam::123456789012:role/PortOceanReadRole"
                .into(),
            got: format!("{arn:?}"),
        })
    }
}

/// Typed access to the merged settings tree, remembering which keys were read so that the
/// rest can be reported as unknown.
struct Reader<'a> {
    tree: &'a Value,
    used: BTreeSet<String>,
}

impl<'a> Reader<'a> {
    fn new(tree: &'a Value) -> Self {
        Reader {
            tree,
            used: BTreeSet::new(),
        }
    }

    fn get(&mut self, path: &str) -> Option<&'a Value> {
        self.used.insert(path.to_string());
        let mut node = self.tree;
        for seg in path.split('.') {
            node = node.get(seg)?;
        }
        (!node.is_null()).then_some(node)
    }

    fn invalid(path: &str, expected: &str, got: &Value) -> ConfigError {
        let got = match got {
            Value::String(s) => format!("{s:?}"),
            Value::Object(_) => "an object".into(),
            Value::Array(_) => "a list".into(),
            other => other.to_string(),
        };
        ConfigError::Invalid {
            key: sources::env_name(path),
            expected: expected.into(),
            got,
        }
    }

    fn string(&mut self, path: &str) -> Result<Option<String>, ConfigError> {
        match self.get(path) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(v.to_string())),
            Some(v) => Err(Self::invalid(path, "a string", v)),
        }
    }

    fn required_secret(&mut self, path: &str, what: &str) -> Result<SecretString, ConfigError> {
        match self.string(path) {
            Ok(Some(s)) if !s.trim().is_empty() => Ok(SecretString::from(s.trim().to_string())),
            Ok(_) => Err(ConfigError::Missing {
                key: sources::env_name(path),
                what: what.into(),
            }),
            // Never echo a secret's value back, even a malformed one.
            Err(_) => Err(ConfigError::Invalid {
                key: sources::env_name(path),
                expected: "a string".into(),
                got: "another type".into(),
            }),
        }
    }

    fn bool(&mut self, path: &str) -> Result<Option<bool>, ConfigError> {
        match self.get(path) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            // pydantic v1's boolean parsing.
            Some(v @ Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" | "y" | "t" => Ok(Some(true)),
                "false" | "0" | "no" | "off" | "n" | "f" => Ok(Some(false)),
                _ => Err(Self::invalid(path, "a boolean (true or false)", v)),
            },
            Some(Value::Number(n)) if n.as_u64() == Some(1) => Ok(Some(true)),
            Some(Value::Number(n)) if n.as_u64() == Some(0) => Ok(Some(false)),
            Some(v) => Err(Self::invalid(path, "a boolean (true or false)", v)),
        }
    }

    fn u64_in(
        &mut self,
        path: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Option<u64>, ConfigError> {
        let expected = format!("a whole number from {} to {}", range.start(), range.end());
        let n = match self.get(path) {
            None => return Ok(None),
            Some(v @ Value::Number(n)) => n
                .as_u64()
                .ok_or_else(|| Self::invalid(path, &expected, v))?,
            Some(v @ Value::String(s)) => s
                .trim()
                .parse::<u64>()
                .map_err(|_| Self::invalid(path, &expected, v))?,
            Some(v) => return Err(Self::invalid(path, &expected, v)),
        };
        if range.contains(&n) {
            Ok(Some(n))
        } else {
            Err(Self::invalid(path, &expected, &Value::from(n)))
        }
    }

    /// A number of minutes (fractions allowed) in `range`, at most a year.
    fn minutes(
        &mut self,
        path: &str,
        range: std::ops::RangeInclusive<f64>,
        expected: &str,
    ) -> Result<Option<f64>, ConfigError> {
        let n = match self.get(path) {
            None => return Ok(None),
            Some(v @ Value::Number(n)) => {
                n.as_f64().ok_or_else(|| Self::invalid(path, expected, v))?
            }
            Some(v @ Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .map_err(|_| Self::invalid(path, expected, v))?,
            Some(v) => return Err(Self::invalid(path, expected, v)),
        };
        if n.is_finite() && range.contains(&n) {
            Ok(Some(n))
        } else {
            Err(Self::invalid(path, expected, &Value::from(n)))
        }
    }

    /// A list of strings: a JSON array, or (as Ocean's docs sometimes show) a
    /// comma-separated string.
    fn string_list(&mut self, path: &str) -> Result<Vec<String>, ConfigError> {
        let items = match self.get(path) {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items.clone(),
            Some(Value::String(s)) => s.split(',').map(|p| Value::from(p.trim())).collect(),
            Some(v) => {
                return Err(Self::invalid(path, "a JSON array of strings", v));
            }
        };
        let mut out = Vec::new();
        for item in items {
            match item {
                Value::String(s) if s.trim().is_empty() => {}
                Value::String(s) => out.push(s.trim().to_string()),
                other => return Err(Self::invalid(path, "a JSON array of strings", &other)),
            }
        }
        Ok(out)
    }

    /// Leaf keys present in the tree that were neither read nor are known Ocean settings.
    fn unknown(&self) -> Vec<String> {
        let mut leaves = Vec::new();
        collect_leaves(self.tree, String::new(), &mut leaves);
        leaves
            .into_iter()
            .filter(|leaf| !self.used.contains(leaf) && !known::is_known(leaf))
            .map(|leaf| {
                let name = sources::env_name(&leaf);
                match known::suggest(&leaf, self.used.iter().map(String::as_str)) {
                    Some(s) => format!("{name} (did you mean {}?)", sources::env_name(&s)),
                    None => name,
                }
            })
            .collect()
    }
}

fn collect_leaves(node: &Value, prefix: String, out: &mut Vec<String>) {
    match node {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                collect_leaves(v, path, out);
            }
        }
        _ if !prefix.is_empty() => out.push(prefix),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn load(env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let mut all = vec![
            ("OCEAN__PORT__CLIENT_ID", "id"),
            ("OCEAN__PORT__CLIENT_SECRET", "sekrit-value"),
        ];
        all.extend_from_slice(env);
        Settings::from_sources(&Sources {
            env: all
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Sources::default()
        })
    }

    #[test]
    fn ocean_defaults_apply() {
        let s = load(&[]).unwrap();
        assert_eq!(s.port.base_url, "https://api.getport.io");
        assert_eq!(s.integration.integration_type, "aws-v3");
        assert_eq!(s.integration.identifier, "my-aws-v3-integration");
        assert_eq!(s.event_listener.kind, ListenerKind::Polling);
        assert!(s.initialize_port_resources);
        assert!(s.send_raw_data_examples);
        assert_eq!(s.aws.partition, Partition::Aws);
        assert_eq!(
            s.aws.max_concurrent_accounts, 5,
            "aws-v3's maxConcurrentAccounts"
        );
        assert!(s.unknown_keys.is_empty(), "{:?}", s.unknown_keys);
    }

    #[test]
    fn listener_as_json_or_nested() {
        let a = load(&[("OCEAN__EVENT_LISTENER", r#"{"type":"ONCE"}"#)]).unwrap();
        let b = load(&[("OCEAN__EVENT_LISTENER__TYPE", "once")]).unwrap();
        assert_eq!(a.event_listener.kind, ListenerKind::Once);
        assert_eq!(a.event_listener, b.event_listener);
    }

    #[test]
    fn aws_keys_parse() {
        let s = load(&[
            (
                "OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARN",
                "arn:aws-us-gov:iam::123456789012:role/Read",
            ),
            ("OCEAN__INTEGRATION__CONFIG__OU_ID", "ou-a, ou-b,ou-a,"),
            ("OCEAN__INTEGRATION__CONFIG__EXTERNAL_ID", "ext"),
            ("OCEAN__INTEGRATION__SECRETS__AWS_ACCESS_KEY_ID", "AKIA"),
            ("OCEAN__INTEGRATION__CONFIG__AWS_SECRET_ACCESS_KEY", "sk"),
        ])
        .unwrap();
        assert_eq!(s.aws.ou_ids, vec!["ou-a", "ou-b"]);
        assert_eq!(s.aws.partition, Partition::AwsUsGov);
        assert_eq!(s.aws.external_id.unwrap().expose_secret(), "ext");
        assert!(s.aws.static_keys.is_some());
        let s = load(&[(
            "OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARNS",
            r#"["arn:aws:iam::111111111111:role/R", " "]"#,
        )])
        .unwrap();
        assert_eq!(
            s.aws.account_role_arns,
            vec!["arn:aws:iam::111111111111:role/R"]
        );
    }

    #[test]
    fn invalid_values_name_the_env_var() {
        for (key, value, expected) in [
            ("OCEAN__INITIALIZE_PORT_RESOURCES", "maybe", "boolean"),
            ("OCEAN__EVENT_LISTENER__TYPE", "SOMETIMES", "ONCE"),
            (
                "OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARN",
                "not-an-arn",
                "role ARN",
            ),
            (
                "OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARNS",
                "[1]",
                "array",
            ),
            ("OCEAN__PORT__BASE_URL", "api.getport.io", "http"),
            (
                "OCEAN__INTEGRATION__CONFIG__AWS_PARTITION",
                "mars",
                "aws-cn",
            ),
            (
                "OCEAN__INTEGRATION__CONFIG__MAX_CONCURRENT_ACCOUNTS",
                "0",
                "whole number",
            ),
        ] {
            let err = load(&[(key, value)]).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
            assert!(err.contains(expected), "{key}: {err}");
        }
        let err = Settings::from_sources(&Sources::default()).unwrap_err();
        assert!(err.to_string().contains("OCEAN__PORT__CLIENT_ID"));
    }

    #[test]
    fn unknown_keys_are_reported_with_suggestions_and_ocean_keys_are_not() {
        let s = load(&[
            ("OCEAN__INTEGRATION__CONFIG__ACOUNT_ROLE_ARN", "x"),
            ("OCEAN__PORT__PORT_APP_CONFIG_CACHE_TTL", "60"),
            ("OCEAN__EVENT_LISTENER", r#"{"type":"KAFKA","brokers":"b"}"#),
        ])
        .unwrap();
        assert_eq!(s.unknown_keys.len(), 1, "{:?}", s.unknown_keys);
        assert!(s.unknown_keys[0].contains("OCEAN__INTEGRATION__CONFIG__ACOUNT_ROLE_ARN"));
        assert!(
            s.unknown_keys[0].contains("did you mean OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARN")
        );
    }

    #[test]
    fn http_settings() {
        let s = load(&[]).unwrap();
        assert_eq!(s.http_host.to_string(), "0.0.0.0");
        assert!(s.resync_secret.is_none());
        assert_eq!(s.path_prefix, "");
        let s = load(&[
            ("APPLICATION__HOST", "127.0.0.1"),
            ("OCEAN__RESYNC_SECRET", " shared "),
            ("OCEAN__PATH_PREFIX", "aws/v3/"),
        ])
        .unwrap();
        assert_eq!(s.http_host.to_string(), "127.0.0.1");
        assert_eq!(s.resync_secret.unwrap().expose_secret(), "shared");
        assert_eq!(s.path_prefix, "/aws/v3");
        assert!(s.unknown_keys.is_empty(), "{:?}", s.unknown_keys);
        for (key, value) in [
            ("APPLICATION__HOST", "example.com"),
            ("OCEAN__PATH_PREFIX", "/{id}"),
            ("OCEAN__PATH_PREFIX", "/aws/*rest"),
            ("OCEAN__PATH_PREFIX", "/a//b"),
            ("OCEAN__PATH_PREFIX", "/a b"),
        ] {
            let err = load(&[(key, value)]).unwrap_err().to_string();
            assert!(err.contains(key), "{key}={value}: {err}");
        }
        let err = load(&[("OCEAN__RESYNC_SECRET", r#"{"s":"leak-sentinel"}"#)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("OCEAN__RESYNC_SECRET") && !err.contains("leak-sentinel"));
    }

    #[test]
    fn action_settings() {
        let s = load(&[]).unwrap();
        assert_eq!(s.actions.base_url, None);
        assert_eq!(s.actions.account_creation_role_arn, None);
        assert!(s.actions.create_read_role);
        assert_eq!(s.actions.workers, 2);
        assert_eq!(s.actions.signature_tolerance, Duration::from_secs(300));
        assert_eq!(
            s.actions.account_creation_timeout,
            Duration::from_secs(3600)
        );
        let s = load(&[
            ("OCEAN__BASE_URL", "https://sync.example.com/"),
            (
                "OCEAN__INTEGRATION__CONFIG__ACCOUNT_CREATION_ROLE_ARN",
                "arn:aws:iam::123456789012:role/Creator",
            ),
            ("OCEAN__INTEGRATION__CONFIG__CREATE_READ_ROLE", "false"),
            ("OCEAN__INTEGRATION__CONFIG__ACTION_WORKERS", "4"),
        ])
        .unwrap();
        assert_eq!(
            s.actions.base_url.as_deref(),
            Some("https://sync.example.com")
        );
        assert!(!s.actions.create_read_role);
        assert_eq!(s.actions.workers, 4);
        assert!(s.unknown_keys.is_empty(), "{:?}", s.unknown_keys);
        for (key, value) in [
            ("OCEAN__BASE_URL", "sync.example.com"),
            ("OCEAN__BASE_URL", "https://"),
            (
                "OCEAN__INTEGRATION__CONFIG__ACCOUNT_CREATION_ROLE_ARN",
                "Creator",
            ),
            ("OCEAN__INTEGRATION__CONFIG__ACTION_WORKERS", "0"),
            (
                "OCEAN__INTEGRATION__CONFIG__ACTION_SIGNATURE_TOLERANCE_SECONDS",
                "x",
            ),
            (
                "OCEAN__INTEGRATION__CONFIG__ACCOUNT_CREATION_TIMEOUT_MINUTES",
                "0",
            ),
        ] {
            let err = load(&[(key, value)]).unwrap_err().to_string();
            assert!(err.contains(key), "{key}={value}: {err}");
        }
    }

    #[test]
    fn debug_redacts_secrets() {
        let s = load(&[
            ("OCEAN__INTEGRATION__CONFIG__EXTERNAL_ID", "ext-sentinel"),
            ("OCEAN__RESYNC_SECRET", "resync-sentinel"),
            (
                "OCEAN__INTEGRATION__CONFIG__AWS_ACCESS_KEY_ID",
                "AKIA-sentinel",
            ),
            (
                "OCEAN__INTEGRATION__CONFIG__AWS_SECRET_ACCESS_KEY",
                "sk-sentinel",
            ),
        ])
        .unwrap();
        let dbg = format!("{s:?}");
        for secret in [
            "sekrit-value",
            "ext-sentinel",
            "AKIA-sentinel",
            "sk-sentinel",
            "resync-sentinel",
        ] {
            assert!(!dbg.contains(secret), "{secret} leaked in {dbg}");
        }
    }
}
