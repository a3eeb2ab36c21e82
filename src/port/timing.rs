//! Delays and lifetimes that Port dictates, read defensively.
//!
//! `Retry-After`, `x-ratelimit-reset` and the token's `expiresIn` come off the network: a
//! value may be missing, negative, `nan`, `inf`, absurdly large, a date, or garbage. Every
//! reader here takes any input and returns either nothing or a [`Duration`] within fixed
//! bounds, so no later arithmetic on it (`Duration::from_secs_f64`, `Instant + d`) can
//! panic or overflow.
//!
//! The header rules follow Ocean's retry transport (`shared/port-api.md` §3): a number is
//! a delay in seconds, except that a value above 10,000 is a Unix epoch (Port documents
//! `x-ratelimit-reset` as an epoch, other clients send seconds); an HTTP date (RFC 9110)
//! or an RFC 3339 date is the moment to retry at. `Retry-After` wins over
//! `x-ratelimit-reset`; a header that cannot be read counts as absent, and the caller
//! falls back to its exponential backoff.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

/// Longest wait a server hint can impose; a longer one is cut to this.
pub(crate) const MAX_HINT: Duration = Duration::from_secs(60);

/// Above this, a number in a rate-limit header is an epoch rather than a delay (Ocean's
/// rule: 10,000 s is almost three hours, longer than any delay Port asks for).
const EPOCH_THRESHOLD: f64 = 10_000.0;

/// The token is renewed this long before Port says it expires, so that it is never used
/// in the second it expires.
const TOKEN_MARGIN_SECS: f64 = 30.0;

/// Shortest token lifetime believed: a zero or negative `expiresIn` still lets the token
/// serve the requests of the next second instead of fetching one per request.
pub(crate) const MIN_TOKEN_LIFETIME: Duration = Duration::from_secs(1);

/// Longest token lifetime believed. Port's tokens live hours; a larger `expiresIn` is
/// taken as this (and a token revoked earlier is renewed on its first 401 anyway).
pub(crate) const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// How long Port asks us to wait before retrying, from `Retry-After` or else
/// `x-ratelimit-reset`; `None` when neither header holds a usable value.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    ["retry-after", "x-ratelimit-reset"]
        .into_iter()
        .find_map(|name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| delay_hint(v, now))
        })
}

/// One header value as a wait from `now`, at most [`MAX_HINT`]; a moment in the past is
/// no wait at all. `None` for anything that is neither a non-negative number nor a date.
pub(crate) fn delay_hint(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(n) = value.parse::<f64>() {
        if !n.is_finite() || n < 0.0 {
            return None;
        }
        let secs = if n > EPOCH_THRESHOLD {
            n - epoch_secs(now)
        } else {
            n
        };
        return Some(bounded_secs(secs, Duration::ZERO, MAX_HINT));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value)
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(value))
        .ok()?;
    // Seconds and nanoseconds separately: `timestamp_nanos` overflows for far dates.
    let secs = at.timestamp() as f64 + f64::from(at.timestamp_subsec_nanos()) / 1e9;
    Some(bounded_secs(
        secs - epoch_secs(now),
        Duration::ZERO,
        MAX_HINT,
    ))
}

/// How long a token whose response said `expires_in` seconds is used, within
/// [`MIN_TOKEN_LIFETIME`]..=[`MAX_TOKEN_LIFETIME`].
pub(crate) fn token_lifetime(expires_in: f64) -> Duration {
    bounded_secs(
        expires_in - TOKEN_MARGIN_SECS,
        MIN_TOKEN_LIFETIME,
        MAX_TOKEN_LIFETIME,
    )
}

/// `secs` as a duration clamped to `min..=max`; NaN is `min`.
fn bounded_secs(secs: f64, min: Duration, max: Duration) -> Duration {
    if secs.is_nan() || secs <= min.as_secs_f64() {
        min
    } else if secs >= max.as_secs_f64() {
        max
    } else {
        // Finite and strictly between two valid durations: cannot panic.
        Duration::from_secs_f64(secs)
    }
}

