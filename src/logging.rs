//! Log setup: `tracing` events with fields, human-readable on a terminal, JSON lines
//! otherwise (what Kubernetes log collectors expect). Logs go to stderr so that commands
//! printing data (`demo`, later `map`) keep stdout clean.
//!
//! The level comes from `APPLICATION__LOG_LEVEL` (Ocean's variable: ERROR, WARNING, INFO,
//! DEBUG, CRITICAL), or `RUST_LOG` for per-module filters.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `level` is Ocean's level name; unknown names mean INFO.
pub fn init(level: Option<&str>) {
    let level = match level.map(|l| l.trim().to_ascii_uppercase()) {
        Some(l) if l == "DEBUG" => "debug",
        Some(l) if l == "WARNING" || l == "WARN" => "warn",
        Some(l) if l == "ERROR" || l == "CRITICAL" => "error",
        Some(l) if l == "TRACE" => "trace",
        _ => "info",
    };
    // Our own events at the chosen level; the SDK and HTTP stacks one notch quieter, since
    // their DEBUG output is request-level noise.
    let default = format!("warn,aws_catalog_sync={level}");
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let result = if std::io::stderr().is_terminal() {
        builder.try_init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    };
    // A second init (tests, demo) keeps the first subscriber.
    let _ = result;
}
