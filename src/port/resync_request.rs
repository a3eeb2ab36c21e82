//! `GET /v1/integration/{identifier}/resync-request`: the resync a user asked for in Port's
//! UI, which the POLLING listener watches.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Client, PortError};

/// The resync request Port holds for this integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Requested {
    /// None was ever made.
    Never,
    /// The last one, at this instant.
    At(DateTime<Utc>),
    /// Its `updatedAt` is not an RFC 3339 time (the value, shortened).
    Unreadable(String),
}

/// Reads the current resync request.
pub(crate) async fn fetch(client: &Client) -> Result<Requested, PortError> {
    let path = format!(
        "/integration/{}/resync-request",
        urlencoding::encode(&client.identifier)
    );
    let resp = client.get(&path).await?;
    Ok(requested(&resp.body))
}

/// `request.updatedAt` of a resync-request response, as an instant: compared as strings,
/// `…:00.500Z` sorts before `…:00Z` and offsets other than `Z` compare wrongly.
fn requested(body: &Value) -> Requested {
    match &body["request"]["updatedAt"] {
        Value::Null => Requested::Never,
        Value::String(s) => match DateTime::parse_from_rfc3339(s.trim()) {
            Ok(t) => Requested::At(t.with_timezone(&Utc)),
            Err(_) => Requested::Unreadable(s.chars().take(64).collect()),
        },
        other => Requested::Unreadable(other.to_string().chars().take(64).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        match requested(&json!({"request": {"updatedAt": s}})) {
            Requested::At(t) => t,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn resync_request_times_compare_as_instants() {
        let whole = at("2026-01-01T00:00:00Z");
        let half = at("2026-01-01T00:00:00.500Z");
        assert!(half > whole, "a fraction of a second later is later");
        let offset = at("2026-01-01T01:00:00.250+01:00");
        assert!(offset > whole && offset < half);
        assert_eq!(requested(&json!({"request": null})), Requested::Never);
        assert_eq!(requested(&json!({})), Requested::Never);
        assert!(matches!(
            requested(&json!({"request": {"updatedAt": "yesterday"}})),
            Requested::Unreadable(_)
        ));
        assert!(matches!(
            requested(&json!({"request": {"updatedAt": 5}})),
            Requested::Unreadable(_)
        ));
    }
}
