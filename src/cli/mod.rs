//! The `aws-catalog-sync` command line: one file per subcommand, dispatched from
//! `Command`. The binary (`src/main.rs`) only calls [`main`].
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

mod kinds;
mod map;
mod sail;
mod validate;
mod version;

use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::{VERSION, logging};

/// Exit codes (documented in the README).
mod exit {
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

/// The subcommands.
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
        /// With --mapping: a blueprint file (one blueprint JSON object, or an array of
        /// them) checked against in addition to the default blueprints; a blueprint of the
        /// file replaces the default one with the same identifier. Repeatable.
        #[arg(long, requires = "mapping")]
        blueprints: Vec<std::path::PathBuf>,
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
    /// List the kinds: the native ones with their includeActions and IAM actions, and how
    /// any other AWS::X::Y type is listed (Cloud Control).
    Kinds {
        /// One JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the version.
    Version,
}

/// Runs the command line; the process's exit status.
pub fn main() -> ExitCode {
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
        Command::Sail { once, dry_run } => runtime.block_on(sail::run(once, dry_run)),
        Command::Validate {
            mapping,
            blueprints,
            ..
        } => runtime.block_on(validate::run(mapping, &blueprints)),
        Command::Map {
            mapping,
            kind,
            input,
        } => map::run(&mapping, &kind, &input),
        Command::Kinds { json } => kinds::run(json),
        Command::Version => version::run(),
    };
    ExitCode::from(code)
}

/// glibc gives every thread that allocates its own arena (up to 8 per core), and memory
/// freed in one cannot serve another: with the mapping on one thread and bulk requests on
/// the runtime's workers, two arenas keep peak RSS about 3 MiB lower at no measurable CPU
/// cost (docs/performance.md). `MALLOC_ARENA_MAX` in the environment still wins. Public
/// for the harness, whose engine benchmark runs this library's engine in its own process:
/// call it first thing in `main`, before any other thread exists.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

/// A mapping file: a port app config, or an integration object holding one in `config`.
fn read_mapping(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let v: Value = serde_yaml::from_str(&text)
        .map_err(|e| format!("{} is not YAML or JSON: {e}", path.display()))?;
    Ok(match v.get("config") {
        Some(config) if v.get("resources").is_none() => config.clone(),
        _ => v,
    })
}
