//! `harness bench` through the real harness binary, at toy sizes: it must run, count what
//! it claims to count and fail loudly when the measured run fails. (The numbers
//! themselves come from a release build; see docs/performance.md.)

use aws_catalog_sync_harness::run::{Run, run};

/// Runs the harness binary with exactly `env` (plus PATH/HOME), in an empty directory so no
/// `.env` or `config.yaml` reaches the product it runs.
async fn run_binary(args: &[&str], env: &[(String, String)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    run(
        std::path::Path::new(env!("CARGO_BIN_EXE_harness")),
        dir.path(),
        args,
        env,
    )
    .await
}

/// MOTO_VENV / CARGO_TARGET_DIR locate the test venv, AWS_CATALOG_SYNC_BIN the product
/// binary when set (see `aws_catalog_sync_harness::product::binary`); everything else is
/// cleared. Without it the product binary is the one beside the harness, which the
/// workspace's test run builds for the product's own tests (`cargo nextest run -p
/// aws-catalog-sync-harness` alone does not: build it first). `CARGO` is not passed on: a
/// build of the product from inside the test run would replace the binary the product's
/// tests are running at the same moment.
fn venv_env() -> Vec<(String, String)> {
    ["MOTO_VENV", "CARGO_TARGET_DIR", "AWS_CATALOG_SYNC_BIN"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect()
}

/// The summary row of a markdown table whose first cells are `first`.
fn row<'a>(stdout: &'a str, first: &str) -> Vec<&'a str> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(first))
        .unwrap_or_else(|| panic!("no row starting {first:?} in:\n{stdout}"));
    line.trim_matches('|').split('|').map(str::trim).collect()
}

#[tokio::test]
async fn bench_engine_streams_every_item_to_the_sink_in_a_child_process() {
    let run = run_binary(&["bench", "engine", "--items", "1500,3000"], &[]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for n in ["1500", "3000"] {
        let cells = row(&run.stdout, &format!("| {n} |"));
        // items | upserted | wall | CPU | rate | source CPU | rate without it | peak RSS | identity
        assert_eq!(
            cells[1], n,
            "every item became an upserted entity: {cells:?}"
        );
        let rss: f64 = cells[7].trim_end_matches(" MiB").parse().unwrap();
        assert!(rss > 1.0, "peak RSS is measured: {cells:?}");
    }
}

#[tokio::test]
async fn bench_e2e_measures_a_whole_run_and_the_request_plan() {
    let run = run_binary(&["bench", "e2e", "--members", "1"], &venv_env()).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    // 2 accounts × (2 regions × 20 instances + 5 buckets) + 2 accounts = 92 entities.
    for label in ["cold", "warm"] {
        let cells = row(out, &format!("| 1 | 2 | {label} |"));
        assert_eq!(cells[3], "92", "entities upserted, {label}: {cells:?}");
    }
    // The request plan, as counted by the proxy and the fake.
    for needle in [
        "4  ec2:DescribeInstances",
        "4  ecs:ListClusters",
        "2  s3:ListBuckets",
        "10  s3:GetBucketTagging",
        "3  sts:AssumeRole",
        "6  POST /v1/blueprints/{}/entities/bulk",
        "floor (22 requests)",
    ] {
        assert!(out.contains(needle), "{needle:?} in:\n{out}");
    }
}
