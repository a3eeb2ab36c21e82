//! The runner's doorbell: listeners and the HTTP surface ask for a resync here, the
//! runner (`listener::serve`) waits on it. Its own module so that both sides depend on it
//! and not on each other.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// Asks the runner for a resync; cheap to clone and call from anywhere.
#[derive(Clone, Default)]
pub struct Trigger {
    pending: Arc<AtomicBool>,
    wake: Arc<Notify>,
}

impl Trigger {
    /// Requests a resync; several requests before the runner gets to them are one.
    pub fn request(&self, why: &str) {
        tracing::info!(trigger = why, "resync requested");
        self.pending.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Waits for a request (returns at once when one is pending) and takes it.
    pub async fn next(&self) {
        loop {
            if self.pending.swap(false, Ordering::SeqCst) {
                return;
            }
            self.wake.notified().await;
        }
    }
}
