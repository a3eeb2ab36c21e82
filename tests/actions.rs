//! "Create an AWS account", served by the daemon: Port's signed webhook → Organizations
//! (moto) → the run's log, link and status and the account's entity in the Port fake.
//!
//! moto answers `DescribeCreateAccountStatus` with `SUCCEEDED` at once, so the fault proxy
//! answers canned `IN_PROGRESS` and `FAILED` statuses where a test needs them.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use base64::Engine;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use support::aws_proxy::Rule;
use support::daemon::Daemon;
use support::port_fake::PortFake;
use support::{ROLE, World, set};

const ACTION: &str = "create_aws_account";
const CREATION_ROLE: &str = "arn:aws:iam::123456789012:role/AccountCreator";
const BASE_URL: &str = "https://sync.example.com";

/// An organization of one member, with AWS's managed policies in IAM (the read role gets
/// `ReadOnlyAccess`).
async fn world() -> World {
    World::start_with_moto_env(
        &["--members", "1"],
        &[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")],
    )
    .await
}

/// The daemon in ACTIONS_ONLY mode with the account-creation role set.
fn env(w: &World) -> Vec<(String, String)> {
    let mut env = w.env();
    set(
        &mut env,
        "OCEAN__EVENT_LISTENER",
        r#"{"type":"ACTIONS_ONLY"}"#,
    );
    set(&mut env, "OCEAN__BASE_URL", BASE_URL);
    set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__ACCOUNT_CREATION_ROLE_ARN",
        CREATION_ROLE,
    );
    set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__ACCOUNT_CREATION_POLL_SECONDS",
        "1",
    );
    env
}

/// Starts the daemon and waits until it has created the action in Port (its start is done).
async fn start(w: &World) -> Daemon {
    let d = Daemon::start(&env(w)).await;
    d.wait_until(|| async { w.port.action(ACTION).is_some() })
        .await;
    d
}

/// Port's signature headers for `body` at `timestamp`, with `secret`.
fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// POSTs `body` to the action's route as Port does: signed with the client secret, now.
async fn deliver(d: &Daemon, body: &[u8]) -> u16 {
    deliver_signed(d, body, now(), PortFake::CLIENT_SECRET).await
}

async fn deliver_signed(d: &Daemon, body: &[u8], timestamp: u64, secret: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/actions/create-aws-account", d.url))
        .header("content-type", "application/json")
        .header("x-port-timestamp", timestamp.to_string())
        .header("x-port-signature", signature(secret, timestamp, body))
        .body(body.to_vec())
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// The default body of our action's definition, rendered as Port renders it.
fn default_body(run: &str, inputs: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"runId": run, "inputs": inputs, "triggeredBy": "dev@example.com"}))
        .unwrap()
}

async fn moto(w: &World) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(w.moto.url())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await
}

/// Every account of the organization: (id, email).
async fn accounts(w: &World) -> Vec<(String, String)> {
    let org = aws_sdk_organizations::Client::new(&moto(w).await);
    let mut out = Vec::new();
    let mut pages = org.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        for a in page.unwrap().accounts() {
            out.push((a.id().unwrap().to_string(), a.email().unwrap().to_string()));
        }
    }
    out
}

async fn accounts_with(w: &World, email: &str) -> Vec<String> {
    accounts(w)
        .await
        .into_iter()
        .filter(|(_, e)| e == email)
        .map(|(id, _)| id)
        .collect()
}

/// Waits until the run has ended; its final state.
async fn ended(d: &Daemon, w: &World, run: &str) -> Value {
    d.wait_until(|| async {
        w.port
            .run(run)
            .is_some_and(|r| r["status"] != "IN_PROGRESS")
    })
    .await;
    w.port.run(run).unwrap()
}

