//! Shared test support: a moto server, a fault proxy in front of it, the Port fake, and a
//! runner for the real binary. The first three live in the harness crate (`harness/`), which
//! the demo and the benchmarks share, outside the product binary.
#![allow(dead_code)]

pub mod daemon;
pub mod helm;
pub mod jq_oracle;

pub use aws_catalog_sync_harness::run::Run;
pub use aws_catalog_sync_harness::{aws_proxy, default_mapping_in_regions, moto, port_fake};

use serde_json::{Value, json};

use port_fake::PortFake;

/// The role every seeded account can assume (moto accepts any role name).
pub const ROLE: &str = "PortOceanReadRole";
/// moto's default account, the organization's management account in the seed.
pub const MANAGEMENT: &str = "123456789012";
/// Integration identifier used by the tests.
pub const IDENTIFIER: &str = "test-aws-org";

/// A seeded moto with the Port fake beside it.
pub struct World {
    pub moto: moto::Moto,
    pub proxy: aws_proxy::AwsProxy,
    pub port: PortFake,
    pub manifest: Value,
}

impl World {
    /// Starts moto, seeds it with `seed_args`, and starts the proxy and the Port fake.
    pub async fn start(seed_args: &[&str]) -> World {
        World::start_with_moto_env(seed_args, &[]).await
    }

    /// [`World::start`] with moto settings (see `moto::Moto::start_with`).
    pub async fn start_with_moto_env(seed_args: &[&str], env: &[(&str, &str)]) -> World {
        let moto = moto::Moto::start_with(env).await.expect("moto starts");
        let manifest = moto.seed(seed_args).await.expect("seed succeeds");
        let proxy = aws_proxy::AwsProxy::start(&moto.url()).await;
        let port = PortFake::start().await;
        World {
            moto,
            proxy,
            port,
            manifest,
        }
    }

