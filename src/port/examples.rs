//! Raw data examples for Port's mapping editor.
//!
//! With `sendRawDataExamples` (Ocean's default: on), the first [`PER_KIND`] raw items of
//! each kind in a run go to `POST /v1/integration/{id}/kinds/{kind}/examples`, so users see
//! real data while writing JQ. Values that look sensitive are masked first: by key name
//! (password, secret, token, credential, private key…) and by shape (AWS access key ids,
//! JWTs, PEM blocks). A failure is a warning: examples are a convenience, never a reason
//! to fail a resync.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::{Client, Feature};

/// Examples sent per kind and run.
pub const PER_KIND: usize = 5;

/// What masked values become.
pub const MASK: &str = "********";

const SENSITIVE_KEY_PARTS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "privatekey",
    "private_key",
    "credential",
    "accesskeyid",
    "access_key_id",
];

fn sensitive_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SENSITIVE_KEY_PARTS.iter().any(|p| k.contains(p))
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
pub fn mask(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let masked =
                        if sensitive_key(k) && !v.is_object() && !v.is_array() && !v.is_null() {
                            json!(MASK)
                        } else {
                            mask(v)
                        };
                    (k.clone(), masked)
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(mask).collect()),
        Value::String(s) if sensitive_value(s) => json!(MASK),
        other => other.clone(),
    }
}

/// Sends the examples of one kind; failures are logged.
pub async fn send(client: &Client, kind: &str, examples: &[Value]) {
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
        .request(Method::POST, &path, &[], Some(&body), Feature::None, true)
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
}