fn log_text(w: &World, run: &str) -> String {
    w.port
        .run_logs(run)
        .iter()
        .map(|l| l["message"].as_str().unwrap_or_default().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Nothing secret in what the daemon printed.
fn assert_no_secrets(d: &Daemon, w: &World) {
    let out = d.stderr();
    for secret in [PortFake::CLIENT_SECRET, "test-external-id"]
        .into_iter()
        .map(str::to_string)
        .chain(w.proxy.issued_secrets())
    {
        assert!(
            !out.contains(&secret),
            "a secret ({} chars) is in the output",
            secret.len()
        );
    }
    assert!(!out.contains("v1,"), "a signature is in the output");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_request_creates_the_account_in_its_ou_with_the_read_role_and_its_entity() {
    let w = world().await;
    let org = aws_sdk_organizations::Client::new(&moto(&w).await);
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string();
    let ou = org
        .create_organizational_unit()
        .parent_id(&root)
        .name("Sandbox")
        .send()
        .await
        .unwrap()
        .organizational_unit()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    let d = start(&w).await;
    // The action Port got points at the daemon, on the awsAccount blueprint.
    let action = w.port.action(ACTION).unwrap();
    assert_eq!(
        action["invocationMethod"]["url"],
        format!("{BASE_URL}/actions/create-aws-account")
    );
    assert_eq!(action["trigger"]["blueprintIdentifier"], "awsAccount");

    let run = w.port.create_run(
        ACTION,
        json!({"account_name": "Payments sandbox", "email": "payments@example.com",
               "organizational_unit_id": ou, "tags": {"team": "payments"}}),
    );
    let asked = Instant::now();
    let body = default_body(
        &run,
        json!({"account_name": "Payments sandbox", "email": "payments@example.com",
               "organizational_unit_id": ou, "tags": {"team": "payments"}}),
    );
    assert_eq!(deliver(&d, &body).await, 202);
    let done = ended(&d, &w, &run).await;
    println!("request to SUCCESS: {:.2} s", asked.elapsed().as_secs_f64());
    assert_eq!(done["status"], "SUCCESS", "{done}\n{}", log_text(&w, &run));

    // One account with that email, in the OU, tagged.
    let ids = accounts_with(&w, "payments@example.com").await;
    assert_eq!(ids.len(), 1, "{ids:?}");
    let id = &ids[0];
    let parents = org.list_parents().child_id(id).send().await.unwrap();
    assert_eq!(parents.parents()[0].id(), Some(ou.as_str()));
    let tags = org
        .list_tags_for_resource()
        .resource_id(id)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "team" && t.value() == "payments")
    );

    // The read role the sync assumes exists in the new account, trusting the sync's
    // identity with the external ID.
    let sts = aws_sdk_sts::Client::new(&moto(&w).await);
    let creds = sts
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{id}:role/OrganizationAccountAccessRole"
        ))
        .role_session_name("check")
        .send()
        .await
        .unwrap();
    let c = creds.credentials().unwrap();
    let in_account = moto(&w)
        .await
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                None,
                "t",
            )),
        )
        .build();
    let role = aws_sdk_iam::Client::new(&in_account)
        .get_role()
        .role_name(ROLE)
        .send()
        .await
        .expect("the read role exists in the new account");
    let trust = urlencoding::decode(role.role().unwrap().assume_role_policy_document().unwrap())
        .unwrap()
        .into_owned();
    assert!(
        trust.contains("test-external-id") && trust.contains("sts:ExternalId"),
        "{trust}"
    );

    // The run: request id, link to the account, the entity under it, a line per step.
    assert!(
        done["externalRunId"].as_str().unwrap().starts_with("car-"),
        "{done}"
    );
    assert!(done["link"].to_string().contains(id.as_str()), "{done}");
    assert!(
        done["summary"].as_str().unwrap().contains(id.as_str()),
        "{done}"
    );
    let entity = w
        .port
        .entity("awsAccount", id)
        .expect("the account's entity");
    assert_eq!(entity["title"], "Payments sandbox");
    assert_eq!(
        w.port.run_entities(&run),
        vec![("awsAccount".to_string(), id.clone())]
    );
    let log = log_text(&w, &run);
    for step in [
        "Creating the AWS account",
        "AWS accepted the request",
        "AWS created the account",
        "Moved the account",
        "Created the read role",
        "Added the account to the catalog",
        "Created AWS account",
    ] {
        assert!(
            log.contains(step),
            "{step:?} missing from the run's log:\n{log}"
        );
    }
    println!("run log as Port shows it:\n{log}");
    assert_no_secrets(&d, &w);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guide_s_flat_body_creates_the_account_too() {
    let w = world().await;
    let d = start(&w).await;
    let run = w.port.create_run(
        ACTION,
        json!({"account_name": "Guide", "email": "guide@example.com"}),
    );
    let body = serde_json::to_vec(&json!({
        "RUN_ID": run, "account_name": "Guide", "email": "guide@example.com", "iam_role_name": ""
    }))
    .unwrap();
    assert_eq!(deliver(&d, &body).await, 202);
    let done = ended(&d, &w, &run).await;
    assert_eq!(done["status"], "SUCCESS", "{done}\n{}", log_text(&w, &run));
    assert_eq!(accounts_with(&w, "guide@example.com").await.len(), 1);
    assert_no_secrets(&d, &w);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_stale_or_oversized_deliveries_change_nothing() {
    let w = world().await;
    let d = start(&w).await;
    let before = accounts(&w).await.len();
    let run = w.port.create_run(
        ACTION,
        json!({"account_name": "X", "email": "x@example.com"}),
    );
    let body = default_body(&run, json!({"account_name": "X", "email": "x@example.com"}));
    // Signed with another secret; six minutes old; from the future; no signature at all.
    assert_eq!(
        deliver_signed(&d, &body, now(), "not-the-secret").await,
        401
    );
    assert_eq!(
        deliver_signed(&d, &body, now() - 360, PortFake::CLIENT_SECRET).await,
        401
    );
    assert_eq!(
        deliver_signed(&d, &body, now() + 360, PortFake::CLIENT_SECRET).await,
        401
    );
    let unsigned = reqwest::Client::new()
        .post(format!("{}/actions/create-aws-account", d.url))
        .body(body.clone())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(unsigned, 401);
    // Over 64 KiB, even signed.
    let mut big = json!({"account_name": "X", "email": "x@example.com"});
    big["padding"] = json!("p".repeat(70 * 1024));
    assert_eq!(deliver(&d, &default_body(&run, big)).await, 413);
    // An unknown action route.
    let other = reqwest::Client::new()
        .post(format!("{}/actions/close-aws-account", d.url))
        .body(body.clone())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(other, 404);

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(accounts(&w).await.len(), before, "an account was created");
    assert_eq!(w.port.run(&run).unwrap()["status"], "IN_PROGRESS");
    assert!(w.port.run_logs(&run).is_empty());
    assert_eq!(w.proxy.hits("CreateAccount"), 0);
    assert_no_secrets(&d, &w);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_email_fails_the_run_naming_it_before_any_aws_call() {
    let w = world().await;
    let d = start(&w).await;
    let run = w.port.create_run(
        ACTION,
        json!({"account_name": "X", "email": "not-an-email"}),
    );
    let body = default_body(&run, json!({"account_name": "X", "email": "not-an-email"}));
    assert_eq!(deliver(&d, &body).await, 202);
    let done = ended(&d, &w, &run).await;
    assert_eq!(done["status"], "FAILURE");
    assert!(
        done["summary"].as_str().unwrap().contains("email"),
        "{done}"
    );
    assert_eq!(w.proxy.hits("CreateAccount"), 0);
    assert!(w.port.run_entities(&run).is_empty());
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_delivered_twice_creates_one_account() {
    let w = world().await;
    let d = start(&w).await;
    let inputs = json!({"account_name": "Twice", "email": "twice@example.com"});
    let run = w.port.create_run(ACTION, inputs.clone());
    let body = default_body(&run, inputs);
    let (a, b) = tokio::join!(deliver(&d, &body), deliver(&d, &body));
    assert_eq!((a, b), (202, 202));
    let done = ended(&d, &w, &run).await;
    assert_eq!(done["status"], "SUCCESS", "{done}");
    // A third delivery after the end changes nothing either.
    assert_eq!(deliver(&d, &body).await, 202);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(accounts_with(&w, "twice@example.com").await.len(), 1);
    assert_eq!(w.proxy.hits("CreateAccount"), 1);
    d.stop().await;
}

/// `DescribeCreateAccountStatus` answered by the proxy, `times` times.
fn canned_status(w: &World, state: &str, reason: Option<&str>, times: usize) {
    let mut status = json!({"Id": "car-canned", "AccountName": "x", "State": state, "RequestedTimestamp": 1.7e9});
    if let Some(r) = reason {
        status["FailureReason"] = json!(r);
    }
    w.proxy.add_rule(Rule {
        action: "DescribeCreateAccountStatus".into(),
        body: Some(json!({"CreateAccountStatus": status}).to_string()),
        times,
        ..Default::default()
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_creation_resumes_the_run_and_creates_one_account() {
    let w = world().await;
    canned_status(&w, "IN_PROGRESS", None, 10_000);
    let d = start(&w).await;
    let inputs = json!({"account_name": "Resumed", "email": "resumed@example.com"});
    let run = w.port.create_run(ACTION, inputs.clone());
    assert_eq!(deliver(&d, &default_body(&run, inputs)).await, 202);
    // AWS took the request and is "still creating": the daemon is stopped.
    d.wait_until(|| async { w.proxy.hits("DescribeCreateAccountStatus") >= 2 })
        .await;
    assert!(
        w.port.run(&run).unwrap()["externalRunId"]
            .as_str()
            .is_some_and(|id| id.starts_with("car-"))
    );
    let code = d.stop().await;
    assert_eq!(code, 128 + 15);
    let left = w.port.run(&run).unwrap();
    assert_eq!(
        left["status"], "IN_PROGRESS",
        "SIGTERM must leave the run resumable: {left}"
    );

    // The next start finds the run in progress and finishes it, without a second account.
    w.proxy.clear_rules();
    let d = Daemon::start(&env(&w)).await;
    let done = ended(&d, &w, &run).await;
    assert_eq!(done["status"], "SUCCESS", "{done}\n{}", log_text(&w, &run));
    assert!(log_text(&w, &run).contains("Resuming"));
    assert_eq!(accounts_with(&w, "resumed@example.com").await.len(), 1);
    assert_eq!(w.proxy.hits("CreateAccount"), 1);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_creation_ends_the_run_with_aws_reason_in_words() {
    let w = world().await;
    canned_status(&w, "IN_PROGRESS", None, 1);
    canned_status(&w, "FAILED", Some("EMAIL_ALREADY_EXISTS"), 10);
    let d = start(&w).await;
    let inputs = json!({"account_name": "Taken", "email": "taken@example.com"});
    let run = w.port.create_run(ACTION, inputs.clone());
    assert_eq!(deliver(&d, &default_body(&run, inputs)).await, 202);
    let done = ended(&d, &w, &run).await;
    assert_eq!(done["status"], "FAILURE");
    let summary = done["summary"].as_str().unwrap();
    assert!(
        summary.contains("already uses this email") && summary.contains("EMAIL_ALREADY_EXISTS"),
        "{summary}"
    );
    assert!(log_text(&w, &run).contains("AWS is creating the account"));
    assert!(w.port.run_entities(&run).is_empty());
    d.stop().await;
}
