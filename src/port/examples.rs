//! Raw data examples for Port's mapping editor.
//!
//! With `sendRawDataExamples` (Ocean's default: on), the first [`PER_KIND`] raw items of
//! each kind in a run go to `POST /v1/integration/{id}/kinds/{kind}/examples`, so users see
//! real data while writing JQ. Values that look sensitive are masked first: by key name
//! (password, secret, token, credential, private key…), in name/value pairs by the name
//! (`{"Key": "DB_PASSWORD", "Value": …}` tags, `{"name": …, "value": …}` environment
//! variables) and by shape (AWS access key ids, JWTs, PEM blocks). A failure is a warning:
//! examples are a convenience, never a reason to fail a resync.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::{Client, Feature, Retry};

/// Examples sent per kind and run.
pub(crate) const PER_KIND: usize = 5;

/// What masked values become.
pub(crate) const MASK: &str = "********";

/// Matched against keys lowercased and without `-`, `_`, `.` and spaces, so `DB_PASSWORD`,
/// `api-key` and `ApiKey` all match.
const SENSITIVE_KEY_PARTS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "credential",
    "accesskeyid",
    "connectionstring",
];

/// Name/value pair shapes (field names compared case-insensitively): AWS tags
/// (`Key`/`Value`, `key`/`value` in ECS), environment variables and settings
/// (`Name`/`Value`), CloudFormation parameters.
const PAIRS: &[(&str, &str)] = &[
    ("key", "value"),
    ("name", "value"),
    ("parameterkey", "parametervalue"),
];

fn sensitive_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    SENSITIVE_KEY_PARTS.iter().any(|p| k.contains(p))
}

/// The value field of `map` when `map` is a name/value pair whose name looks sensitive.
fn sensitive_pair_value(map: &Map<String, Value>) -> Option<&str> {
    let field = |wanted: &str| map.keys().find(|k| k.eq_ignore_ascii_case(wanted));
    PAIRS.iter().find_map(|(name, value)| {
        let name_field = field(name)?;
        let value_field = field(value)?;
        map[name_field]
            .as_str()
            .is_some_and(sensitive_key)
            .then_some(value_field.as_str())
    })
}

fn sensitive_value(v: &str) -> bool {
    let aws_key = v.len() == 20
        && (v.starts_with("AKIA") || v.starts_with("ASIA"))
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let jwt = v.starts_with("eyJ") && v.matches('.').count() == 2;
    aws_key || jwt || v.contains("-----BEGIN")
}

/// A copy of `v` with sensitive-looking values replaced by [`MASK`].
pub(crate) fn mask(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let pair_value = sensitive_pair_value(map);
            Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        // A secret tag's value is the secret, whatever its shape.
                        let in_pair = pair_value == Some(k.as_str()) && !v.is_null();
                        let by_key =
                            sensitive_key(k) && !v.is_object() && !v.is_array() && !v.is_null();
                        let masked = if in_pair || by_key {
                            json!(MASK)
                        } else {
                            mask(v)
                        };
                        (k.clone(), masked)
                    })
                    .collect::<Map<String, Value>>(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(mask).collect()),
        Value::String(s) if sensitive_value(s) => json!(MASK),
        other => other.clone(),
    }
}

/// Sends the examples of one kind; failures are logged.
pub(crate) async fn send(client: &Client, kind: &str, examples: &[Value]) {
    if examples.is_empty() {
        return;
    }
    let path = format!(
        "/integration/{}/kinds/{}/examples",
        urlencoding::encode(&client.identifier),
        urlencoding::encode(kind)
    );
    let body = json!({ "examples": examples.iter().map(mask).collect::<Vec<_>>() });
    if let Err(e) = client
        .request(
            Method::POST,
            &path,
            &[],
            Some(&body),
            Feature::None,
            Retry::Transient,
        )
        .await
    {
        tracing::warn!(kind, error = %e, "could not send raw data examples");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_values_are_masked_and_the_rest_kept() {
        let raw = json!({
            "Properties": {
                "InstanceId": "i-1", "KeyName": "my-key-pair", "KmsKeyId": "arn:aws:kms:…",
                "DbPassword": "hunter2", "Env": [{"Name": "X", "Value": "AKIAABCDEFGHIJKLMNOP"}],
                "Token": {"nested": "kept-structure"}, "Jwt": "eyJhbGciOi.eyJzdWIi.sig"
            }
        });
        let m = mask(&raw);
        let p = &m["Properties"];
        assert_eq!(p["InstanceId"], "i-1");
        assert_eq!(p["KeyName"], "my-key-pair");
        assert_eq!(p["KmsKeyId"], "arn:aws:kms:…");
        assert_eq!(p["DbPassword"], MASK);
        assert_eq!(p["Env"][0]["Value"], MASK);
        assert_eq!(p["Token"]["nested"], "kept-structure");
        assert_eq!(p["Jwt"], MASK);
    }

    #[test]
    fn name_value_pairs_are_masked_by_their_name() {
        let raw = json!({
            "Tags": [
                {"Key": "DB_PASSWORD", "Value": "tag-secret"},
                {"Key": "Team", "Value": "platform"},
                {"Key": "api-key", "Value": {"odd": "shape"}},
            ],
            "tags": [{"key": "github_token", "value": "ecs-secret"}, {"key": "env", "value": "prod"}],
            "Environment": [{"Name": "CLIENT_SECRET", "Value": "env-secret"}],
            "Parameters": [{"ParameterKey": "MasterUserPassword", "ParameterValue": "cfn-secret"}],
            "TagMap": {"DB_PASSWORD": "map-secret", "Owner": "me"},
            "Empty": {"Key": "SECRET", "Value": null},
        });
        let m = mask(&raw);
        let text = m.to_string();
        for secret in [
            "tag-secret",
            "ecs-secret",
            "env-secret",
            "cfn-secret",
            "map-secret",
            "odd",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(m["Tags"][0], json!({"Key": "DB_PASSWORD", "Value": MASK}));
        assert_eq!(m["Tags"][1], json!({"Key": "Team", "Value": "platform"}));
        assert_eq!(m["tags"][1], json!({"key": "env", "value": "prod"}));
        assert_eq!(m["TagMap"]["Owner"], "me");
        assert_eq!(m["Empty"]["Value"], Value::Null);
    }
}
