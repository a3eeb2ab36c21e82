//! `harness bench`: the numbers in `docs/performance.md`.
//!
//! - [`e2e`]: a whole `sail --once` of the product binary, as its own process, against moto
//!   and the Port fake on loopback, for organizations of N member accounts; with the
//!   emulator's floor ([`floor`]: the bare read requests, issued by a minimal client)
//!   measured in the same run.
//! - [`engine`]: the mapping and loading half alone, fed by a synthetic source, writing
//!   to an HTTP sink, at 10k to 1M entities, in a child process of this harness binary.
//!
//! Every measured program runs as a child process: its CPU time comes from `wait4`, its
//! peak RSS from its own `VmHWM` (polled in `/proc` while it runs). Not `ru_maxrss`: on
//! Linux a child that was spawned (vfork/fork + exec) inherits its parent's peak in
//! `ru_maxrss`, so it would report this harness's memory, fakes and all.

pub mod e2e;
pub mod engine;
mod floor;
pub mod synthetic;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
        let done = Arc::new(AtomicBool::new(false));
        let watcher = {
            let done = done.clone();
            std::thread::spawn(move || {
                // VmHWM only grows; the last value read before the process exits is its peak
                // (give or take what it allocates in its last few milliseconds).
                let mut peak = 0;
                while !done.load(Ordering::Relaxed) {
                    if let Some(hwm) = vm_hwm(pid) {
                        peak = peak.max(hwm);
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                peak
            })
        };
        let mut status: libc::c_int = 0;
        // SAFETY: an all-zero rusage is a valid value; wait4 fills it in.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is our own, not yet reaped child; the pointers are valid for the
        // call. Reaping it here means `child` must not be waited on again (it is not).
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        let wall = started.elapsed();
        done.store(true, Ordering::Relaxed);
        let peak_rss = watcher.join().unwrap_or(0);
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
            peak_rss,
        })
    })
    .await
    .map_err(|e| format!("measuring thread failed: {e}"))?
}

/// `program` with `args`, as a measured child: a clean environment (plus glibc's
/// `MALLOC_*` tunables, to compare settings), the temp dir as working directory (away from
/// any `.env` or `config.yaml` of the caller), stderr to `<temp>/<log_name>.log`.
pub fn child_command(
    program: &Path,
    args: &[&str],
    log_name: &str,
) -> Result<(Command, PathBuf), String> {
    let log = std::env::temp_dir().join(format!("{log_name}.log"));
    let log_file =
        std::fs::File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(std::env::vars().filter(|(k, _)| k.starts_with("MALLOC_")))
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log_file));
    Ok((cmd, log))
}

/// `VmHWM` (peak resident set) of a running process, bytes.
fn vm_hwm(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
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

/// Whether this harness was built with optimisations (numbers from a debug build are not
/// comparable, and say so). The product binary it measures is the one of the same profile
/// ([`crate::product::binary`]).
pub fn build_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug build (unoptimised: numbers are not representative)"
    } else {
        "release build"
    }
}
