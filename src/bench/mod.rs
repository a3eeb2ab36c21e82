//! `aws-catalog-sync bench`: the numbers in `docs/performance.md`.
//!
//! - [`e2e`]: a whole `sail --once` of this binary, as its own process, against moto and
//!   the Port fake on loopback, for organizations of N member accounts; with the emulator's
//!   floor ([`floor`]: the bare read requests, issued by a minimal client) measured in the
//!   same run.
//! - [`engine`]: the mapping and loading half alone, fed by a synthetic source, writing
//!   to an HTTP sink, at 10k to 1M entities.
//!
//! Every measured program runs as a child process, reaped with `wait4`, so peak RSS and
//! CPU are exactly its own (the fakes, the proxy and this harness are not counted).

pub mod e2e;
pub mod engine;
mod floor;
pub mod synthetic;

use std::process::Command;
use std::time::{Duration, Instant};

/// What a finished child process cost.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// Exit code (`-1` if killed by a signal).
    pub code: i32,
    /// Wall time from spawn to exit.
    pub wall: Duration,
    /// User + system CPU time.
    pub cpu: Duration,
    /// Peak resident set size, bytes.
    pub peak_rss: u64,
}

/// Runs `cmd` to completion on a blocking thread (the harness's own servers keep running)
/// and measures it.
pub async fn measure(mut cmd: Command) -> Result<Measured, String> {
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
        let pid = child.id() as libc::pid_t;
        let mut status: libc::c_int = 0;
        // SAFETY: an all-zero rusage is a valid value; wait4 fills it in.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is our own, not yet reaped child; the pointers are valid for the
        // call. Reaping it here means `child` must not be waited on again (it is not).
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        let wall = started.elapsed();
        if reaped != pid {
            return Err(format!(
                "wait4({pid}) failed: {}",
                std::io::Error::last_os_error()
            ));
        }
        let code = if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        };
        let tv = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
        };
        Ok(Measured {
            code,
            wall,
            cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
            // Linux reports ru_maxrss in KiB.
            peak_rss: usage.ru_maxrss as u64 * 1024,
        })
    })
    .await
    .map_err(|e| format!("measuring thread failed: {e}"))?
}

/// `1234567` → `"1.2 MiB"`.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The machine, for the report header.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or_else(
            || "? GiB".into(),
            |kb| format!("{:.0} GiB", kb as f64 / 1048576.0),
        );
    format!("{cores} cores ({cpu}), {mem}")
}

/// Whether this binary was built with optimisations (numbers from a debug build are not
/// comparable, and say so).
pub fn build_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug build (unoptimised: numbers are not representative)"
    } else {
        "release build"
    }
}
