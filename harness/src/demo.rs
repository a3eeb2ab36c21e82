//! `harness demo` (`cargo demo`): the whole job on a laptop, with no AWS or Port account.
//!
//! Starts moto (installing it into a venv under the target dir on first use), seeds an
//! organization, serves the Port fake the tests use, then runs **the product binary**
//! (`aws-catalog-sync sail --once`, see [`crate::product::binary`]) against both, exactly
//! as a user's CronJob would run it, and prints the resulting catalog.

use std::time::Instant;

use crate::{moto, port_fake};
use port_fake::PortFake;

/// Runs the demo; returns the exit code.
pub async fn run(members: u32) -> u8 {
    match run_inner(members).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("demo failed: {e}");
            1
        }
    }
}

async fn run_inner(members: u32) -> Result<u8, String> {
    // First: under `cargo run` this builds the product, and without it there is no demo.
    let exe = crate::product::binary()?;
    eprintln!("demo: starting the AWS emulator (moto)…");
    let moto = moto::Moto::start().await?;
    let members_arg = members.to_string();
    let manifest = moto
        .seed(&["--members", &members_arg, "--ou-members", "1"])
        .await?;
    let accounts = manifest["accounts"].as_array().map_or(0, Vec::len);
    eprintln!(
        "demo: seeded {accounts} accounts, {} EC2 instances, {} S3 buckets, {} ECS clusters in {}",
        manifest["instances"].as_array().map_or(0, Vec::len),
        manifest["buckets"].as_array().map_or(0, Vec::len),
        manifest["clusters"].as_array().map_or(0, Vec::len),
        manifest["regions"]
    );
    let port = PortFake::start().await;
    eprintln!("demo: running `aws-catalog-sync sail --once` against them…");
    let started = Instant::now();
    let status = tokio::process::Command::new(exe)
        .args(["sail", "--once"])
        .env("OCEAN__PORT__CLIENT_ID", PortFake::CLIENT_ID)
        .env("OCEAN__PORT__CLIENT_SECRET", PortFake::CLIENT_SECRET)
        .env("OCEAN__PORT__BASE_URL", port.url())
        .env("OCEAN__INTEGRATION__IDENTIFIER", "demo-aws-org")
        .env("OCEAN__EVENT_LISTENER", r#"{"type":"ONCE"}"#)
        .env("OCEAN__INITIALIZE_PORT_RESOURCES", "true")
        .env(
            "OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARN",
            "arn:aws:iam::123456789012:role/PortOceanReadRole",
        )
        .env(
            "OCEAN__INTEGRATION__CONFIG__EXTERNAL_ID",
            "demo-external-id",
        )
        .env("AWS_ENDPOINT_URL", moto.url())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .status()
        .await
        .map_err(|e| format!("cannot run the sync: {e}"))?;
    let elapsed = started.elapsed();
    let entities = port.entities();
    println!("{}", port_fake::summary_table(&entities));
    let mut per_blueprint = std::collections::BTreeMap::<String, usize>::new();
    for e in &entities {
        *per_blueprint
            .entry(e["blueprint"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    println!(
        "catalog: {} entities {:?}; sync exit status {}; sync wall time {:.2} s",
        entities.len(),
        per_blueprint,
        status.code().unwrap_or(-1),
        elapsed.as_secs_f64()
    );
    Ok(status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(1))
}
