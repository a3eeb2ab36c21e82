//! What triggers resyncs in the long-running mode, and the runner they all feed.
//!
//! - `POLLING` (Ocean's default): every `interval` seconds, `GET
//!   /v1/integration/{id}/resync-request`; a request newer than the last one handled
//!   triggers a resync. `resyncOnStart` (default true) triggers one at start.
//! - `OCEAN__SCHEDULED_RESYNC_INTERVAL` (minutes): a resync every interval, the first one
//!   interval after start; works with any listener.
//! - `WEBHOOK`: `POST /resync` on the HTTP surface.
//! - `WEBHOOKS_ONLY` / `ACTIONS_ONLY`: no resync; only the HTTP surface runs.
//! - `KAFKA`: refused at start — Port's Kafka change-log needs org-specific brokers and
//!   credentials this program does not implement; POLLING sees the same resync requests.
//!
//! **One runner, never two resyncs at once.** Triggers only set a flag and wake the runner;
//! triggers arriving during a run coalesce into one follow-up run. (Ocean instead aborts
//! the running resync when a new one starts, so a slow resync under frequent triggers may
//! never finish.)

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use tokio::sync::watch;

use crate::config::{ListenerKind, Settings};
use crate::port::{self, Feature};
use crate::resync::{self, RunError};
use crate::server::{self, State};
use crate::trigger::Trigger;

/// Runs the HTTP surface and the configured listeners until SIGTERM/SIGINT (`shutdown`
/// turns to the signal's number). Returns the process exit code: 128 + that number.
pub async fn serve(settings: Settings, port: u16, shutdown: watch::Receiver<u8>) -> u8 {
    if settings.event_listener.kind == ListenerKind::Kafka {
        tracing::error!(
            "the KAFKA event listener is not supported; use OCEAN__EVENT_LISTENER='{{\"type\":\"POLLING\"}}' (it picks up the same resync requests from Port)"
        );
        eprintln!(
            "error: the KAFKA event listener is not supported; use OCEAN__EVENT_LISTENER='{{\"type\":\"POLLING\"}}' (it picks up the same resync requests from Port)"
        );
        return 2;
    }
    let settings = Arc::new(settings);
    let trigger = Trigger::default();
    let state = Arc::new(State::new(
        trigger.clone(),
        settings.event_listener.kind == ListenerKind::Webhook,
    ));
    let stopped = |rx: &watch::Receiver<u8>| 128 + *rx.borrow();
    let server = match server::start(state.clone(), &settings, port, shutdown.clone()).await {
        Ok(handle) => handle,
        Err(e) => {
            tracing::error!(error = %e, port, "cannot serve HTTP");
            eprintln!("error: cannot serve HTTP on port {port}: {e}");
            return 1;
        }
    };

    // Bootstrap: Port must answer (and the mapping compile) before we say ready. Every
    // attempt is raced against shutdown: a slow Port must not delay the exit.
    let client = match port::Client::new(&settings) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let mut sd = shutdown.clone();
    loop {
        let fetched = tokio::select! {
            fetched = port::integration::fetch(&client) => fetched,
            _ = sd.wait_for(|s| *s != 0) => return stopped(&shutdown),
        };
        match fetched {
            Ok(_) => break,
            Err(e) => {
                tracing::error!(error = %e, "Port is not reachable yet; retrying in 10 s");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(10)) => {}
                    _ = sd.wait_for(|s| *s != 0) => return stopped(&shutdown),
                }
            }
        }
    }
    state.set_ready();

    let resyncs = !matches!(
        settings.event_listener.kind,
        ListenerKind::WebhooksOnly | ListenerKind::ActionsOnly
    );
    let mut tasks = tokio::task::JoinSet::new();
    if resyncs {
        if settings.event_listener.kind == ListenerKind::Polling {
            if settings.event_listener.resync_on_start {
                trigger.request("start");
            }
            tasks.spawn(poll(
                client.clone(),
                trigger.clone(),
                settings.event_listener.interval_secs,
            ));
        }
        if let Some(minutes) = settings.scheduled_resync_interval {
            tasks.spawn(schedule(
                trigger.clone(),
                Duration::from_secs_f64(minutes * 60.0),
            ));
        }
    }
    let deadline = settings.resync_deadline(true);
    let mut sd = shutdown.clone();
    loop {
        tokio::select! {
            _ = trigger.next() => {}
            _ = sd.wait_for(|s| *s != 0) => break,
        }
        let mut run_shutdown = shutdown.clone();
        let result = resync::run(
            &settings,
            async move {
                let _ = run_shutdown.wait_for(|s| *s != 0).await;
            },
            deadline,
        )
        .await;
        match result {
            Ok(report) => state.set_last_run(report.to_json()),
            Err(RunError::Aborted { .. }) => break,
            Err(e @ RunError::TimedOut { .. }) => {
                // The runner is free again: the next trigger runs.
                tracing::error!(error = %e, "resync exceeded its deadline");
                state.set_last_run(serde_json::json!({
                    "outcome": "timed_out",
                    "deadline_exceeded": true,
                    "error": e.to_string(),
                }));
            }
            Err(e) => {
                tracing::error!(error = %e, "resync failed");
                state
                    .set_last_run(serde_json::json!({"outcome": "failed", "error": e.to_string()}));
            }
        }
    }
    tasks.abort_all();
    let _ = server.await;
    tracing::info!("stopped");
    stopped(&shutdown)
}

