//! The fault catalogue: each fault costs time, never data. Every case starts from a
//! catalogue that holds a stale version of everything the run must write, and checks that
//! the run wrote every entity itself (Port's write log and the entity's content), not only
//! that the right keys are there.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::json;
use support::aws_proxy::{Call, Rule};
use support::port_fake::{Fault, Recorded};
use support::{IDENTIFIER, World, our_datasource, run_binary};

const SEED: &[&str] = &["--members", "2", "--ou-members", "1"];

/// The title of every entity as the previous run left it; the mapping gives every blueprint
/// a title, so an entity this run wrote never holds it.
const STALE_TITLE: &str = "as-the-previous-run-left-it";

/// A world whose catalogue holds a stale version of every entity the run must write (the
/// previous run's title, no properties), plus one stale EC2 instance and one stale bucket of
/// ours.
async fn world() -> World {
    world_seeded(SEED).await
}

async fn world_seeded(seed: &[&str]) -> World {
    let w = World::start(seed).await;
    w.seed_integration_with_regions();
    w.previous_run(&[
        ("ec2Instance", "i-stale"),
        ("s3Bucket", "arn:aws:s3:::stale"),
    ]);
    for (bp, id) in w.expected_keys(&w.account_ids()) {
        w.port.put_entity(
            json!({"identifier": id, "blueprint": bp, "title": STALE_TITLE}),
            &our_datasource(),
        );
    }
    w
}

fn fault(path: &str, status: u16, times: usize) -> Fault {
    Fault {
        path_contains: path.into(),
        status,
        times,
        ..Fault::default()
    }
}

/// The catalog after a complete run: every current entity, each written by this run, and no
/// stale one.
fn assert_complete_and_written(w: &World) {
    let expected = w.expected_keys(&w.account_ids());
    assert_eq!(w.catalog_keys(), expected);
    assert_written(w, &expected);
}

/// Port accepted an upsert of each of `keys` during this run (the write log starts empty:
/// the previous run's catalogue was seeded directly), and the stored entity is no longer the
/// previous run's version.
fn assert_written(w: &World, keys: &[(String, String)]) {
    let written: BTreeSet<(String, String)> = w
        .port
        .writes()
        .into_iter()
        .map(|x| (x.blueprint, x.identifier))
        .collect();
    let missing: Vec<_> = keys.iter().filter(|k| !written.contains(k)).collect();
    assert!(missing.is_empty(), "not written by this run: {missing:?}");
    for (bp, id) in keys {
        let entity = w.port.entity(bp, id).expect("in the catalogue");
        assert_ne!(
            entity["title"], STALE_TITLE,
            "{bp} {id} still holds the previous run's version"
        );
    }
}

