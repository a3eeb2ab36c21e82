//! The `aws-catalog-sync` command line. See `lib.rs` for the map of the code.
//!
//! Exit status of a run (`sail --once`, or `sail` with the ONCE listener):
//! - `0` complete: every account, region and kind was listed and every entity written;
//! - `1` failed: the run could not proceed (Port unreachable or refusing the credentials,
//!   no AWS account accessible, …);
//! - `2` invalid input: bad settings or mapping; nothing was written to Port;
//! - `3` partial: the run finished, but some account, region, kind or entity failed;
//! - `130` / `143`: cancelled by SIGINT / SIGTERM, in any phase (resync state `aborted`; the
//!   message says what deletion had reached when the signal came during it). The long-running
//!   mode exits with the same codes.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use aws_catalog_sync::config::{ListenerKind, Settings};
use aws_catalog_sync::resync::{self, Outcome};
use aws_catalog_sync::{VERSION, logging};

/// Exit codes (documented in the README).
pub(crate) mod exit {
    pub const COMPLETE: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const INVALID_INPUT: u8 = 2;
    pub const PARTIAL: u8 = 3;
}

#[derive(Parser)]
#[command(name = "aws-catalog-sync", version = VERSION, about = "Keeps a Port catalog in sync with an AWS Organization (an Ocean aws-v3 peer)")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the configured event listener (Ocean's `ocean sail`). The default command.
    Sail {
        /// Run one resync and exit, whatever OCEAN__EVENT_LISTENER says.
        #[arg(short = 'O', long)]
        once: bool,
        /// Read everything, write nothing to Port, print the plan (JSON on stdout):
        /// upserts per blueprint and deletions with identifiers. Implies --once.
        #[arg(long)]
        dry_run: bool,
    },
    /// Check a mapping (and the settings) without writing anything: JQ syntax, kinds,
    /// blueprints, properties and relations. Exit status 2 when anything is wrong.
    Validate {
        /// A port app config file (YAML or JSON), checked against the default blueprints.
        #[arg(long, conflicts_with = "from_port")]
        mapping: Option<std::path::PathBuf>,
        /// The integration's mapping and the blueprints in Port (the default; reads only).
        #[arg(long)]
        from_port: bool,
    },
    /// Print the entities a mapping makes of raw items (JSON), and why items yield none.
    Map {
        /// A port app config file (YAML or JSON).
        #[arg(long)]
        mapping: std::path::PathBuf,
        /// The kind of the items, e.g. AWS::EC2::Instance.
        #[arg(long)]
        kind: String,
        /// A file of raw items (one JSON value, an array, or JSON lines), `-` for stdin.
        #[arg(long, default_value = "-")]
        input: String,
    },
    /// Print the version.
    Version,
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    logging::init(std::env::var("APPLICATION__LOG_LEVEL").ok().as_deref());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    let code = match cli.command.unwrap_or(Command::Sail {
        once: false,
        dry_run: false,
    }) {
        Command::Sail { once, dry_run } => runtime.block_on(sail(once, dry_run)),
        Command::Validate { mapping, .. } => runtime.block_on(commands::validate(mapping)),
        Command::Map {
            mapping,
            kind,
            input,
        } => commands::map(&mapping, &kind, &input),
        Command::Version => {
            println!("aws-catalog-sync {VERSION}");
            exit::COMPLETE
        }
    };
    ExitCode::from(code)
}

/// glibc gives every thread that allocates its own arena (up to 8 per core), and memory
/// freed in one cannot serve another: with the mapping on one thread and bulk requests on
/// the runtime's workers, two arenas keep peak RSS about 3 MiB lower at no measurable CPU
/// cost (docs/performance.md). `MALLOC_ARENA_MAX` in the environment still wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

async fn sail(once: bool, dry_run: bool) -> u8 {
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
async fn daemon(settings: aws_catalog_sync::config::Settings, signals: Signals) -> u8 {
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
    aws_catalog_sync::listener::serve(settings, port, rx).await
}
