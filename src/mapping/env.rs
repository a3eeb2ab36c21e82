//! The environment a mapping sees as `env` and `$ENV`.
//!
//! Ocean hands JQ the whole process environment when `allowEnvironmentVariablesJqAccess`
//! is on, its default, kept here: mappings do read variables (a cluster name, a stage).
//! But the whole environment includes the integration's own credentials, so a mapping
//! could copy `env.OCEAN__PORT__CLIENT_SECRET` into an entity, or make a jq error quote
//! it into the logs. The mapping sees the environment **minus this program's secrets**:
//!
//! - by name (case-insensitive): the Port client ID and secret, every
//!   `OCEAN__INTEGRATION__SECRETS__*`, the AWS keys, session token and external ID under
//!   `OCEAN__INTEGRATION__CONFIG__*`, and the AWS SDK's own `AWS_ACCESS_KEY_ID`,
//!   `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_SECURITY_TOKEN` and
//!   `AWS_CONTAINER_AUTHORIZATION_TOKEN`;
//! - by value: any variable whose value is one of those secrets, or one of the secrets
//!   the settings loaded from elsewhere ([`hide`]: `.env`, `config.yaml`), or contains
//!   one of at least [`MIN_CONTAINED`] characters (a JSON `OCEAN__PORT={…}` value, a
//!   copy under another name).
//!
//! Variables whose name or value is not UTF-8 are left out (jq strings are text).
//!
//! The same secret values are scrubbed from jq error messages ([`scrub`]) before they are
//! logged, whichever way a value reached the expression.

use std::sync::{LazyLock, PoisonError, RwLock};

use jaq_json::Val;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

/// Secrets at least this long are also looked for inside other values; shorter ones only
/// hide a variable that equals them (a substring match on a short value hides too much).
pub const MIN_CONTAINED: usize = 8;

/// Names that hold this program's credentials, upper case.
const SECRET_NAMES: &[&str] = &[
    "OCEAN__PORT__CLIENT_ID",
    "OCEAN__PORT__CLIENT_SECRET",
    "OCEAN__INTEGRATION__CONFIG__AWS_ACCESS_KEY_ID",
    "OCEAN__INTEGRATION__CONFIG__AWS_SECRET_ACCESS_KEY",
    "OCEAN__INTEGRATION__CONFIG__AWS_SESSION_TOKEN",
    "OCEAN__INTEGRATION__CONFIG__EXTERNAL_ID",
    "OCEAN__INTEGRATION__SECRETS",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
];

/// Every variable under this prefix is a secret (the Helm chart's `integration.secrets`).
const SECRET_PREFIX: &str = "OCEAN__INTEGRATION__SECRETS__";

/// What the mappings may see, and the secrets kept from them; rebuilt by [`hide`].
struct Shown {
    /// `env` / `$ENV`.
    env: Val,
    /// Secret values (of at least [`MIN_CONTAINED`] characters) to scrub from messages.
    secrets: Vec<SecretString>,
}

static SHOWN: LazyLock<RwLock<Shown>> = LazyLock::new(|| RwLock::new(shown(&[])));

/// Whether `name` holds one of this program's secrets.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with(SECRET_PREFIX) || SECRET_NAMES.contains(&upper.as_str())
}

/// The variables of `vars` a mapping may see: neither a secret's name nor its value;
/// `secrets` are further secret values, read by the settings from other sources.
pub fn visible(vars: &[(String, String)], secrets: &[&str]) -> Vec<(String, String)> {
    let hidden = hidden_values(vars, secrets);
    let reveals = |value: &str| {
        let value = value.trim();
        hidden
            .iter()
            .any(|s| value == s || (s.chars().count() >= MIN_CONTAINED && value.contains(s)))
    };
    vars.iter()
        .filter(|(k, v)| !is_secret_name(k) && !reveals(v))
        .cloned()
        .collect()
}