/// Entity identifiers of a bulk upsert request.
fn bulk_ids(r: &Recorded) -> BTreeSet<String> {
    r.body["entities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["identifier"].as_str().map(str::to_string))
        .collect()
}

/// Index of the first request after `requests[i]` that repeats it (same method, path and
/// body).
fn repeat_of(requests: &[Recorded], i: usize) -> Option<usize> {
    let first = &requests[i];
    (i + 1..requests.len()).find(|j| {
        let r = &requests[*j];
        r.method == first.method && r.path == first.path && r.body == first.body
    })
}

/// Every request Port answered with `status` was sent again until Port accepted it; how
/// many there were.
fn assert_each_retried_until_accepted(requests: &[Recorded], status: u16) -> usize {
    let refused: Vec<usize> = (0..requests.len())
        .filter(|i| requests[*i].status == status)
        .collect();
    for &i in &refused {
        let mut at = i;
        while !(200..300).contains(&requests[at].status) {
            at = repeat_of(requests, at).unwrap_or_else(|| {
                panic!(
                    "{} {} answered {} was not sent again until accepted",
                    requests[i].method, requests[i].path, requests[at].status
                )
            });
        }
    }
    refused.len()
}

/// Waits (at most a minute: only a hang guard) until Port holds a request.
async fn wait_until_held(w: &World) -> Recorded {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(r) = w.port.held().into_iter().next() {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "the run never sent the request to hold"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Exit status and stderr. The bound only guards against a hang: a binary that waits for a
/// held request never exits.
async fn finish(child: tokio::process::Child) -> (Option<i32>, String) {
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the process exits")
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_429_burst_with_retry_after_is_waited_out() {
    let w = world().await;
    w.port.inject(Fault {
        retry_after: Some("1".into()),
        ..fault("/entities/bulk", 429, 3)
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_complete_and_written(&w);
    let requests = w.port.requests();
    let throttled = assert_each_retried_until_accepted(&requests, 429);
    assert_eq!(throttled, 3);
    // Retry-After, from the spacing of the calls: each retry came at least the second Port
    // asked for after the 429 was answered (the backoff without it is 300 ms).
    for (i, r) in requests.iter().enumerate().filter(|(_, r)| r.status == 429) {
        let retry = &requests[repeat_of(&requests, i).unwrap()];
        let gap = retry.at.duration_since(r.answered.expect("answered"));
        assert!(
            gap >= Duration::from_secs(1),
            "{} retried {gap:?} after its 429 (Retry-After: 1)",
            r.path
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_503_flapping_is_retried() {
    let w = world().await;
    w.port.inject(fault("/entities/bulk", 503, 4));
    w.port.inject(fault("/datasource-entities", 503, 1));
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_complete_and_written(&w);
    let requests = w.port.requests();
    assert_eq!(assert_each_retried_until_accepted(&requests, 503), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_latency_on_every_call_only_costs_time() {
    let w = world().await;
    w.port.inject(Fault {
        latency_ms: 300,
        ..fault("/v1/", 0, 10_000)
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_complete_and_written(&w);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_rejected_mid_run_is_refreshed_once_and_the_write_retried() {
    let w = world().await;
    // The EC2 upsert waits in Port until the token it carries has been revoked: Port then
    // answers it 401.
    w.port.hold("/blueprints/ec2Instance/entities/bulk");
    let (child, _dir) = support::spawn(&["sail", "--once"], &w.env());
    let held = wait_until_held(&w).await;
    w.port.expire_tokens();
    w.port.unhold();
    let (code, stderr) = finish(child).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_complete_and_written(&w);

    let requests = w.port.requests();
    let held_at = requests
        .iter()
        .position(|r| r.path == held.path && r.body == held.body)
        .unwrap();
    assert_eq!(requests[held_at].status, 401, "the held upsert was refused");
    let retry =
        &requests[repeat_of(&requests, held_at).expect("the refused upsert was sent again")];
    assert_eq!(retry.status, 200, "the retry was accepted");
    let is_token = |r: &&Recorded| r.path.ends_with("/auth/access_token");
    assert!(
        requests[held_at..]
            .iter()
            .filter(is_token)
            .any(|t| t.at < retry.at),
        "a new token was fetched before the retry"
    );
    // One token at the start, then exactly one refresh per refused request: neither a token
    // per request nor a retry with the revoked one.
    let refused = requests.iter().filter(|r| r.status == 401).count();
    let tokens = requests.iter().filter(is_token).count();
    assert_eq!(tokens, 1 + refused, "{refused} requests refused");
    assert_each_retried_until_accepted(&requests, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_port_finds_too_large_is_split() {
    let w = world().await;
    w.port
        .inject(fault("/blueprints/ec2Instance/entities/bulk", 413, 1));
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_complete_and_written(&w);

    let requests = w.port.requests();
    let refused = requests.iter().position(|r| r.status == 413).unwrap();
    let too_large = bulk_ids(&requests[refused]);
    assert!(too_large.len() > 1, "{too_large:?}");
    // The follow-up requests carry the refused batch's entities, each fewer of them, and
    // together all of them, once.
    let follow_ups: Vec<BTreeSet<String>> = requests[refused + 1..]
        .iter()
        .filter(|r| r.path == requests[refused].path && r.status == 200)
        .map(bulk_ids)
        .filter(|ids| !ids.is_disjoint(&too_large))
        .collect();
    assert!(follow_ups.len() >= 2, "{follow_ups:?}");
    for ids in &follow_ups {
        assert!(
            ids.len() < too_large.len() && ids.is_subset(&too_large),
            "{ids:?}"
        );
    }
    let sent: usize = follow_ups.iter().map(BTreeSet::len).sum();
    let union: BTreeSet<String> = follow_ups.into_iter().flatten().collect();
    assert_eq!(union, too_large);
    assert_eq!(sent, too_large.len(), "each entity sent once");
}

/// Calls with that action, in arrival order.
fn calls_of(w: &World, action: &str) -> Vec<Call> {
    w.proxy
        .calls()
        .into_iter()
        .filter(|c| c.action == action)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_throttling_is_retried() {
    let w = world().await;
    w.proxy.add_rule(Rule {
        action: "DescribeInstances".into(),
        status: 503,
        code: "RequestLimitExceeded".into(),
        times: 2,
        ..Default::default()
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_complete_and_written(&w);
    let calls = calls_of(&w, "DescribeInstances");
    // One page per (account, region), plus one retry per throttled answer.
    let units = w.account_ids().len() * 2;
    assert_eq!(calls.len(), units + 2, "{calls:#?}");
    for (i, c) in calls.iter().enumerate().filter(|(_, c)| c.status == 503) {
        assert!(
            calls[i + 1..]
                .iter()
                .any(|r| r.access_key == c.access_key && r.region == c.region && r.status == 200),
            "the throttled call in {} was retried",
            c.region
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_throttling_that_outlasts_the_retries_fails_that_kind_only() {
    let w = world().await;
    w.proxy.add_rule(Rule {
        action: "DescribeInstances".into(),
        status: 503,
        code: "RequestLimitExceeded".into(),
        times: 1000,
        ..Default::default()
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    // EC2 was not seen: its blueprint is not reconciled, so every instance (stale or not)
    // is still there as the previous run left it; the other kinds were written and S3's
    // stale bucket went.
    assert!(w.port.entity("ec2Instance", "i-stale").is_some());
    let expected = w.expected_keys(&w.account_ids());
    let (ec2, others): (Vec<_>, Vec<_>) = expected
        .into_iter()
        .partition(|(bp, _)| bp == "ec2Instance");
    assert!(!ec2.is_empty());
    for (bp, id) in &ec2 {
        let kept = w.port.entity(bp, id).expect("kept");
        assert_eq!(kept["title"], STALE_TITLE, "{bp} {id} untouched");
    }
    assert!(
        w.port.writes().iter().all(|x| x.blueprint != "ec2Instance"),
        "no EC2 entity was written"
    );
    assert_written(&w, &others);
    assert!(w.port.entity("s3Bucket", "arn:aws:s3:::stale").is_none());
    let mut keys = w.catalog_keys();
    keys.retain(|(bp, _)| bp != "ec2Instance");
    assert_eq!(keys, others, "the other blueprints reconciled");
    assert!(
        run.stderr.contains("RequestLimitExceeded"),
        "{}",
        run.stderr
    );
}

/// SIGTERM while Port holds the requests matching `hold`; returns the stderr once the process
/// has exited (without Port having answered what it held).
async fn sigterm_while_port_holds(w: &World, hold: &str) -> String {
    w.port.hold(hold);
    let (child, _dir) = support::spawn(&["sail", "--once"], &w.env());
    wait_until_held(w).await;
    support::kill(&child, "TERM");
    let (code, stderr) = finish(child).await;
    assert_eq!(code, Some(143), "{stderr}");
    // The process did not wait for Port: what Port held was never answered.
    let unanswered: Vec<Recorded> = w
        .port
        .requests()
        .into_iter()
        .filter(|r| r.path.contains(hold))
        .collect();
    assert!(!unanswered.is_empty());
    assert!(
        unanswered.iter().all(|r| r.answered.is_none()),
        "{unanswered:#?}"
    );
    assert_eq!(w.port.resync_states(IDENTIFIER), vec!["running", "aborted"]);
    assert!(
        w.port
            .write_requests()
            .iter()
            .all(|r| !r.path.contains("/delete")),
        "no delete request"
    );
    assert!(stderr.contains("nothing was deleted"), "{stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_run_aborts_cleanly_and_deletes_nothing() {
    let w = world().await;
    // During the upload: Port holds the bulk upserts.
    sigterm_while_port_holds(&w, "/entities/bulk").await;
    // The catalogue is the previous run's, untouched.
    let mut previous = w.expected_keys(&w.account_ids());
    previous.push(("ec2Instance".into(), "i-stale".into()));
    previous.push(("s3Bucket".into(), "arn:aws:s3:::stale".into()));
    previous.sort();
    assert_eq!(w.catalog_keys(), previous);
    assert!(w.port.writes().is_empty(), "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_reconciliation_deletes_nothing() {
    let w = world().await;
    // Upload done, reconciliation started: Port holds the owned-entity listing, the step
    // right before deletion. A run that went on past the signal would delete both stale
    // entities.
    sigterm_while_port_holds(&w, "/blueprints/entities/datasource-entities").await;
    let expected = w.expected_keys(&w.account_ids());
    assert_written(&w, &expected);
    assert!(w.port.entity("ec2Instance", "i-stale").is_some());
    assert!(w.port.entity("s3Bucket", "arn:aws:s3:::stale").is_some());
}

/// The calls signed with credentials from AssumeRole, grouped by the role session that
/// issued them: (role ARN, session name) → (AssumeRole calls, other calls), each in arrival
/// order.
fn calls_per_role_session(w: &World) -> BTreeMap<(String, String), (Vec<Call>, Vec<Call>)> {
    let calls = w.proxy.calls();
    let mut issuer: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut out: BTreeMap<(String, String), (Vec<Call>, Vec<Call>)> = BTreeMap::new();
    for c in &calls {
        if let (Some(key), Some(arn), Some(session)) = (&c.issued_key, &c.role_arn, &c.session_name)
        {
            let session = (arn.clone(), session.clone());
            issuer.insert(key.clone(), session.clone());
            out.entry(session).or_default().0.push(c.clone());
        }
    }
    for c in &calls {
        if let Some(session) = issuer.get(&c.access_key) {
            out.entry(session.clone()).or_default().1.push(c.clone());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiring_role_credentials_are_renewed_during_a_run() {
    // Eight buckets per account: at one S3 call a second, each account is busy for 8 s or
    // more, several credential lifetimes below.
    let seed = [SEED, &["--buckets-per-account", "8"]].concat();
    let w = world_seeded(&seed).await;
    let mut env = w.env();
    // Credentials valid 30 s and renewed 27 s before they expire: due 3 s after each
    // AssumeRole (the proxy writes the expiry in whole seconds, so 2–3 s).
    const LIFETIME: f64 = 30.0;
    const MARGIN: f64 = 27.0;
    let due = LIFETIME - MARGIN;
    w.proxy.set_credentials_lifetime(LIFETIME as u64);
    support::set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__CREDENTIAL_REFRESH_MARGIN_SECONDS",
        &MARGIN.to_string(),
    );
    support::set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__MAX_REQUESTS_PER_SECOND",
        "1",
    );
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_complete_and_written(&w);

    let sessions = calls_per_role_session(&w);
    // The org role's session and one per account.
    assert_eq!(sessions.len(), w.account_ids().len() + 1, "{sessions:#?}");
    // From a call being signed to it reaching AWS (generous: a machine under load).
    let transit = 1.0;
    let mut renewed = 0;
    for ((arn, session), (assumed, used)) in &sessions {
        // Caching: credentials are reused until due; a renewal comes only once they are.
        for pair in assumed.windows(2) {
            let gap = pair[1].at.duration_since(pair[0].at).as_secs_f64();
            assert!(
                gap > due - 1.0,
                "{arn} {session}: renewed {gap:.2} s after the last AssumeRole, due after {due} s"
            );
        }
        // Renewal: no call is signed with credentials past their due time, except while
        // their renewal is under way (other tasks keep using them meanwhile).
        for c in used {
            let i = assumed
                .iter()
                .position(|a| a.issued_key.as_deref() == Some(c.access_key.as_str()))
                .unwrap();
            let issued = assumed[i].answered.unwrap();
            let mut usable_until = issued + Duration::from_secs_f64(due);
            if let Some(renewed_at) = assumed.get(i + 1).and_then(|next| next.answered) {
                usable_until = usable_until.max(renewed_at);
            }
            let late = c.at.saturating_duration_since(usable_until).as_secs_f64();
            assert!(
                late <= transit,
                "{arn} {session}: {} signed with credentials {:.2} s old, {late:.2} s past due",
                c.action,
                c.at.duration_since(issued).as_secs_f64()
            );
        }
        // The count of AssumeRole calls those rules allow, from when the calls came: at most
        // one renewal per (due − 1) s of activity; at least as many as keep every call
        // within a generous 2 × due of a renewal.
        let start = assumed[0].at;
        let last = used.last().map_or(start, |c| c.at);
        let span = last.saturating_duration_since(start).as_secs_f64();
        let at_most = (span / (due - 1.0)).floor() as usize;
        let mut at_least = 0;
        let mut fresh_from = assumed[0].answered.unwrap();
        for c in used {
            if c.at.saturating_duration_since(fresh_from).as_secs_f64() > 2.0 * due {
                at_least += 1;
                fresh_from = c.at;
            }
        }
        let renewals = assumed.len() - 1;
        eprintln!(
            "{arn} {session}: {renewals} renewals, {} calls over {span:.1} s, caching implies {at_least}..={at_most}",
            used.len()
        );
        assert!(
            (at_least..=at_most).contains(&renewals),
            "{arn} {session}: {renewals} renewals over {span:.1} s of calls, caching implies {at_least}..={at_most}"
        );
        renewed += renewals;
    }
    assert!(renewed >= w.account_ids().len(), "{renewed} renewals");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_calls_are_paced_per_account_and_service() {
    let w = world().await;
    let mut env = w.env();
    support::set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__MAX_REQUESTS_PER_SECOND",
        "1",
    );
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_complete_and_written(&w);

    // The listing calls (region discovery is not paced), per (account, service).
    let mut paced: BTreeMap<(String, String), Vec<Instant>> = BTreeMap::new();
    for c in w.proxy.calls() {
        if !["ec2", "ecs", "s3"].contains(&c.service.as_str()) || c.action == "DescribeRegions" {
            continue;
        }
        let issuer = w.proxy.issuer_of(&c.access_key).expect("an account's call");
        let account = issuer.role_account().unwrap().to_string();
        paced.entry((account, c.service)).or_default().push(c.at);
    }
    assert_eq!(paced.len(), w.account_ids().len() * 3, "{paced:#?}");
    // One a second: n calls of a pair span n − 1 s, give or take how long the first one
    // took to arrive once allowed.
    for ((account, service), at) in &paced {
        let span = at.last().unwrap().duration_since(at[0]).as_secs_f64();
        let n = at.len() as f64;
        assert!(
            span >= n - 1.5,
            "{account} {service}: {n} calls within {span:.2} s"
        );
    }
    assert!(paced.values().any(|at| at.len() >= 3), "{paced:#?}");
    // Per pair, not for the whole run: calls of different pairs come together.
    let mut all: Vec<(Instant, &(String, String))> = paced
        .iter()
        .flat_map(|(pair, at)| at.iter().map(move |t| (*t, pair)))
        .collect();
    all.sort();
    assert!(
        all.windows(2)
            .any(|p| p[0].1 != p[1].1 && p[1].0.duration_since(p[0].0) < Duration::from_millis(500)),
        "calls of different (account, service) pairs never came together"
    );
}
