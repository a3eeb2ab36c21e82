//! What asks for a resync in the long-running mode, and the doorbell they all ring.
//!
//! [`Trigger`] is the doorbell: the listeners below and the HTTP surface (`POST /resync`)
//! ask for a resync through it, the runner waits on it. Requests made during a run
//! coalesce into one follow-up run.
//!
//! - [`poll`] (`POLLING`): Port's resync request, every `interval` seconds.
//! - [`schedule`] (`OCEAN__SCHEDULED_RESYNC_INTERVAL`): every interval, the first one an
//!   interval after start.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::port::{self, resync_request::Requested};

/// Asks the runner for a resync; cheap to clone and call from anywhere.
#[derive(Clone, Default)]
pub(crate) struct Trigger {
    pending: Arc<AtomicBool>,
    wake: Arc<Notify>,
}

impl Trigger {
    /// Requests a resync; several requests before the runner gets to them are one.
    pub(crate) fn request(&self, why: &str) {
        tracing::info!(trigger = why, "resync requested");
        self.pending.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Waits for a request (returns at once when one is pending) and takes it.
    pub(crate) async fn next(&self) {
        loop {
            if self.pending.swap(false, Ordering::SeqCst) {
                return;
            }
            self.wake.notified().await;
        }
    }
}

/// POLLING: resync when Port's resync request is newer than the last one handled.
pub(crate) async fn poll(client: Arc<port::Client>, trigger: Trigger, interval_secs: u64) {
    // The request present at start was handled before (or is covered by resyncOnStart):
    // the first poll only sets the watermark.
    let mut last: Option<DateTime<Utc>> = None;
    let mut last_unreadable: Option<String> = None;
    let mut first = true;
    let mut tick = tokio::time::interval(Duration::from_secs(interval_secs));
    loop {
        tick.tick().await;
        match port::resync_request::fetch(&client).await {
            Ok(requested) => {
                match requested {
                    Requested::At(at) if last.is_none_or(|l| at > l) => {
                        last = Some(at);
                        if !first {
                            trigger.request("port resync request");
                        }
                    }
                    // Once per distinct value, not at every poll.
                    Requested::Unreadable(raw) if last_unreadable.as_ref() != Some(&raw) => {
                        tracing::warn!(updated_at = %raw, "the resync request's updatedAt is not an RFC 3339 time; ignored");
                        last_unreadable = Some(raw);
                    }
                    _ => {}
                }
                first = false;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read the resync request; polling goes on")
            }
        }
    }
}

/// Scheduled resyncs, the first one interval after start (as Ocean).
pub(crate) async fn schedule(trigger: Trigger, every: Duration) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tick.tick().await;
        trigger.request("schedule");
    }
}
