//! Port's webhook signature (`port-api.md` §6.3): `x-port-signature: v1,<Base64 of
//! HMAC-SHA256("<x-port-timestamp>.<body>")>`, keyed with the organization's client secret.
//!
//! The raw body is tried first. Port's execution agent signs the compact serialisation of
//! the body but sends it with spaces, so a body whose raw bytes do not match is tried again
//! re-serialised compactly, keys in their order. Timestamps outside the tolerance are
//! refused, so a captured request cannot be replayed later.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use base64::Engine;
use hmac::{KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Why a delivery is not Port's. Never carries the signature, the secret or the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Rejected {
    /// A header is absent or malformed.
    #[error("x-port-timestamp or x-port-signature is missing or malformed")]
    Malformed,
    /// The timestamp is outside the tolerance.
    #[error("x-port-timestamp is outside the accepted window")]
    Stale,
    /// The signature does not match.
    #[error("x-port-signature does not match the body")]
    Mismatch,
}

/// Checks a delivery's signature and timestamp against `now`.
pub(crate) fn verify(
    secret: &SecretString,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
    tolerance: Duration,
) -> Result<(), Rejected> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let timestamp = header("x-port-timestamp").ok_or(Rejected::Malformed)?;
    let seconds: u64 = timestamp.parse().map_err(|_| Rejected::Malformed)?;
    let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    if now.abs_diff(seconds) > tolerance.as_secs() {
        return Err(Rejected::Stale);
    }
    let signature = header("x-port-signature").ok_or(Rejected::Malformed)?;
    let (_, encoded) = signature.split_once(',').ok_or(Rejected::Malformed)?;
    let given = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| Rejected::Malformed)?;
    if matches(secret, timestamp, body, &given) {
        return Ok(());
    }
    let compact = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_vec(&v).ok());
    match compact {
        Some(compact) if compact != body && matches(secret, timestamp, &compact, &given) => Ok(()),
        _ => Err(Rejected::Mismatch),
    }
}

/// Constant-time comparison of the expected MAC with `given` (`Mac::verify_slice`).
fn matches(secret: &SecretString, timestamp: &str, body: &[u8], given: &[u8]) -> bool {
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.expose_secret().as_bytes()) else {
        return false;
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(given).is_ok()
}

/// The headers Port would send for `body` at `timestamp` (tests and the docs' example).
#[cfg(test)]
pub(crate) fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: u64 = 1_800_000_000;

    fn headers(ts: &str, sig: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-port-timestamp", ts.parse().unwrap());
        h.insert("x-port-signature", sig.parse().unwrap());
        h
    }

    fn check(h: &HeaderMap, body: &[u8]) -> Result<(), Rejected> {
        verify(
            &SecretString::from("port-secret"),
            h,
            body,
            UNIX_EPOCH + Duration::from_secs(NOW),
            Duration::from_secs(300),
        )
    }

    #[test]
    fn a_signed_body_is_accepted_and_any_change_is_not() {
        let body = br#"{"runId":"r_1","inputs":{"email":"a@b.io"}}"#;
        let good = sign("port-secret", NOW, body);
        assert_eq!(check(&headers(&NOW.to_string(), &good), body), Ok(()));
        let other = br#"{"runId":"r_2","inputs":{"email":"a@b.io"}}"#;
        assert_eq!(
            check(&headers(&NOW.to_string(), &good), other),
            Err(Rejected::Mismatch)
        );
        let wrong_key = sign("other-secret", NOW, body);
        assert_eq!(
            check(&headers(&NOW.to_string(), &wrong_key), body),
            Err(Rejected::Mismatch)
        );
        // The timestamp is signed too.
        assert_eq!(
            check(&headers(&(NOW + 1).to_string(), &good), body),
            Err(Rejected::Mismatch)
        );
    }

    #[test]
    fn the_agent_s_spaced_body_matches_its_compact_signature() {
        let compact = br#"{"runId":"r_1","inputs":{"b":1,"a":2}}"#;
        let spaced = br#"{"runId": "r_1", "inputs": {"b": 1, "a": 2}}"#;
        let sig = sign("port-secret", NOW, compact);
        assert_eq!(check(&headers(&NOW.to_string(), &sig), spaced), Ok(()));
    }

    #[test]
    fn stale_and_malformed_deliveries_are_refused() {
        let body = b"{}";
        let old = NOW - 301;
        let sig = sign("port-secret", old, body);
        assert_eq!(
            check(&headers(&old.to_string(), &sig), body),
            Err(Rejected::Stale)
        );
        let future = NOW + 301;
        let sig = sign("port-secret", future, body);
        assert_eq!(
            check(&headers(&future.to_string(), &sig), body),
            Err(Rejected::Stale)
        );
        let sig = sign("port-secret", NOW, body);
        for (ts, s) in [
            ("x", sig.as_str()),
            ("", sig.as_str()),
            (&NOW.to_string(), "v1"),
            (&NOW.to_string(), "v1,%%%"),
        ] {
            assert_eq!(
                check(&headers(ts, s), body),
                Err(Rejected::Malformed),
                "{ts:?} {s:?}"
            );
        }
        assert_eq!(check(&HeaderMap::new(), body), Err(Rejected::Malformed));
    }

    proptest! {
        // Headers and body are outside input: never a panic, never accepted unsigned.
        #[test]
        fn any_headers_and_body_are_answered_without_panic(
            ts in "[0-9a-z ]{0,12}", sig in "[ -~]{0,80}", body in proptest::collection::vec(any::<u8>(), 0..128)
        ) {
            let mut h = HeaderMap::new();
            if let (Ok(t), Ok(s)) = (ts.parse(), sig.parse()) {
                h.insert("x-port-timestamp", t);
                h.insert("x-port-signature", s);
            }
            prop_assert!(check(&h, &body).is_err());
        }
    }
}
