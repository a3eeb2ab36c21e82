//! Outside input never crashes, hangs or leaks: odd numbers in Port's headers and token
//! responses, mappings that recurse without end or loop forever, and mappings that read
//! the environment. Each case runs the real binary against moto and the Port fake.

mod support;

use serde_json::{Value, json};
use support::port_fake::{Fault, PortFake};
use support::{World, run_binary, set};

const SEED: &[&str] = &["--members", "1"];

/// The default mapping, a catalog as a previous run left it plus one stale instance.
async fn world() -> World {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    w.previous_run(&[("ec2Instance", "i-stale")]);
    w
}

fn assert_complete_and_reconciled(w: &World) {
    assert_eq!(w.catalog_keys(), w.expected_keys(&w.account_ids()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_values_that_are_not_delays_do_not_break_the_upload() {
    let w = world().await;
    // One throttled answer per odd value, in this order.
    let odd = [
        "nan",
        "inf",
        "-5",
        "1e400",
        "soon",
        "Thu, 01 Jan 1970 00:00:00 GMT",
    ];
    for value in odd {
        w.port.inject(Fault {
            path_contains: "/entities/bulk".into(),
            status: 429,
            times: 1,
            retry_after: Some(value.into()),
            ..Fault::default()
        });
    }
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_complete_and_reconciled(&w);
    let throttled = w.port.requests().iter().filter(|r| r.status == 429).count();
    assert_eq!(throttled, odd.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_variable_that_is_not_utf8_is_ignored() {
    use std::os::unix::ffi::OsStrExt;
    let w = world().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_aws-catalog-sync"));
    cmd.args(["sail", "--once"])
        .current_dir(dir.path())
        .env_clear()
        .envs(w.env())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NOT_UTF8", std::ffi::OsStr::from_bytes(b"caf\xe9"));
    let out = tokio::time::timeout(std::time::Duration::from_secs(180), cmd.output())
        .await
        .expect("the binary finishes within 3 minutes")
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_complete_and_reconciled(&w);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_lifetime_of_1e20_seconds_does_not_crash_the_run() {
    for expires_in in [json!(1e20), json!(-1), json!(0.0001)] {
        let w = world().await;
        w.port.set_token_expires_in_raw(expires_in.clone());
        let run = run_binary(&["sail", "--once"], &w.env()).await;
        assert_eq!(run.code, 0, "expiresIn {expires_in}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert_complete_and_reconciled(&w);
    }
}

/// Seeds a mapping of the accounts onto a `jqProbe` blueprint whose string properties are
/// `properties` (name → expression).
fn seed_probe_mapping(w: &World, properties: &[(&str, &str)]) {
    let schema: serde_json::Map<String, Value> = properties
        .iter()
        .map(|(name, _)| (name.to_string(), json!({"type": "string"})))
        .collect();
    w.port.put_blueprint(json!({
        "identifier": "jqProbe",
        "title": "JQ probe",
        "schema": {"properties": schema, "required": []},
        "relations": {}
    }));
    let mappings: serde_json::Map<String, Value> = properties
        .iter()
        .map(|(name, expr)| (name.to_string(), json!(expr)))
        .collect();
    w.seed_integration(json!({
        "resources": [{
            "kind": "AWS::Account::Info",
            "selector": {"query": "true"},
            "port": {"entity": {"mappings": {
                "identifier": ".Properties.Id",
                "title": ".Properties.Name",
                "blueprint": "\"jqProbe\"",
                "properties": mappings
            }}}
        }]
    }));
}

/// The probe entities written, one per account.
fn probes(w: &World) -> Vec<Value> {
    let probes: Vec<Value> = w
        .port
        .entities()
        .into_iter()
        .filter(|e| e["blueprint"] == "jqProbe")
        .collect();
    assert_eq!(probes.len(), w.account_ids().len(), "one probe per account");
    probes
}

/// Log lines (JSON events) that mention `needle`.
fn lines_with<'a>(stderr: &'a str, needle: &str) -> Vec<&'a str> {
    stderr.lines().filter(|l| l.contains(needle)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jq_recursion_without_end_nulls_the_field_and_the_run_goes_on() {
    let w = World::start(SEED).await;
    let deep = "def f: 1 + f; f";
    seed_probe_mapping(&w, &[("deep", deep), ("id", ".Properties.Id")]);
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for p in probes(&w) {
        assert_eq!(p["properties"]["deep"], Value::Null, "{p}");
        assert_eq!(p["properties"]["id"], p["identifier"], "{p}");
    }
    let logged = lines_with(&run.stderr, "properties.deep");
    assert!(
        logged
            .iter()
            .any(|l| l.contains(deep) && l.contains("recursion")),
        "the error names the expression and the cause:\n{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jq_loops_without_end_null_the_field_and_the_run_goes_on() {
    let w = World::start(SEED).await;
    let loops = [
        ("until", "until(false; .)"),
        ("selfcall", "def f: f; f"),
        ("range", "last(range(1e18))"),
        ("repeat", "[limit(1e9; repeat(1))] | length"),
    ];
    let mut properties = loops.to_vec();
    properties.push(("id", ".Properties.Id"));
    seed_probe_mapping(&w, &properties);
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for p in probes(&w) {
        for (name, _) in loops {
            assert_eq!(p["properties"][name], Value::Null, "{name}: {p}");
        }
        assert_eq!(p["properties"]["id"], p["identifier"], "{p}");
    }
    for (name, _) in loops {
        let logged = lines_with(&run.stderr, &format!("properties.{name}"));
        assert!(
            logged.iter().any(|l| l.contains("steps")),
            "{name}: the error says the evaluation was cut short:\n{}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_json_text_nulls_the_field_and_the_run_goes_on() {
    let w = World::start(SEED).await;
    let deep = [
        ("arrays", r#""[" * 200000 | fromjson"#),
        ("objects", r#""{\"a\":" * 200000 | fromjson"#),
        ("caught", r#""[" * 200000 | fromjson? // "fallback""#),
    ];
    let mut properties = deep.to_vec();
    properties.push(("shallow", r#""[[1], {\"a\": 2}]" | fromjson | tojson"#));
    seed_probe_mapping(&w, &properties);
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for p in probes(&w) {
        assert_eq!(p["properties"]["arrays"], Value::Null, "{p}");
        assert_eq!(p["properties"]["objects"], Value::Null, "{p}");
        assert_eq!(p["properties"]["caught"], "fallback", "{p}");
        assert_eq!(p["properties"]["shallow"], r#"[[1],{"a":2}]"#, "{p}");
    }
    let logged = lines_with(&run.stderr, "properties.arrays");
    assert!(
        logged.iter().any(|l| l.contains("depth limit")),
        "{}",
        run.stderr
    );
}

/// Values of this program's secrets, set in the run's environment below.
const EXTERNAL_ID: &str = "test-external-id";
const INTEGRATION_SECRET: &str = "integration-secret-SENTINEL-41d2";
const SESSION_TOKEN: &str = "session-token-SENTINEL-8e0c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jq_env_never_shows_this_programs_secrets() {
    let w = World::start(SEED).await;
    seed_probe_mapping(
        &w,
        &[
            ("portSecret", "env.OCEAN__PORT__CLIENT_SECRET"),
            ("externalId", "$ENV.OCEAN__INTEGRATION__CONFIG__EXTERNAL_ID"),
            (
                "integrationSecret",
                "env.OCEAN__INTEGRATION__SECRETS__API_KEY",
            ),
            ("copy", "env.COPY_OF_THE_PORT_SECRET"),
            ("all", "env | tojson"),
            ("allEnv", "$ENV | tojson"),
            ("visible", "env.PROBE_VISIBLE"),
            // jq's error would quote the external ID.
            ("broken", "env.OCEAN__INTEGRATION__CONFIG__EXTERNAL_ID | .x"),
        ],
    );
    let mut env = w.env();
    set(
        &mut env,
        "OCEAN__INTEGRATION__SECRETS__API_KEY",
        INTEGRATION_SECRET,
    );
    set(&mut env, "AWS_SESSION_TOKEN", SESSION_TOKEN);
    set(&mut env, "COPY_OF_THE_PORT_SECRET", PortFake::CLIENT_SECRET);
    set(&mut env, "PROBE_VISIBLE", "plain-value");
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let secrets = [
        PortFake::CLIENT_SECRET,
        EXTERNAL_ID,
        INTEGRATION_SECRET,
        SESSION_TOKEN,
    ];
    for p in probes(&w) {
        let props = &p["properties"];
        // env access stays on (Ocean's default): other variables are there.
        assert_eq!(props["visible"], "plain-value", "{p}");
        assert!(props["all"].as_str().unwrap().contains("PROBE_VISIBLE"));
        for name in [
            "portSecret",
            "externalId",
            "integrationSecret",
            "copy",
            "broken",
        ] {
            assert_eq!(props[name], Value::Null, "{name}: {p}");
        }
        for secret in secrets {
            assert!(!p.to_string().contains(secret), "{secret} in {p}");
        }
    }
    for secret in secrets {
        assert!(
            !run.all_output().contains(secret),
            "{secret} in the output:\n{}",
            run.all_output()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jq_errors_are_logged_with_the_expression_and_without_the_values() {
    let w = World::start(SEED).await;
    let expression = r#"{"v": "confidential-\(.Properties.Id)"} | .v | .x"#;
    seed_probe_mapping(&w, &[("broken", expression)]);
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let logged = lines_with(&run.stderr, "properties.broken");
    assert!(
        logged.iter().any(|l| l.contains("cannot index")),
        "the error kind is logged:\n{}",
        run.stderr
    );
    for account in w.account_ids() {
        let value = format!("confidential-{account}");
        assert!(
            !run.all_output().contains(&value),
            "{value} in the output:\n{}",
            run.all_output()
        );
    }
}
