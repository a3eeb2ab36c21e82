//! Start/stop a local `moto_server` (AWS emulator) for the integration tests
//! (`support::moto`), `harness demo` and `harness bench e2e`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The seed script (`seed.py` beside this file), compiled in and written to a temp file to run
/// it, so the harness works from any directory.
pub const SEED_PY: &str = include_str!("seed.py");

/// What the venv gets (pinned so every machine runs the same emulator; `.ci/run` uses the
/// same list).
/// `jq` is the jq.py binding of libjq 1.7.1, the library Ocean evaluates mappings with: the
/// oracle of the jq differential test.
pub const MOTO_PACKAGES: &[&str] = &["moto[server]==5.2.5", "boto3==1.44.5", "jq==1.13.0"];

/// The venv records what it was built with; a different list means reinstall.
fn stamp(dir: &Path) -> PathBuf {
    dir.join(".packages")
}

fn up_to_date(dir: &Path) -> bool {
    std::fs::read_to_string(stamp(dir)).is_ok_and(|s| s.trim() == MOTO_PACKAGES.join(" "))
}

/// How long `Moto::start` waits for the server to answer.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts with a fresh port if the server dies right away (e.g. the port was taken meanwhile).
const START_ATTEMPTS: usize = 3;

/// A running `moto_server` child process, killed when dropped.
pub struct Moto {
    child: tokio::process::Child,
    port: u16,
    url: String,
    venv: PathBuf,
    log: PathBuf,
    http: reqwest::Client,
}

impl Moto {
    /// Starts `moto_server -H 127.0.0.1 -p <free port>` and waits (≤30 s) until `GET /moto-api/`
    /// answers. Installs the moto venv first if needed (see [`venv`]).
    pub async fn start() -> Result<Moto, String> {
        Moto::start_with(&[]).await
    }

    /// [`Moto::start`] with moto settings in its environment, e.g.
    /// `MOTO_IAM_LOAD_MANAGED_POLICIES=true` (AWS's managed policies, `ReadOnlyAccess`…,
    /// which real IAM always has; off by default because moto then loads them into every
    /// account it creates, about a second each).
    pub async fn start_with(env: &[(&str, &str)]) -> Result<Moto, String> {
        let venv = venv(true)?;
        let server = venv.join("bin").join("moto_server");
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("building HTTP client: {e}"))?;