/// POLLING: resync when Port's resync request is newer than the last one handled.
async fn poll(client: Arc<port::Client>, trigger: Trigger, interval_secs: u64) {
    let path = format!(
        "/integration/{}/resync-request",
        urlencoding::encode(&client.identifier)
    );
    // The request present at start was handled before (or is covered by resyncOnStart):
    // the first poll only sets the watermark.
    let mut last: Option<DateTime<Utc>> = None;
    let mut last_unreadable: Option<String> = None;
    let mut first = true;
    let mut tick = tokio::time::interval(Duration::from_secs(interval_secs));
    loop {
        tick.tick().await;
        match client
            .request(Method::GET, &path, &[], None, Feature::None, true)
            .await
        {
            Ok(resp) => {
                match request_time(&resp.body) {
                    Ok(Some(at)) if last.is_none_or(|l| at > l) => {
                        last = Some(at);
                        if !first {
                            trigger.request("port resync request");
                        }
                    }
                    Ok(_) => {}
                    // Once per distinct value, not at every poll.
                    Err(raw) if last_unreadable.as_ref() != Some(&raw) => {
                        tracing::warn!(updated_at = %raw, "the resync request's updatedAt is not an RFC 3339 time; ignored");
                        last_unreadable = Some(raw);
                    }
                    Err(_) => {}
                }
                first = false;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read the resync request; polling goes on")
            }
        }
    }
}

/// `request.updatedAt` of a resync-request response, as an instant: compared as strings,
/// `…:00.500Z` sorts before `…:00Z` and offsets other than `Z` compare wrongly. `Err` holds
/// the (shortened) value that is not an RFC 3339 time.
fn request_time(body: &serde_json::Value) -> Result<Option<DateTime<Utc>>, String> {
    match &body["request"]["updatedAt"] {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| s.chars().take(64).collect()),
        other => Err(other.to_string().chars().take(64).collect()),
    }
}

/// Scheduled resyncs, the first one interval after start (as Ocean).
async fn schedule(trigger: Trigger, every: Duration) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tick.tick().await;
        trigger.request("schedule");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> Result<Option<DateTime<Utc>>, String> {
        request_time(&json!({"request": {"updatedAt": s}}))
    }

    #[test]
    fn resync_request_times_compare_as_instants() {
        let whole = at("2026-01-01T00:00:00Z").unwrap().unwrap();
        let half = at("2026-01-01T00:00:00.500Z").unwrap().unwrap();
        assert!(half > whole, "a fraction of a second later is later");
        let offset = at("2026-01-01T01:00:00.250+01:00").unwrap().unwrap();
        assert!(offset > whole && offset < half);
        assert_eq!(request_time(&json!({"request": null})), Ok(None));
        assert_eq!(request_time(&json!({})), Ok(None));
        assert!(at("yesterday").is_err());
        assert!(request_time(&json!({"request": {"updatedAt": 5}})).is_err());
    }
}
