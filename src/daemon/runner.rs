//! The runner: one resync at a time, each started by a [`Trigger`] request, until shutdown.

use tokio::sync::watch;

use super::server::State;
use super::triggers::Trigger;
use crate::config::Settings;
use crate::resync::{self, RunError};

/// Runs a resync per trigger request until `shutdown` turns non-zero (a signal), or a run
/// is aborted by it. A run past its deadline frees the runner for the next request.
pub(super) async fn run(
    settings: &Settings,
    state: &State,
    trigger: &Trigger,
    shutdown: watch::Receiver<u8>,
) {
    let deadline = settings.resync_deadline(true);
    let mut sd = shutdown.clone();
    loop {
        tokio::select! {
            _ = trigger.next() => {}
            _ = sd.wait_for(|s| *s != 0) => break,
        }
        let mut run_shutdown = shutdown.clone();
        let result = resync::run(
            settings,
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
}
