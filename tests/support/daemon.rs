//! The binary in its long-running mode, for tests that talk to its HTTP surface.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The daemon, running.
pub struct Daemon {
    pub child: tokio::process::Child,
    pub url: String,
    pub port: u16,
    /// Everything it wrote to stderr so far (drained all along, so it never blocks).
    stderr: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Daemon {
    /// Starts the binary and waits until `{OCEAN__PATH_PREFIX}/health/live` answers on
    /// `APPLICATION__HOST` (127.0.0.1 when unset).
    pub async fn start(env: &[(String, String)]) -> Daemon {
        let var = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let prefix = var("OCEAN__PATH_PREFIX").unwrap_or_default();
        let host = var("APPLICATION__HOST").unwrap_or_else(|| "127.0.0.1".into());
        let port = super::free_port();
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = tokio::process::Command::new(super::binary());
        cmd.current_dir(dir.path()).env_clear().kill_on_drop(true);
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.env("APPLICATION__PORT", port.to_string());
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf).await
                && n > 0
            {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let d = Daemon {
            child,
            url: format!("http://{host}:{port}"),
            port,
            stderr,
            _dir: dir,
        };
        let live = format!("{prefix}/health/live");
        d.wait_until(|| async { d.get(&live).await.0 == 200 }).await;
        d
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        match reqwest::get(format!("{}{path}", self.url)).await {
            Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
            Err(_) => (0, String::new()),
        }
    }

    pub async fn post(&self, path: &str) -> u16 {
        self.post_with(path, None).await
    }

    /// POST with an `Authorization` header when given.
    pub async fn post_with(&self, path: &str, authorization: Option<&str>) -> u16 {
        let mut request = reqwest::Client::new().post(format!("{}{path}", self.url));
        if let Some(a) = authorization {
            request = request.header("Authorization", a);
        }
        request
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }

    /// The readiness body, parsed.
    pub async fn ready_body(&self, prefix: &str) -> Value {
        let (_, body) = self.get(&format!("{prefix}/health/ready")).await;
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }

    pub async fn wait_until<F, Fut>(&self, mut cond: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !cond().await {
            assert!(Instant::now() < deadline, "condition not met within 60 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, then the exit code.
    pub async fn stop(mut self) -> i32 {
        let pid = self.child.id().unwrap().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("exits within 20 s of SIGTERM")
            .unwrap();
        status.code().unwrap_or(-1)
    }
}
