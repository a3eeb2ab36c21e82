//! The HTTP surface (axum), on `APPLICATION__HOST`:`APPLICATION__PORT` (default
//! `0.0.0.0:8000`), every route under `OCEAN__PATH_PREFIX`:
//!
//! - `GET /health/live`: the process serves;
//! - `GET /health/ready`: 200 only once bootstrap succeeded (Port answered), with the last
//!   run's outcome and counts; 503 before — so a Deployment is not "ready" while it cannot
//!   work. The body is unauthenticated: no account ids, no error text (those are in the
//!   logs, the counts in `/metrics`);
//! - `GET /metrics`: Prometheus / OpenMetrics text;
//! - `POST /actions/{route}`: a Port self-service action delivery (see `actions`): 202 once
//!   checked and queued; 401 when Port's signature does not match, 413 over 64 KiB.
//! - `POST /resync`: with the WEBHOOK listener, asks for a resync (202; the run happens in
//!   the background, one at a time). With `OCEAN__RESYNC_SECRET` set it needs
//!   `Authorization: Bearer <secret>` (401 otherwise, and nothing is triggered).
//!
//! Ocean mounts `/resync` at the root whatever the prefix; here it is under the prefix like
//! everything else, so that an ingress routing the prefix reaches all of it (without a
//! prefix the paths are Ocean's).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State as AxumState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use tokio::sync::watch;

use super::actions::{self, Actions};
use super::triggers::Trigger;
use crate::config::Settings;

/// What the routes need.
pub(crate) struct State {
    ready: AtomicBool,
    last_run: std::sync::Mutex<Option<Value>>,
    trigger: Trigger,
    webhook: bool,
    actions: Arc<Actions>,
}

impl State {
    /// Not ready, no run yet.
    pub(crate) fn new(trigger: Trigger, webhook: bool, actions: Arc<Actions>) -> State {
        State {
            ready: AtomicBool::new(false),
            last_run: std::sync::Mutex::new(None),
            trigger,
            webhook,
            actions,
        }
    }

    /// Bootstrap succeeded.
    pub(crate) fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    /// The last run's summary; `/health/ready` shows its outcome and counts only.
    pub(crate) fn set_last_run(&self, summary: Value) {
        if let Ok(mut last) = self.last_run.lock() {
            *last = Some(public_summary(&summary));
        }
    }
}

/// The fields of a run summary an unauthenticated caller may see: the outcome and numbers.
/// Lists that name accounts, regions or carry AWS/Port error text become their lengths;
/// anything else (an error message…) is left out.
fn public_summary(summary: &Value) -> Value {
    const KEPT: &[&str] = &[
        "run_id",
        "outcome",
        "duration_ms",
        "accounts_ok",
        "regions",
        "entities_upserted",
        "entities_failed",
        "entities_deleted",
        "entities_delete_failed",
        "mapping_errors",
        "deadline_exceeded",
        "reconciliation_failed",
        "dry_run",
    ];
    const COUNTED: &[&str] = &["accounts_failed", "failed_units", "unsupported_kinds"];
    let mut out = Map::new();
    for key in KEPT {
        if let Some(v) = summary
            .get(*key)
            .filter(|v| !v.is_object() && !v.is_array())
        {
            out.insert((*key).into(), v.clone());
        }
    }
    for key in COUNTED {
        if let Some(items) = summary.get(*key).and_then(Value::as_array) {
            out.insert((*key).into(), json!(items.len()));
        }
    }
    Value::Object(out)
}

type Shared = Arc<State>;

async fn live() -> Response {
    axum::Json(json!({"status": "healthy", "check": "live", "version": crate::VERSION}))
        .into_response()
}

async fn ready(AxumState(state): AxumState<Shared>) -> Response {
    let last = state.last_run.lock().ok().and_then(|l| l.clone());
    if state.ready.load(Ordering::SeqCst) {
        axum::Json(json!({"status": "healthy", "check": "ready", "last_run": last})).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "starting", "check": "ready", "reason": "bootstrap has not succeeded yet"})),
        )
            .into_response()
    }
}

async fn metrics() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        crate::metrics::render(),
    )
        .into_response()
}

async fn resync(state: Shared, headers: HeaderMap, secret: Option<Arc<SecretString>>) -> Response {
    // Authentication first: an unauthenticated caller learns nothing about the listener.
    if let Some(secret) = secret
        && !authorized(&headers, &secret)
    {
        tracing::warn!("POST /resync without the right Authorization header; ignored");
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            axum::Json(json!({"error": "unauthorized"})),
        )
            .into_response();
    }
    if !state.webhook {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "the WEBHOOK listener is not configured"})),
        )
            .into_response();
    }
    state.trigger.request("webhook");
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({"status": "accepted"})),
    )
        .into_response()
}

async fn action(
    AxumState(state): AxumState<Shared>,
    Path(route): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (status, body) = state.actions.deliver(&route, &headers, &body);
    (status, axum::Json(body)).into_response()
}

