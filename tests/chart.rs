//! The Helm chart, rendered with real helm in both workload modes, checked field by field
//! (`.ci/run` also runs `helm lint --strict` and validates the manifests against the
//! Kubernetes schemas).

mod support;

use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

const CHART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/aws-catalog-sync");

/// `helm template` with `--set` pairs, as one JSON value per manifest.
fn render(sets: &[&str]) -> Vec<Value> {
    let mut cmd = Command::new(support::helm::helm());
    cmd.args(["template", "t", CHART]);
    for s in sets {
        cmd.args(["--set", s]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

fn find<'a>(docs: &'a [Value], kind: &str) -> Option<&'a Value> {
    docs.iter().find(|d| d["kind"] == kind)
}

const BASE: &[&str] = &[
    "port.clientId=id-sentinel",
    "port.clientSecret=secret-sentinel",
    "integration.identifier=my-org",
    "integration.config.accountRoleArn=arn:aws:iam::123456789012:role/Read",
    "integration.config.ouId=ou-1",
    "integration.secrets.awsSecretAccessKey=aws-secret-sentinel",
    "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::1:role/irsa",
];

#[test]
fn deployment_mode_runs_the_daemon_with_probes_and_a_read_only_root() {
    let mut sets = BASE.to_vec();
    sets.push("scheduledResyncInterval=1440");
    let docs = render(&sets);
    let dep = find(&docs, "Deployment").expect("a Deployment");
    assert!(find(&docs, "CronJob").is_none());
    assert_eq!(dep["spec"]["strategy"]["type"], "Recreate");
    let pod = &dep["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    assert_eq!(c["args"], serde_json::json!(["sail"]));
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/health/live");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/health/ready");
    assert_eq!(c["ports"][0]["containerPort"], 8000);
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 1001);
    assert_eq!(c["volumeMounts"][0]["mountPath"], "/tmp/ocean");
    assert_eq!(
        pod["serviceAccountName"],
        find(&docs, "ServiceAccount").unwrap()["metadata"]["name"]
    );
    assert_eq!(
        find(&docs, "ServiceAccount").unwrap()["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::1:role/irsa"
    );
    let cm = &find(&docs, "ConfigMap").unwrap()["data"];
    assert_eq!(cm["OCEAN__EVENT_LISTENER"], r#"{"type":"POLLING"}"#);
    assert_eq!(cm["OCEAN__SCHEDULED_RESYNC_INTERVAL"], "1440");
    assert_eq!(
        cm["OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARN"],
        "arn:aws:iam::123456789012:role/Read"
    );
    assert_eq!(cm["OCEAN__INTEGRATION__CONFIG__OU_ID"], "ou-1");
    assert!(find(&docs, "Service").is_some());
}

#[test]
fn secrets_live_only_in_the_secret() {
    let docs = render(BASE);
    let secret = &find(&docs, "Secret").unwrap()["stringData"];
    assert_eq!(secret["OCEAN__PORT__CLIENT_SECRET"], "secret-sentinel");
    assert_eq!(
        secret["OCEAN__INTEGRATION__CONFIG__AWS_SECRET_ACCESS_KEY"],
        "aws-secret-sentinel"
    );
    for d in docs.iter().filter(|d| d["kind"] != "Secret") {
        let text = d.to_string();
        for s in ["secret-sentinel", "aws-secret-sentinel", "id-sentinel"] {
            assert!(!text.contains(s), "{s} outside the Secret in {}", d["kind"]);
        }
    }
    // With an existing Secret, none is rendered and the pod reads that one.
    let mut sets = BASE.to_vec();
    sets.push("existingSecret=my-port-credentials");
    let docs = render(&sets);
    assert!(find(&docs, "Secret").is_none());
    let env_from =
        &find(&docs, "Deployment").unwrap()["spec"]["template"]["spec"]["containers"][0]["envFrom"];
    assert_eq!(env_from[1]["secretRef"]["name"], "my-port-credentials");
}

#[test]
fn the_path_prefix_moves_the_probes_and_the_resync_secret_stays_in_the_secret() {
    let mut sets = BASE.to_vec();
    sets.extend(["pathPrefix=aws/", "resyncSecret=resync-sentinel"]);
    let docs = render(&sets);
    let c = &find(&docs, "Deployment").unwrap()["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/aws/health/live");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/aws/health/ready");
    assert_eq!(
        find(&docs, "ConfigMap").unwrap()["data"]["OCEAN__PATH_PREFIX"],
        "/aws"
    );
    assert_eq!(
        find(&docs, "Secret").unwrap()["stringData"]["OCEAN__RESYNC_SECRET"],
        "resync-sentinel"
    );
    for d in docs.iter().filter(|d| d["kind"] != "Secret") {
        assert!(!d.to_string().contains("resync-sentinel"), "{}", d["kind"]);
    }
    // Unset: neither appears.
    let docs = render(BASE);
    assert!(
        find(&docs, "ConfigMap").unwrap()["data"]
            .get("OCEAN__PATH_PREFIX")
            .is_none()
    );
    assert!(
        find(&docs, "Secret").unwrap()["stringData"]
            .get("OCEAN__RESYNC_SECRET")
            .is_none()
    );
}

#[test]
fn cronjob_mode_runs_once_and_never_overlaps() {
    let mut sets = BASE.to_vec();
    sets.extend([
        "workload.kind=CronJob",
        "workload.cron.schedule=*/30 * * * *",
    ]);
    let docs = render(&sets);
    assert!(find(&docs, "Deployment").is_none());
    assert!(find(&docs, "Service").is_none());
    let cron = find(&docs, "CronJob").expect("a CronJob");
    assert_eq!(cron["spec"]["schedule"], "*/30 * * * *");
    assert_eq!(cron["spec"]["concurrencyPolicy"], "Forbid");
    let job = &cron["spec"]["jobTemplate"]["spec"];
    assert_eq!(job["activeDeadlineSeconds"], 3600);
    assert_eq!(job["backoffLimit"], 0);
    let pod = &job["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(
        pod["containers"][0]["args"],
        serde_json::json!(["sail", "--once"])
    );
    assert_eq!(
        pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"],
        true
    );
    let cm = &find(&docs, "ConfigMap").unwrap()["data"];
    assert_eq!(cm["OCEAN__EVENT_LISTENER"], r#"{"type":"ONCE"}"#);
}

#[test]
fn the_ingress_exposes_only_the_action_webhooks_and_sets_the_base_url() {
    // Off by default: no Ingress, no base URL.
    let docs = render(BASE);
    assert!(find(&docs, "Ingress").is_none());
    assert!(
        find(&docs, "ConfigMap").unwrap()["data"]
            .get("OCEAN__BASE_URL")
            .is_none()
    );

    let mut sets = BASE.to_vec();
    sets.extend([
        "ingress.enabled=true",
        "ingress.className=nginx",
        "ingress.host=aws-sync.example.com",
        "ingress.tls[0].secretName=aws-sync-tls",
        "ingress.tls[0].hosts[0]=aws-sync.example.com",
        "pathPrefix=aws",
    ]);
    let docs = render(&sets);
    let ingress = find(&docs, "Ingress").expect("an Ingress");
    assert_eq!(ingress["spec"]["ingressClassName"], "nginx");
    let rule = &ingress["spec"]["rules"][0];
    assert_eq!(rule["host"], "aws-sync.example.com");
    let paths = rule["http"]["paths"].as_array().unwrap();
    assert_eq!(paths.len(), 1, "only the actions are exposed: {paths:?}");
    assert_eq!(paths[0]["path"], "/aws/actions/");
    assert_eq!(paths[0]["pathType"], "Prefix");
    let service = find(&docs, "Service").unwrap();
    assert_eq!(
        paths[0]["backend"]["service"]["name"],
        service["metadata"]["name"]
    );
    assert_eq!(paths[0]["backend"]["service"]["port"]["name"], "http");
    let cm = &find(&docs, "ConfigMap").unwrap()["data"];
    assert_eq!(cm["OCEAN__BASE_URL"], "https://aws-sync.example.com");

    // An explicit baseUrl wins; a CronJob serves no actions, so it gets no Ingress.
    sets.push("baseUrl=https://sync.internal.example.com/");
    let docs = render(&sets);
    let cm = &find(&docs, "ConfigMap").unwrap()["data"];
    assert_eq!(cm["OCEAN__BASE_URL"], "https://sync.internal.example.com");
    sets.push("workload.kind=CronJob");
    assert!(find(&render(&sets), "Ingress").is_none());
}