        let mut last_err = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            let log = std::env::temp_dir().join(format!("moto-server-{port}.log"));
            let log_file = std::fs::File::create(&log)
                .map_err(|e| format!("creating {}: {e}", log.display()))?;
            let log_err = log_file
                .try_clone()
                .map_err(|e| format!("cloning log file handle: {e}"))?;
            let child = tokio::process::Command::new(&server)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(Stdio::from(log_file))
                .stderr(Stdio::from(log_err))
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("spawning {}: {e}", server.display()))?;
            let mut moto = Moto {
                child,
                port,
                url: format!("http://127.0.0.1:{port}"),
                venv: venv.clone(),
                log,
                http: http.clone(),
            };
            match moto.wait_ready().await {
                Ok(()) => return Ok(moto),
                Err(e) => last_err = e,
            }
            // `moto` is dropped here, which kills the child.
        }
        Err(last_err)
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let probe = format!("{}/moto-api/", self.url);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "moto_server exited during startup ({status}); log {}:\n{}",
                    self.log.display(),
                    log_tail(&self.log)
                ));
            }
            let attempt = self
                .http
                .get(&probe)
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if attempt.is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "moto_server did not answer on {probe} within {}s; log {}:\n{}",
                    START_TIMEOUT.as_secs(),
                    self.log.display(),
                    log_tail(&self.log)
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's combined stdout/stderr log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Runs seed.py with the venv's python against this server (`--endpoint` is added) and returns
    /// the parsed manifest.
    pub async fn seed(&self, args: &[&str]) -> Result<serde_json::Value, String> {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let script = std::env::temp_dir().join(format!(
            "aws-catalog-sync-seed-{}-{}.py",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        tokio::fs::write(&script, SEED_PY)
            .await
            .map_err(|e| format!("writing {}: {e}", script.display()))?;
        let python = self.venv.join("bin").join("python");
        let out = tokio::process::Command::new(&python)
            .arg(&script)
            .args(["--endpoint", &self.url])
            .args(args)
            // Keep the developer's AWS setup out of the seeding: dummy creds are passed explicitly,
            // but a profile named in the environment that doesn't exist would still fail.
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_DEFAULT_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("NO_PROXY", no_proxy_env())
            .env("no_proxy", no_proxy_env())
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await;
        let _ = tokio::fs::remove_file(&script).await;
        let out = out.map_err(|e| format!("running {}: {e}", python.display()))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!(
                "seed.py {args:?} failed ({}):\n{stderr}",
                out.status
            ));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| {
            format!(
                "seed.py printed no valid JSON manifest ({e}); stdout:\n{}\nstderr:\n{stderr}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Wipes all emulated state (`POST /moto-api/reset`).
    pub async fn reset(&self) -> Result<(), String> {
        let url = format!("{}/moto-api/reset", self.url);
        let resp = self
            .http
            .post(&url)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("POST {url}: HTTP {}", resp.status()))
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Locates the moto venv: env `MOTO_VENV` if set, else `<target dir>/moto-venv` where the target
/// dir is env `CARGO_TARGET_DIR`, else the one the running program was built in (see
/// [`built_in_target_dir`]), else `<cwd>/target`. If `bin/moto_server` is
/// missing there and `install` is true, creates the venv with `python3 -m venv` and
/// `pip install "moto[server]" boto3`. Returns the venv dir.
pub fn venv(install: bool) -> Result<PathBuf, String> {
    // Serialises installs within this process (tests start servers concurrently).
    static INSTALL: Mutex<()> = Mutex::new(());

    let dir = venv_dir()?;
    let server = dir.join("bin").join("moto_server");
    if up_to_date(&dir) {
        return Ok(dir);
    }
    if !install {
        return Err(format!(
            "no moto venv at {} (set MOTO_VENV, or create it: python3 -m venv {0} && {0}/bin/pip install \"moto[server]\" boto3)",
            dir.display()
        ));
    }
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    // Serialises installs across processes too (nextest runs each test in its own): the
    // first creates the lock directory and installs, the others wait for it.
    let lock = dir.with_extension("lock");
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    let started = std::time::Instant::now();
    loop {
        if up_to_date(&dir) {
            return Ok(dir);
        }
        match std::fs::create_dir(&lock) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if started.elapsed() > std::time::Duration::from_secs(600) {
                    return Err(format!(
                        "waited 10 min for another install ({} exists)",
                        lock.display()
                    ));
                }
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
            Err(e) => return Err(format!("creating {}: {e}", lock.display())),
        }
    }
    struct Unlock(PathBuf);
    impl Drop for Unlock {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir(&self.0);
        }
    }
    let _unlock = Unlock(lock);
    eprintln!(
        "moto: installing moto[server] + boto3 into {} (one-time, needs PyPI access)",
        dir.display()
    );
    if !dir.join("bin").join("pip").is_file() {
        run_blocking(
            std::process::Command::new("python3")
                .args(["-m", "venv"])
                .arg(&dir),
        )?;
    }
    run_blocking(
        std::process::Command::new(dir.join("bin").join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(MOTO_PACKAGES),
    )?;
    if server.is_file() {
        std::fs::write(stamp(&dir), MOTO_PACKAGES.join(" "))
            .map_err(|e| format!("writing {}: {e}", stamp(&dir).display()))?;
        Ok(dir)
    } else {
        Err(format!(
            "pip install finished but {} is missing",
            server.display()
        ))
    }
}

fn venv_dir() -> Result<PathBuf, String> {
    if let Some(v) = std::env::var_os("MOTO_VENV").filter(|v| !v.is_empty()) {
        return absolute(PathBuf::from(v));
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        Some(t) => PathBuf::from(t),
        None => match built_in_target_dir() {
            Some(t) => t,
            None => std::env::current_dir()
                .map_err(|e| format!("current directory: {e}"))?
                .join("target"),
        },
    };
    absolute(target.join("moto-venv"))
}

/// The Cargo target directory the running program lives in (`target/<profile>/harness`, or a
/// test executable in `target/<profile>/deps/`): the nearest ancestor, at most three levels
/// up, holding Cargo's `CACHEDIR.TAG`. Not `CARGO_MANIFEST_DIR`: under `cargo run` or a test
/// of the harness that is `harness/`, not the workspace root that holds `target/`.
fn built_in_target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .take(3)
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
}

fn absolute(p: PathBuf) -> Result<PathBuf, String> {
    std::path::absolute(&p).map_err(|e| format!("resolving {}: {e}", p.display()))
}

/// Runs a setup command with its output on our stderr (stdout stays clean for the caller).
fn run_blocking(cmd: &mut std::process::Command) -> Result<(), String> {
    let desc = format!("{cmd:?}");
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .map_err(|e| format!("running {desc}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{desc} failed: {status}"))
    }
}

/// Asks the OS for a free TCP port on 127.0.0.1 (bind to port 0, read it, release it).
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| format!("binding 127.0.0.1:0: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("reading local port: {e}"))
}

fn no_proxy_env() -> String {
    let mut v = std::env::var("NO_PROXY")
        .or_else(|_| std::env::var("no_proxy"))
        .unwrap_or_default();
    if !v.is_empty() {
        v.push(',');
    }
    v.push_str("127.0.0.1,localhost");
    v
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