    /// The environment of a one-shot run in Organizations mode, AWS calls going through
    /// the proxy.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("OCEAN__PORT__CLIENT_ID", PortFake::CLIENT_ID.to_string()),
            (
                "OCEAN__PORT__CLIENT_SECRET",
                PortFake::CLIENT_SECRET.to_string(),
            ),
            ("OCEAN__PORT__BASE_URL", self.port.url()),
            ("OCEAN__INTEGRATION__IDENTIFIER", IDENTIFIER.to_string()),
            ("OCEAN__EVENT_LISTENER", r#"{"type":"ONCE"}"#.to_string()),
            ("OCEAN__INITIALIZE_PORT_RESOURCES", "true".to_string()),
            (
                "OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARN",
                format!("arn:aws:iam::{MANAGEMENT}:role/{ROLE}"),
            ),
            (
                "OCEAN__INTEGRATION__CONFIG__EXTERNAL_ID",
                "test-external-id".to_string(),
            ),
            ("AWS_ENDPOINT_URL", self.proxy.url()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
        ];
        env.retain(|_| true);
        env.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// Seeds the integration in the fake with the default mapping, EC2/ECS limited to the
    /// seeded regions (moto reports ~25 enabled regions; listing them all is slow).
    pub fn seed_integration_with_regions(&self) {
        self.seed_integration(default_mapping_in_regions(&["us-east-1", "eu-west-1"]));
    }

    /// Seeds the integration in the fake with `config` as its mapping.
    pub fn seed_integration(&self, config: Value) {
        self.port.put_integration(json!({
            "identifier": IDENTIFIER,
            "installationAppType": "aws-v3",
            "version": "0.0.0",
            "config": config,
            "arePortResourcesInitialized": false,
        }));
    }

    /// The catalog as a previous run left it: the default blueprints, every entity this
    /// run should produce, and `stale` entities, all owned by this integration.
    pub fn previous_run(&self, stale: &[(&str, &str)]) {
        let blueprints: Vec<Value> =
            serde_json::from_str(include_str!("../../resources/blueprints.json")).unwrap();
        for bp in blueprints {
            self.port.put_blueprint(bp);
        }
        let current = self.expected_keys(&self.account_ids());
        let stale = stale
            .iter()
            .map(|(bp, id)| (bp.to_string(), id.to_string()));
        for (bp, id) in current.into_iter().chain(stale) {
            self.port.put_entity(
                json!({"identifier": id, "blueprint": bp}),
                &our_datasource(),
            );
        }
    }

    /// Account ids in the manifest.
    pub fn account_ids(&self) -> Vec<String> {
        self.manifest["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// Member accounts (not the management account).
    pub fn members(&self) -> Vec<Value> {
        self.manifest["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| !a["management"].as_bool().unwrap_or(false))
            .cloned()
            .collect()
    }

    /// `(blueprint, identifier)` of every entity in the fake, sorted.
    pub fn catalog_keys(&self) -> Vec<(String, String)> {
        let mut keys: Vec<(String, String)> = self
            .port
            .entities()
            .iter()
            .map(|e| {
                (
                    e["blueprint"].as_str().unwrap().to_string(),
                    e["identifier"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        keys.sort();
        keys
    }

    /// The catalog the default mapping must produce for the given accounts.
    pub fn expected_keys(&self, accounts: &[String]) -> Vec<(String, String)> {
        let has = |v: &Value| accounts.iter().any(|a| a == v["account"].as_str().unwrap());
        let m = &self.manifest;
        let mut keys: Vec<(String, String)> = accounts
            .iter()
            .map(|a| ("awsAccount".to_string(), a.clone()))
            .collect();
        for i in m["instances"].as_array().unwrap().iter().filter(|v| has(v)) {
            keys.push(("ec2Instance".into(), i["id"].as_str().unwrap().into()));
        }
        for b in m["buckets"].as_array().unwrap().iter().filter(|v| has(v)) {
            keys.push((
                "s3Bucket".into(),
                format!("arn:aws:s3:::{}", b["name"].as_str().unwrap()),
            ));
        }
        for c in m["clusters"].as_array().unwrap().iter().filter(|v| has(v)) {
            keys.push(("ecsCluster".into(), c["arn"].as_str().unwrap().into()));
        }
        keys.sort();
        keys
    }
}

/// The `$datasource` Port stamps on entities this integration writes.
pub fn our_datasource() -> String {
    format!(
        "port-ocean/aws-v3/{}/{IDENTIFIER}/exporter",
        env!("CARGO_PKG_VERSION")
    )
}

/// The binary under test: this build's, or `AWS_CATALOG_SYNC_BIN` when set (to show that a
/// new test fails on an older build).
pub fn binary() -> String {
    std::env::var("AWS_CATALOG_SYNC_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_aws-catalog-sync").to_string())
}

/// Runs the real binary with exactly `env` (plus PATH/HOME), in an empty directory so no
/// `.env` or `config.yaml` is picked up.
pub async fn run_binary(args: &[&str], env: &[(String, String)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    run_binary_in(dir.path(), args, env).await
}

/// Runs the real binary like [`run_binary`], in `dir` (which may hold a `.env` or a
/// `config.yaml` the test put there).
pub async fn run_binary_in(dir: &std::path::Path, args: &[&str], env: &[(String, String)]) -> Run {
    aws_catalog_sync_harness::run::run(std::path::Path::new(&binary()), dir, args, env).await
}

/// The binary, started in an empty directory with exactly `env` (plus PATH) and its output
/// piped, for tests that signal it or watch it while it runs; killed when dropped.
pub fn spawn(
    args: &[&str],
    env: &[(String, String)],
) -> (tokio::process::Child, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new(binary());
    cmd.args(args)
        .current_dir(dir.path())
        .env_clear()
        .kill_on_drop(true);
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    (child, dir)
}

/// Sends `signal` (`TERM`, `INT`…) to a spawned binary.
pub fn kill(child: &tokio::process::Child, signal: &str) {
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .unwrap();
}

/// A TCP port free on loopback right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Sets or replaces one variable in an env list.
pub fn set(env: &mut Vec<(String, String)>, key: &str, value: &str) {
    env.retain(|(k, _)| k != key);
    env.push((key.to_string(), value.to_string()));
}

/// Removes one variable from an env list.
pub fn unset(env: &mut Vec<(String, String)>, key: &str) {
    env.retain(|(k, _)| k != key);
}

/// JSON equality with numbers compared as numbers (jq has one number type) and objects
/// compared as maps.
pub fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}
