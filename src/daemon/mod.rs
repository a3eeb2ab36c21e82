//! The long-running mode: the HTTP surface, what triggers resyncs, and the runner they all
//! feed.
//!
//! - [`server`]: health, readiness, metrics and `POST /resync`.
//! - [`triggers`]: the [`triggers::Trigger`] doorbell, Port's resync-request polling and
//!   the schedule.
//! - `runner`: waits on the doorbell and runs one resync at a time.
//! - [`actions`]: Port self-service actions served natively (`POST /actions/{route}`),
//!   worked on by their own bounded pool, beside the resyncs and in every long-running
//!   listener mode (`ACTIONS_ONLY` serves them without resyncing).
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

pub(crate) mod actions;
mod runner;
pub(crate) mod server;
pub(crate) mod triggers;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::{ListenerKind, Settings};
use crate::port;
use actions::Actions;
use server::State;
use triggers::Trigger;

/// Runs the HTTP surface and the configured listeners until SIGTERM/SIGINT (`shutdown`
/// turns to the signal's number). Returns the process exit code: 128 + that number.
pub(crate) async fn serve(settings: Settings, port: u16, shutdown: watch::Receiver<u8>) -> u8 {
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
    let (actions, queue) = Actions::new(&settings);
    let state = Arc::new(State::new(
        trigger.clone(),
        settings.event_listener.kind == ListenerKind::Webhook,
        actions.clone(),
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

    let mut tasks = tokio::task::JoinSet::new();
    if actions.any() {
        let ctx = Arc::new(actions::Ctx {
            port: client.clone(),
            settings: settings.clone(),
            base: crate::aws::credentials::base_config(&settings.aws).await,
        });
        let workers = settings.actions.workers;
        tasks.spawn(Actions::work(ctx.clone(), queue, workers));
        let actions = actions.clone();
        tasks.spawn(async move { actions.start(&ctx).await });
    }
    let resyncs = !matches!(
        settings.event_listener.kind,
        ListenerKind::WebhooksOnly | ListenerKind::ActionsOnly
    );
    if resyncs {
        if settings.event_listener.kind == ListenerKind::Polling {
            if settings.event_listener.resync_on_start {
                trigger.request("start");
            }
            tasks.spawn(triggers::poll(
                client.clone(),
                trigger.clone(),
                settings.event_listener.interval_secs,
            ));
        }
        if let Some(minutes) = settings.scheduled_resync_interval {
            tasks.spawn(triggers::schedule(
                trigger.clone(),
                Duration::from_secs_f64(minutes * 60.0),
            ));
        }
    }
    runner::run(&settings, &state, &trigger, shutdown.clone()).await;
    tasks.abort_all();
    let _ = server.await;
    tracing::info!("stopped");
    stopped(&shutdown)
}