fn epoch_secs(now: SystemTime) -> f64 {
    now.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_750_000_000)
    }

    #[test]
    fn numbers_dates_and_garbage() {
        let secs = |v: &str| delay_hint(v, now()).map(|d| d.as_secs_f64());
        assert_eq!(secs("2"), Some(2.0));
        assert_eq!(secs(" 1.5 "), Some(1.5));
        assert_eq!(secs("0"), Some(0.0));
        assert_eq!(secs("120"), Some(60.0), "capped");
        assert_eq!(secs("1750000010"), Some(10.0), "an epoch");
        assert_eq!(secs("1700000000"), Some(0.0), "an epoch in the past");
        assert_eq!(secs("Sun, 15 Jun 2025 15:06:45 GMT"), Some(5.0));
        assert_eq!(secs("2025-06-15T15:06:43Z"), Some(3.0));
        assert_eq!(secs("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0.0));
        for bad in [
            "nan", "NaN", "inf", "-inf", "-5", "1e400", "soon", "", "0x10",
        ] {
            assert_eq!(secs(bad), None, "{bad}");
        }
    }

    #[test]
    fn retry_after_wins_over_the_rate_limit_reset() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", "7".parse().unwrap());
        assert_eq!(retry_after(&h, now()), Some(Duration::from_secs(7)));
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h, now()), Some(Duration::from_secs(3)));
        h.insert("retry-after", "nan".parse().unwrap());
        assert_eq!(
            retry_after(&h, now()),
            Some(Duration::from_secs(7)),
            "an unreadable Retry-After counts as absent"
        );
    }

    #[test]
    fn token_lifetimes_are_bounded() {
        assert_eq!(token_lifetime(3600.0), Duration::from_secs(3570));
        assert_eq!(token_lifetime(1e20), MAX_TOKEN_LIFETIME);
        assert_eq!(token_lifetime(f64::INFINITY), MAX_TOKEN_LIFETIME);
        assert_eq!(token_lifetime(-1.0), MIN_TOKEN_LIFETIME);
        assert_eq!(token_lifetime(f64::NAN), MIN_TOKEN_LIFETIME);
    }

    /// Numbers as a server might print them, including the ones Rust prints for NaN and
    /// infinities.
    fn number_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<f64>().prop_map(|x| x.to_string()),
            any::<f64>().prop_map(|x| format!("{x:e}")),
            any::<i64>().prop_map(|x| x.to_string()),
            any::<u64>().prop_map(|x| x.to_string()),
        ]
    }

    proptest! {
        #[test]
        fn any_header_text_gives_a_bounded_wait_or_none(text in ".{0,64}", at in any::<u64>()) {
            let now = UNIX_EPOCH.checked_add(Duration::from_secs(at % (1 << 40))).unwrap_or(UNIX_EPOCH);
            if let Some(d) = delay_hint(&text, now) {
                prop_assert!(d <= MAX_HINT);
            }
        }

        #[test]
        fn any_number_gives_a_bounded_wait_or_none(text in number_text()) {
            if let Some(d) = delay_hint(&text, now()) {
                prop_assert!(d <= MAX_HINT);
            }
            let mut headers = HeaderMap::new();
            if let Ok(v) = text.parse() {
                headers.insert("retry-after", v);
                headers.insert("x-ratelimit-reset", "1e308".parse().unwrap());
                if let Some(d) = retry_after(&headers, now()) {
                    prop_assert!(d <= MAX_HINT);
                }
            }
        }

        #[test]
        fn small_delays_are_kept(secs in 0.0f64..60.0) {
            let d = delay_hint(&secs.to_string(), now()).unwrap();
            prop_assert!((d.as_secs_f64() - secs).abs() < 1e-6);
        }

        #[test]
        fn any_expires_in_gives_a_bounded_lifetime(x in any::<f64>()) {
            let d = token_lifetime(x);
            prop_assert!((MIN_TOKEN_LIFETIME..=MAX_TOKEN_LIFETIME).contains(&d));
            // The deadline can always be computed.
            prop_assert!(std::time::Instant::now().checked_add(d).is_some());
        }
    }
}
