//! Runs a program the way the tests run the product and the harness: with exactly the given
//! environment (plus `PATH` and `HOME`), in a given directory, within three minutes.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// What a finished program printed, and its exit code.
pub struct Run {
    /// Exit code (`-1` when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Both streams, for leak checks.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs `program` with `args` in `dir` with exactly `env` (plus `PATH`/`HOME`), so no
/// setting of the caller's environment leaks in. Panics (this is test support) when it
/// cannot start or runs longer than three minutes.
pub async fn run(program: &Path, dir: &Path, args: &[&str], env: &[(String, String)]) -> Run {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args).current_dir(dir).env_clear();
    for key in ["PATH", "HOME"] {
        if let Ok(v) = std::env::var(key) {
            cmd.env(key, v);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out: Output = tokio::time::timeout(Duration::from_secs(180), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{} finishes within 3 minutes", program.display()))
        .unwrap_or_else(|e| panic!("{} runs: {e}", program.display()));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
