//! `sail [--once] [--dry-run]`: the configured event listener (Ocean's `ocean sail`), or
//! one resync.

use crate::config::{ListenerKind, Settings};
use crate::resync::{self, Outcome};

use super::exit;

/// Runs the listener, or one resync when `once` (or a dry run); the exit code.
pub(super) async fn run(once: bool, dry_run: bool) -> u8 {
    // Before anything else: a signal from here on cancels cleanly (exit 130/143, resync state
    // `aborted` once one was set) instead of killing the process half-way through bootstrap.
    let signals = Signals::install();
    let mut settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration; nothing was done");
            eprintln!("error: {e}");
            return exit::INVALID_INPUT;
        }
    };
    for key in &settings.unknown_keys {
        tracing::warn!(key = %key, "unknown setting, ignored");
    }
    settings.dry_run |= dry_run;
    let once = once || settings.dry_run;
    if !once && settings.event_listener.kind != ListenerKind::Once {
        return daemon(settings, signals).await;
    }
    let signal = std::sync::atomic::AtomicU8::new(0);
    let shutdown = async {
        let received = signals.recv().await;
        signal.store(received, std::sync::atomic::Ordering::SeqCst);
    };
    let deadline = settings.resync_deadline(false);
    match resync::run(&settings, shutdown, deadline).await {
        Ok(report) => {
            if report.dry_run {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report.plan_json()).unwrap_or_default()
                );
            }
            match report.outcome() {
                Outcome::Complete => exit::COMPLETE,
                Outcome::Partial => exit::PARTIAL,
            }
        }
        Err(e @ resync::RunError::Aborted { .. }) => {
            eprintln!("error: {e}");
            128 + signal.load(std::sync::atomic::Ordering::SeqCst)
        }
        Err(e) => {
            tracing::error!(error = %e, "resync failed");
            eprintln!("error: {e}");
            if e.is_invalid_input() {
                exit::INVALID_INPUT
            } else {
                exit::FAILED
            }
        }
    }
}

/// SIGTERM (Kubernetes) and SIGINT (Ctrl-C), listened to from the moment they are
/// installed (tokio registers the handlers when the streams are created, not when first
/// awaited).
struct Signals {
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn install() -> Signals {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(term), Ok(int)) => Signals {
                streams: Some((term, int)),
            },
            _ => {
                tracing::warn!(
                    "cannot install signal handlers; SIGTERM/SIGINT will not cancel cleanly"
                );
                Signals { streams: None }
            }
        }
    }

    /// Waits for SIGTERM or SIGINT and returns its number.
    async fn recv(mut self) -> u8 {
        let Some((term, int)) = self.streams.as_mut() else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => 15,
            _ = int.recv() => 2,
        }
    }
}

/// The long-running mode: HTTP surface plus the configured listeners, until SIGTERM/SIGINT
/// (exit 143 / 130).
async fn daemon(settings: Settings, signals: Signals) -> u8 {
    let port = match std::env::var("APPLICATION__PORT") {
        Err(_) => 8000,
        Ok(p) => match p.trim().parse::<u16>() {
            Ok(p) => p,
            Err(_) => {
                eprintln!("error: APPLICATION__PORT: expected a port number, got {p:?}");
                return exit::INVALID_INPUT;
            }
        },
    };
    let (tx, rx) = tokio::sync::watch::channel(0u8);
    tokio::spawn(async move {
        let signal = signals.recv().await;
        tracing::info!(signal, "shutting down");
        let _ = tx.send(signal);
    });
    crate::daemon::serve(settings, port, rx).await
}