/// `secrets` and the values of the secret-named variables of `vars`, each also as it
/// appears inside a JSON string (`OCEAN__PORT='{"clientSecret": "…"}'`).
fn hidden_values(vars: &[(String, String)], secrets: &[&str]) -> Vec<String> {
    let by_name = vars
        .iter()
        .filter(|(k, _)| is_secret_name(k))
        .map(|(_, v)| v.as_str());
    let mut hidden: Vec<String> = secrets
        .iter()
        .copied()
        .chain(by_name)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let escaped: Vec<String> = hidden
        .iter()
        .filter_map(|s| {
            let json = Value::String(s.clone()).to_string();
            let inner = &json[1..json.len() - 1];
            (inner != s).then(|| inner.to_string())
        })
        .collect();
    hidden.extend(escaped);
    hidden
}

/// `text` with every secret value of at least [`MIN_CONTAINED`] characters replaced by
/// `[redacted]`.
pub fn scrub(text: &str) -> String {
    let shown = SHOWN.read().unwrap_or_else(PoisonError::into_inner);
    let mut out = text.to_string();
    for secret in &shown.secrets {
        let secret = secret.expose_secret();
        if out.contains(secret) {
            out = out.replace(secret, "[redacted]");
        }
    }
    out
}

/// Hides `secrets` (the values the settings loaded, from any source) from the mappings'
/// environment and error messages too. Called once settings are known, before any
/// mapping runs.
pub fn hide<'a>(secrets: impl IntoIterator<Item = &'a SecretString>) {
    let secrets: Vec<&str> = secrets.into_iter().map(|s| s.expose_secret()).collect();
    *SHOWN.write().unwrap_or_else(PoisonError::into_inner) = shown(&secrets);
}

/// The `$ENV` object for one evaluation (a reference-counted clone).
pub(crate) fn current() -> Val {
    SHOWN
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .env
        .clone()
}

fn shown(secrets: &[&str]) -> Shown {
    let vars: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let map: serde_json::Map<String, Value> = visible(&vars, secrets)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let mut long: Vec<SecretString> = hidden_values(&vars, secrets)
        .into_iter()
        .filter(|s| s.chars().count() >= MIN_CONTAINED)
        .map(SecretString::from)
        .collect();
    // Longest first, so that a secret containing another is replaced whole.
    long.sort_by_key(|s| std::cmp::Reverse(s.expose_secret().len()));
    Shown {
        env: super::jq::to_val(&Value::Object(map)),
        secrets: long,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn names(v: Vec<(String, String)>) -> Vec<String> {
        v.into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn secrets_are_hidden_by_name_case_insensitively() {
        let env = vars(&[
            ("OCEAN__PORT__CLIENT_SECRET", "s1-very-secret"),
            ("ocean__port__client_id", "id-1234567"),
            ("OCEAN__INTEGRATION__SECRETS__API_KEY", "k-123456789"),
            ("Ocean__Integration__Config__External_Id", "ext-123456789"),
            (
                "OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARN",
                "arn:aws:iam::1:role/r",
            ),
            ("AWS_SESSION_TOKEN", "tok-123456789"),
            ("AWS_REGION", "eu-west-1"),
            ("STAGE", "prod"),
        ]);
        assert_eq!(
            names(visible(&env, &[])),
            vec![
                "OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARN",
                "AWS_REGION",
                "STAGE"
            ]
        );
    }

    #[test]
    fn copies_of_secrets_are_hidden_by_value() {
        let env = vars(&[
            ("OCEAN__PORT__CLIENT_SECRET", "s1-very-secret"),
            ("COPY", "s1-very-secret"),
            ("OCEAN__PORT", r#"{"clientSecret": "s1-very-secret"}"#),
            ("URL", "https://u:from-dotenv-secret@example.com"),
            ("QUOTED", r#"{"a": "q\"uoted-secret"}"#),
            ("SHORT", "abc"),
            ("CONTAINS_SHORT", "xabcx"),
            ("PLAIN", "hello"),
        ]);
        let shown = visible(&env, &["from-dotenv-secret", "abc", "q\"uoted-secret"]);
        assert_eq!(names(shown), vec!["CONTAINS_SHORT", "PLAIN"]);
    }
}
