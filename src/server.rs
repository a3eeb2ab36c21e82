//! The HTTP surface (axum), on `APPLICATION__PORT` (default 8000) under
//! `OCEAN__PATH_PREFIX`:
//!
//! - `GET /health/live`: the process serves;
//! - `GET /health/ready`: 200 only once bootstrap succeeded (Port answered), with the last
//!   run's summary; 503 before — so a Deployment is not "ready" while it cannot work;
//! - `GET /metrics`: Prometheus / OpenMetrics text;
//! - `POST /resync`: with the WEBHOOK listener, asks for a resync (202; the run happens in
//!   the background, one at a time).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State as AxumState;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::listener::Trigger;

/// What the routes need.
pub struct State {
    ready: AtomicBool,
    last_run: std::sync::Mutex<Option<Value>>,
    trigger: Trigger,
    webhook: bool,
}

impl State {
    /// Not ready, no run yet.
    pub fn new(trigger: Trigger, webhook: bool) -> State {
        State {
            ready: AtomicBool::new(false),
            last_run: std::sync::Mutex::new(None),
            trigger,
            webhook,
        }
    }

    /// Bootstrap succeeded.
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    /// The last run's summary, shown by `/health/ready`.
    pub fn set_last_run(&self, summary: Value) {
        if let Ok(mut last) = self.last_run.lock() {
            *last = Some(summary);
        }
    }
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

async fn resync(AxumState(state): AxumState<Shared>) -> Response {
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

/// Binds `0.0.0.0:port` and serves until `shutdown` turns non-zero (a signal number).
pub async fn start(
    state: Shared,
    port: u16,
    prefix: &str,
    mut shutdown: watch::Receiver<u8>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let routes = Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state.clone());
    let app = if prefix.is_empty() {
        routes
    } else {
        Router::new().nest(prefix, routes)
    };
    // Ocean mounts /resync without the prefix.
    let app = app.route("/resync", post(resync).with_state(state));
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    tracing::info!(port, prefix, "serving HTTP");
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