/// `Authorization: Bearer <secret>` (the scheme case-insensitive, as RFC 9110 says).
fn authorized(headers: &HeaderMap, secret: &SecretString) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes()) else {
        return false;
    };
    let Some((scheme, token)) = value.split_first_chunk::<7>() else {
        return false;
    };
    scheme.eq_ignore_ascii_case(b"Bearer ")
        && constant_time_eq(token, secret.expose_secret().as_bytes())
}

/// Equality whose time depends on the length of `given` only, not on where it first
/// differs from `expected` (nor on `expected`'s length), so the secret cannot be guessed
/// byte by byte from response times.
fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = u8::from(given.len() != expected.len());
    for (i, b) in given.iter().enumerate() {
        // Past the end of `expected`, compare with a byte that differs from `b`.
        let e = expected.get(i).copied().unwrap_or(!b);
        diff |= std::hint::black_box(b ^ e);
    }
    diff == 0
}

/// Binds `APPLICATION__HOST`:`port` and serves until `shutdown` turns non-zero (a signal number).
pub(crate) async fn start(
    state: Shared,
    settings: &Settings,
    port: u16,
    mut shutdown: watch::Receiver<u8>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let secret = settings.resync_secret.clone().map(Arc::new);
    let routes = Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
        .route(
            "/resync",
            post(
                move |AxumState(state): AxumState<Shared>, headers: HeaderMap| {
                    resync(state, headers, secret.clone())
                },
            ),
        )
        .route(
            "/actions/{route}",
            // One byte over the limit is enough to answer 413 without reading the rest.
            post(action).layer(DefaultBodyLimit::max(actions::MAX_BODY + 1)),
        )
        .with_state(state);
    let prefix = settings.path_prefix.as_str();
    let app = if prefix.is_empty() {
        routes
    } else {
        Router::new().nest(prefix, routes)
    };
    let address = std::net::SocketAddr::new(settings.http_host, port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("{address}: {e}")))?;
    tracing::info!(
        %address,
        prefix,
        resync_auth = settings.resync_secret.is_some(),
        "serving HTTP"
    );
    Ok(tokio::spawn(async move {
        let stop = async move {
            let _ = shutdown.wait_for(|s| *s != 0).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "HTTP server failed");
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // The only part of an HTTP request this program parses itself is the
        // Authorization header of `POST /resync`: any bytes, never a panic, never accepted
        // unless they are exactly `Bearer <secret>`.
        #[test]
        fn any_authorization_header_is_answered_without_panic(value in proptest::collection::vec(any::<u8>(), 0..64)) {
            let secret = SecretString::from("s3cret");
            let mut headers = HeaderMap::new();
            if let Ok(v) = axum::http::HeaderValue::from_bytes(&value) {
                headers.insert(header::AUTHORIZATION, v);
                let ok = authorized(&headers, &secret);
                prop_assert_eq!(ok, value.len() == 13 && value[..7].eq_ignore_ascii_case(b"Bearer ") && &value[7..] == b"s3cret");
            }
        }
    }

    #[test]
    fn bearer_secret_is_checked_exactly() {
        let secret = SecretString::from("s3cret");
        let check = |value: Option<&str>| {
            let mut headers = HeaderMap::new();
            if let Some(v) = value {
                headers.insert(header::AUTHORIZATION, v.parse().unwrap());
            }
            authorized(&headers, &secret)
        };
        assert!(check(Some("Bearer s3cret")));
        assert!(check(Some("bearer s3cret")));
        for wrong in [
            None,
            Some(""),
            Some("s3cret"),
            Some("Bearer"),
            Some("Bearer "),
            Some("Bearer s3cre"),
            Some("Bearer s3cret2"),
            Some("Bearer S3cret"),
            Some("Basic s3cret"),
        ] {
            assert!(!check(wrong), "{wrong:?}");
        }
    }

    #[test]
    fn readiness_shows_outcome_and_counts_only() {
        let full = json!({
            "run_id": "r1", "outcome": "partial", "duration_ms": 5, "accounts_ok": 2,
            "accounts_failed": [{"account": "111111111111", "reason": "AccessDenied: no"}],
            "failed_units": [{"kind": "k", "account": "2", "region": "r", "reason": "x"}],
            "items_per_kind": {"k": 1}, "entities_upserted": 3, "error": "Port said no",
            "deletion_skipped": ["because 111111111111"],
        });
        let public = public_summary(&full);
        assert_eq!(public["outcome"], "partial");
        assert_eq!(public["accounts_failed"], 1);
        assert_eq!(public["failed_units"], 1);
        assert_eq!(public["entities_upserted"], 3);
        let text = public.to_string();
        for leak in ["111111111111", "AccessDenied", "Port said no", "reason"] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
        assert_eq!(
            public_summary(&json!({"outcome": "failed", "error": "AWS: denied"})),
            json!({"outcome": "failed"})
        );
    }
}
