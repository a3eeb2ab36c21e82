//! A tiny fault-injecting reverse proxy in front of moto.
//!
//! moto never denies `sts:AssumeRole` and has no throttling switch, so tests point the AWS SDK at
//! this proxy instead: it forwards everything to moto unchanged, except requests that match a
//! denied AssumeRole account or a [`Rule`], which get an AWS-shaped error response instead.
//! CodePipeline answers get their timestamps as AWS sends them ([`epoch_timestamps`]).
//! Cloud Control requests (`X-Amz-Target: CloudApiService.*`) are not forwarded: once the
//! rules have had their say, the proxy's [`CloudControl`] fake answers them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::cloudcontrol::CloudControl;

/// The account of requests signed with keys AssumeRole did not hand out (moto's default).
const DEFAULT_ACCOUNT: &str = "123456789012";

/// Answer the next `times` requests whose action is `action` with an error instead of forwarding.
///
/// `action` is the form `Action` of query-protocol requests (STS, EC2, …) or the suffix of the
/// `X-Amz-Target` header (after the last `.`) for JSON-protocol ones (Organizations, ECS, …),
/// or the operation named from the path for REST ones (S3, Lambda, EKS, Kafka, SES v2).
/// Query-protocol requests get an XML error body, JSON-protocol ones `{"__type", "message"}`
/// (Cloud Control's awsJson1_0: `{"__type", "Message"}`).
///
/// Variants: `delay_ms` waits that long first (with `status` 0 the request is then forwarded:
/// a slow or, with a long delay, a hanging AWS); `body` answers 200 with that canned body
/// instead of an error; `skip` lets the first `skip` matching requests through untouched;
/// `region` limits the rule to requests signed for that region (e.g. an `OptInRequired`
/// answer for the one region an account has not opted into); `request_contains` limits it to
/// requests whose body contains that text (e.g. a canned answer for one account's
/// application name, where moto lacks the call).
#[derive(Clone, Debug, Default)]
pub struct Rule {
    pub action: String,
    pub status: u16,
    pub code: String,
    pub times: usize,
    pub delay_ms: u64,
    pub body: Option<String>,
    pub skip: usize,
    pub region: Option<String>,
    pub request_contains: Option<String>,
}

/// One request the proxy saw, in arrival order (see [`AwsProxy::calls`]).
#[derive(Clone, Debug)]
pub struct Call {
    /// `Action` / target suffix / S3 operation; empty when the request was not recognised.
    pub action: String,
    /// SigV4 service (`ec2`, `sts`, `s3`, …); empty when unsigned.
    pub service: String,
    /// SigV4 region; empty when unsigned.
    pub region: String,
    /// The access key id the request was signed with; empty when unsigned.
    pub access_key: String,
    /// When it arrived (its body read).
    pub at: Instant,
    /// When the answer was ready to go back (`None` while in flight, or when the client
    /// went away first).
    pub answered: Option<Instant>,
    /// Status sent back (0 while in flight).
    pub status: u16,
    /// AssumeRole only: the `RoleArn` and `RoleSessionName` asked for.
    pub role_arn: Option<String>,
    pub session_name: Option<String>,
    /// A successful AssumeRole only: the access key id it handed out.
    pub issued_key: Option<String>,
}

impl Call {
    /// The account of the role an AssumeRole asked for.
    pub fn role_account(&self) -> Option<&str> {
        self.role_arn.as_deref().and_then(|a| a.split(':').nth(4))
    }
}

#[derive(Default)]
struct Shared {
    /// Every request, in arrival order.
    calls: Mutex<Vec<Call>>,
    denied_accounts: Mutex<Vec<String>>,
    rules: Mutex<Vec<Rule>>,
    hits: Mutex<HashMap<String, usize>>,
    /// Requests per `service:Action` (e.g. `ec2:DescribeInstances`, `s3:ListBuckets`).
    operations: Mutex<std::collections::BTreeMap<String, usize>>,
    /// Secret access keys and session tokens moto issued through AssumeRole.
    issued: Mutex<Vec<String>>,
    /// Requests in flight per action now, and the most seen at once.
    in_flight: Mutex<HashMap<String, (usize, usize)>>,
    /// When set, AssumeRole answers say the credentials expire this many seconds from now.
    expiry_secs: Mutex<Option<u64>>,
}

struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    shared: Arc<Shared>,
    cloud: CloudControl,
}

/// The running proxy; the server task is aborted when this is dropped.
pub struct AwsProxy {
    url: String,
    shared: Arc<Shared>,
    cloud: CloudControl,
    task: tokio::task::JoinHandle<()>,
}

impl AwsProxy {
    /// Binds 127.0.0.1:0 and serves in a background task, forwarding to `upstream` (moto's URL).
    pub async fn start(upstream: &str) -> AwsProxy {
        let shared = Arc::new(Shared::default());
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(120))
            .build()
            .expect("building proxy HTTP client");
        let cloud = CloudControl::new();
        let state = Arc::new(ProxyState {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http,
            shared: shared.clone(),
            cloud: cloud.clone(),
        });
        let app = Router::new().fallback(handle).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding proxy listener on 127.0.0.1:0");
        let addr = listener.local_addr().expect("proxy listener address");
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("aws_proxy: server error: {e}");
            }
        });
        AwsProxy {
            url: format!("http://{addr}"),
            shared,
            cloud,
            task,
        }
    }

    /// The Cloud Control fake answering this proxy's `CloudApiService.*` requests.
    pub fn cloud_control(&self) -> CloudControl {
        self.cloud.clone()
    }

    /// Base URL, e.g. `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Every later `AssumeRole` whose `RoleArn` contains `account_id` gets 403 AccessDenied.
    pub fn deny_assume_role(&self, account_id: &str) {
        lock(&self.shared.denied_accounts).push(account_id.to_owned());
    }

    /// Secret keys and session tokens handed out by AssumeRole so far (for leak checks).
    pub fn issued_secrets(&self) -> Vec<String> {
        lock(&self.shared.issued).clone()
    }

    /// Lifts all AssumeRole denials.
    pub fn allow_all_assume_role(&self) {
        lock(&self.shared.denied_accounts).clear();
    }

    pub fn add_rule(&self, rule: Rule) {
        lock(&self.shared.rules).push(rule);
    }

    /// Removes all rules (denials stay).
    pub fn clear_rules(&self) {
        lock(&self.shared.rules).clear();
    }

    /// Requests seen (forwarded or answered with an injected error) with that Action/target suffix.
    pub fn hits(&self, action: &str) -> usize {
        lock(&self.shared.hits).get(action).copied().unwrap_or(0)
    }

    /// The most requests with that action that were in flight at once.
    pub fn max_in_flight(&self, action: &str) -> usize {
        lock(&self.shared.in_flight)
            .get(action)
            .map_or(0, |(_, max)| *max)
    }

    /// Rewrites the `Expiration` of every later AssumeRole answer to `secs` from now (moto
    /// always grants an hour; tests of renewal need credentials that expire during a run).
    pub fn set_credentials_lifetime(&self, secs: u64) {
        *lock(&self.shared.expiry_secs) = Some(secs);
    }

    /// Every request so far, in arrival order, with when it came and when it was answered.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.shared.calls).clone()
    }

    /// The successful AssumeRole that handed out `access_key`, if one did.
    pub fn issuer_of(&self, access_key: &str) -> Option<Call> {
        lock(&self.shared.calls)
            .iter()
            .find(|c| c.issued_key.as_deref() == Some(access_key))
            .cloned()
    }

    pub fn reset_hits(&self) {
        lock(&self.shared.calls).clear();
        lock(&self.shared.hits).clear();
        lock(&self.shared.in_flight).clear();
        lock(&self.shared.operations).clear();
    }

    /// Requests so far per `service:Action` (S3's REST operations named from method, path
    /// and sub-resource, e.g. `s3:GetBucketTagging`).
    pub fn operations(&self) -> std::collections::BTreeMap<String, usize> {
        lock(&self.shared.operations).clone()
    }
}

impl Drop for AwsProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the proxy needs to know about a request to decide on faults.
#[derive(Default)]
struct Classified {
    action: Option<String>,
    role_arn: Option<String>,
    session_name: Option<String>,
    /// Index of this request in `Shared::calls`.
    call: usize,
    /// JSON protocol (`X-Amz-Target` present) rather than the query protocol.
    json: bool,
    /// A Cloud Control request (`X-Amz-Target: CloudApiService.*`, awsJson1_0).
    cloud_control: bool,
    /// SigV4 service name from the Authorization header's credential scope (e.g. "ec2", "sts").
    service: Option<String>,
    /// SigV4 region from the same credential scope (e.g. "eu-west-1").
    region: Option<String>,
}

fn classify(
    method: &str,
    path: &str,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Classified {
    let mut c = Classified {
        service: signing_service(headers),
        region: signing_region(headers),
        ..Classified::default()
    };
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        c.json = true;
        c.cloud_control = target.starts_with("CloudApiService.");
        c.action = Some(target.rsplit('.').next().unwrap_or(target).to_owned());
        return c;
    }
    if c.service.as_deref() == Some("s3") {
        c.action = Some(s3_operation(method, path, query));
        return c;
    }
    if c.service.as_deref() == Some("lambda") {
        // REST-JSON: JSON error bodies, the operation named from the path.
        c.json = true;
        c.action = Some(lambda_operation(method, path));
        return c;
    }
    if c.service.as_deref() == Some("eks") {
        // REST-JSON as Lambda.
        c.json = true;
        c.action = Some(eks_operation(method, path));
        return c;
    }
    if c.service.as_deref() == Some("ses") && path.starts_with("/v2/") {
        // SES v2 is REST-JSON as Lambda (SES v1 is the query protocol, below).
        c.json = true;
        c.action = Some(sesv2_operation(method, path));
        return c;
    }
    if c.service.as_deref() == Some("kafka") {
        // REST-JSON as Lambda.
        c.json = true;
        c.action = Some(kafka_operation(method, path));
        return c;
    }
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let mut params = Vec::new();
    if form {
        params.extend(parse_form(&String::from_utf8_lossy(body)));
    }
    if let Some(q) = query {
        params.extend(parse_form(q));
    }
    for (k, v) in params {
        match k.as_str() {
            "Action" if c.action.is_none() => c.action = Some(v),
            "RoleArn" if c.role_arn.is_none() => c.role_arn = Some(v),
            "RoleSessionName" if c.session_name.is_none() => c.session_name = Some(v),
            _ => {}
        }
    }
    c
}

/// S3's REST operations (path-style addressing), named as in the API reference for the
/// ones a sync uses; anything else as `<METHOD><Bucket|Object><subresource>`.
fn s3_operation(method: &str, path: &str, query: Option<&str>) -> String {
    let segments = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .count();
    let sub = query
        .unwrap_or("")
        .split('&')
        .map(|p| p.split('=').next().unwrap_or(""))
        .find(|k| !k.is_empty() && !k.starts_with("x-") && *k != "prefix" && *k != "max-keys")
        .unwrap_or("");
    match (method, segments, sub) {
        ("GET", 0, _) => "ListBuckets".into(),
        ("GET", 1, "tagging") => "GetBucketTagging".into(),
        ("GET", 1, "location") => "GetBucketLocation".into(),
        ("GET", 1, "list-type") | ("GET", 1, "") => "ListObjects".into(),
        ("HEAD", 1, _) => "HeadBucket".into(),
        (m, 1, s) => format!("{m}Bucket{s}"),
        (m, _, s) => format!("{m}Object{s}"),
    }
}

/// Lambda's REST operations a sync uses, named as in the API reference; anything else as
/// `<METHOD><path's second segment>`.
fn lambda_operation(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("GET", [_, "functions"]) => "ListFunctions".into(),
        ("GET", [_, "functions", _]) => "GetFunction".into(),
        ("GET", [_, "tags", ..]) => "ListTags".into(),
        (m, [_, resource, ..]) => format!("{m}{resource}"),
        (m, _) => m.to_string(),
    }
}

/// EKS's REST operations a sync uses, named as in the API reference; anything else as
/// `<METHOD><path's first segment>`.
fn eks_operation(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("GET", ["clusters"]) => "ListClusters".into(),
        ("GET", ["clusters", _]) => "DescribeCluster".into(),
        (m, [resource, ..]) => format!("{m}{resource}"),
        (m, _) => m.to_string(),
    }
}

/// SES v2's REST operations a sync uses, named as in the API reference (the SDK's paths
/// and the older ones botocore uses); anything else as `<METHOD><path>`.
fn sesv2_operation(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("POST", ["v2", "email", "list-identities"]) | ("GET", ["v2", "email", "identities"]) => {
            "ListEmailIdentities".into()
        }
        ("GET", ["v2", "email", "identities", _]) => "GetEmailIdentity".into(),
        ("POST", ["v2", "email", "list-configuration-sets"])
        | ("GET", ["v2", "email", "configuration-sets"]) => "ListConfigurationSets".into(),
        ("GET", ["v2", "email", "configuration-sets", _]) => "GetConfigurationSet".into(),
        (m, _) => format!("{m}{path}"),
    }
}

/// Kafka's (MSK's) REST operations a sync uses, named as in the API reference; anything
/// else as `<METHOD><path>`.
fn kafka_operation(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("GET", ["v1", "clusters"]) => "ListClusters".into(),
        ("GET", ["api", "v2", "clusters"]) => "ListClustersV2".into(),
        (m, _) => format!("{m}{path}"),
    }
}

/// Parses `a=b&c=d` (application/x-www-form-urlencoded).
fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(k), form_decode(v))
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    let s = s.replace('+', " ");
    match urlencoding::decode(&s) {
        Ok(d) => d.into_owned(),
        Err(_) => s,
    }
}

/// `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/ec2/aws4_request, ...`
fn signing_service(headers: &HeaderMap) -> Option<String> {
    credential_part(headers, 3)
}

/// Part `n` of the SigV4 credential scope: 0 the access key id, 2 the region, 3 the service.
fn credential_part(headers: &HeaderMap, n: usize) -> Option<String> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let cred = auth.split("Credential=").nth(1)?;
    let cred = cred.split([',', ' ']).next()?;
    cred.split('/').nth(n).map(str::to_owned)
}

/// The region of the same credential scope (the field before the service).
fn signing_region(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let cred = auth.split("Credential=").nth(1)?;
    let cred = cred.split([',', ' ']).next()?;
    cred.split('/').nth(2).map(str::to_owned)
}

fn request_id() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(1);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{:08x}-{:04x}-4000-8000-{n:012x}",
        nanos,
        (n & 0xffff) as u16
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn xml_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

fn assume_role_denied(role_arn: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
         <Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/test is not authorized \
         to perform: sts:AssumeRole on resource: {}</Message></Error><RequestId>{}</RequestId>\
         </ErrorResponse>",
        xml_escape(role_arn),
        request_id()
    );
    xml_response(StatusCode::FORBIDDEN, body)
}

fn rule_error(rule: &Rule, c: &Classified) -> Response {
    let status = StatusCode::from_u16(rule.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = format!("injected by aws_proxy: {} {}", rule.code, rule.action);
    if c.json {
        // awsJson1_0 services write `Message`; the SDKs read either case.
        let key = if c.cloud_control {
            "Message"
        } else {
            "message"
        };
        let body = serde_json::json!({ "__type": rule.code, key: message }).to_string();
        return json_response(status, Some(&rule.code), body, c);
    }
    let code = xml_escape(&rule.code);
    let message = xml_escape(&message);
    let body = if c.service.as_deref() == Some("ec2") {
        // EC2's own query-protocol error shape.
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>\
             <Message>{message}</Message></Error></Errors><RequestID>{}</RequestID></Response>",
            request_id()
        )
    } else {
        let kind = if status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        };
        format!(
            "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message>\
             </Error><RequestId>{}</RequestId></ErrorResponse>",
            request_id()
        )
    };
    xml_response(status, body)
}

/// The Content-Type of a JSON-protocol answer: Cloud Control speaks awsJson1_0, the others
/// the proxy answers itself awsJson1_1 (REST-JSON clients do not check it).
fn json_content_type(c: &Classified) -> &'static str {
    if c.cloud_control {
        "application/x-amz-json-1.0"
    } else {
        "application/x-amz-json-1.1"
    }
}

/// A JSON-protocol answer; an error one (`code`) also names its code in `x-amzn-ErrorType`.
fn json_response(status: StatusCode, code: Option<&str>, body: String, c: &Classified) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(json_content_type(c)),
    );
    if let Some(v) = code.and_then(|code| HeaderValue::from_str(code).ok()) {
        h.insert("x-amzn-errortype", v);
    }
    h.insert(
        "x-amzn-requestid",
        HeaderValue::from_str(&request_id()).expect("ascii request id"),
    );
    resp
}

/// A Cloud Control request, answered by the fake for the account whose role the signing key
/// was issued for (moto's default account for other keys) and the signed region; an
/// unsigned one is refused as AWS refuses it.
fn answer_cloud_control(
    st: &ProxyState,
    parts: &axum::http::request::Parts,
    body: &[u8],
    c: &Classified,
) -> Response {
    let Some(region) = c.region.as_deref() else {
        let body = serde_json::json!({
            "__type": "MissingAuthenticationTokenException",
            "Message": "Missing Authentication Token",
        });
        return json_response(
            StatusCode::FORBIDDEN,
            Some("MissingAuthenticationTokenException"),
            body.to_string(),
            c,
        );
    };
    let key = credential_part(&parts.headers, 0).unwrap_or_default();
    let account = lock(&st.shared.calls)
        .iter()
        .find(|call| !key.is_empty() && call.issued_key.as_deref() == Some(key.as_str()))
        .and_then(|call| call.role_account().map(str::to_string))
        .unwrap_or_else(|| DEFAULT_ACCOUNT.to_string());
    let operation = c.action.as_deref().unwrap_or_default();
    let answer = st.cloud.answer(operation, &account, region, body);
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(status, answer.code, answer.body, c)
}

/// What a request no rule answered gets: the Cloud Control fake's answer, or moto's.
async fn pass_on(
    st: &ProxyState,
    parts: &axum::http::request::Parts,
    body: Bytes,
    c: &Classified,
) -> Response {
    if c.cloud_control {
        return answer_cloud_control(st, parts, &body, c);
    }
    forward(st, parts, body, c).await
}

/// Hop-by-hop headers and ones the HTTP stacks recompute; never copied across the proxy.
fn skip_header(name: &header::HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host" | "content-length" | "transfer-encoding" | "connection" | "keep-alive" | "upgrade"
    )
}

/// Records the request, answers it, and records the answer's status and time.
async fn handle(State(st): State<Arc<ProxyState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let headers = &parts.headers;
    let call = {
        let mut calls = lock(&st.shared.calls);
        calls.push(Call {
            action: String::new(),
            service: signing_service(headers).unwrap_or_default(),
            region: credential_part(headers, 2).unwrap_or_default(),
            access_key: credential_part(headers, 0).unwrap_or_default(),
            at: Instant::now(),
            answered: None,
            status: 0,
            role_arn: None,
            session_name: None,
            issued_key: None,
        });
        calls.len() - 1
    };
    let resp = answer(&st, parts, body, call).await;
    if let Some(c) = lock(&st.shared.calls).get_mut(call) {
        c.status = resp.status().as_u16();
        c.answered = Some(Instant::now());
    }
    resp
}

async fn answer(
    st: &ProxyState,
    parts: axum::http::request::Parts,
    body: Body,
    call: usize,
) -> Response {
    let body: Bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("aws_proxy: reading body: {e}"),
            )
                .into_response();
        }
    };
    let mut c = classify(
        parts.method.as_str(),
        parts.uri.path(),
        &parts.headers,
        parts.uri.query(),
        &body,
    );
    c.call = call;
    if let Some(recorded) = lock(&st.shared.calls).get_mut(call) {
        recorded.action = c.action.clone().unwrap_or_default();
        recorded.role_arn = c.role_arn.clone();
        recorded.session_name = c.session_name.clone();
    }

    if let Some(action) = &c.action {
        *lock(&st.shared.hits).entry(action.clone()).or_default() += 1;
        let service = c.service.as_deref().unwrap_or("?");
        *lock(&st.shared.operations)
            .entry(format!("{service}:{action}"))
            .or_default() += 1;

        if action == "AssumeRole"
            && let Some(arn) = &c.role_arn
        {
            let denied = lock(&st.shared.denied_accounts)
                .iter()
                .any(|a| arn.contains(a.as_str()));
            if denied {
                return assume_role_denied(arn);
            }
        }

        let fired = {
            let mut rules = lock(&st.shared.rules);
            let rule = rules.iter_mut().find(|r| {
                (r.times > 0 || r.skip > 0)
                    && r.action == *action
                    && r.region
                        .as_ref()
                        .is_none_or(|want| c.region.as_ref() == Some(want))
                    && r.request_contains.as_ref().is_none_or(|want| {
                        want.is_empty() || body.windows(want.len()).any(|w| w == want.as_bytes())
                    })
            });
            match rule {
                Some(r) if r.skip > 0 => {
                    r.skip -= 1;
                    None
                }
                Some(r) => {
                    r.times -= 1;
                    Some(r.clone())
                }
                None => None,
            }
        };
        if let Some(rule) = fired {
            let _counted = InFlight::enter(&st.shared, action);
            if rule.delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(rule.delay_ms)).await;
            }
            if let Some(body) = &rule.body {
                return canned(body, &c);
            }
            if rule.status != 0 {
                return rule_error(&rule, &c);
            }
            return pass_on(st, &parts, body, &c).await;
        }
    }
    let _counted = c.action.as_deref().map(|a| InFlight::enter(&st.shared, a));
    pass_on(st, &parts, body, &c).await
}

/// Counts a request as in flight for its action while alive.
struct InFlight {
    shared: Arc<Shared>,
    action: String,
}

impl InFlight {
    fn enter(shared: &Arc<Shared>, action: &str) -> InFlight {
        let mut map = lock(&shared.in_flight);
        let entry = map.entry(action.to_string()).or_default();
        entry.0 += 1;
        entry.1 = entry.1.max(entry.0);
        InFlight {
            shared: shared.clone(),
            action: action.to_string(),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(entry) = lock(&self.shared.in_flight).get_mut(&self.action) {
            entry.0 = entry.0.saturating_sub(1);
        }
    }
}

/// A 200 answer with a canned body in the request's protocol.
fn canned(body: &str, c: &Classified) -> Response {
    let content_type = if c.json {
        json_content_type(c)
    } else {
        "text/xml"
    };
    let mut resp = (StatusCode::OK, body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut().insert(
        "x-amzn-requestid",
        HeaderValue::from_str(&request_id()).expect("ascii request id"),
    );
    resp
}

async fn forward(
    st: &ProxyState,
    parts: &axum::http::request::Parts,
    body: Bytes,
    c: &Classified,
) -> Response {
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let url = format!("{}{path}", st.upstream);
    let mut fwd = st.http.request(parts.method.clone(), &url);
    for (name, value) in &parts.headers {
        if !skip_header(name) {
            fwd = fwd.header(name, value);
        }
    }
    let upstream = match fwd.body(body).send().await {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_GATEWAY,
                format!("aws_proxy: forwarding to {url}: {e}"),
            )
                .into_response();
        }
    };
    let status = upstream.status();
    let headers = upstream.headers().clone();
    let bytes = match upstream.bytes().await {
        Ok(b) => b,
        Err(e) => {
            return (
                StatusCode::BAD_GATEWAY,
                format!("aws_proxy: reading upstream body: {e}"),
            )
                .into_response();
        }
    };
    let rewrite = *lock(&st.shared.expiry_secs);
    let (bytes, rewritten) = match rewrite {
        Some(secs) if c.action.as_deref() == Some("AssumeRole") && status.is_success() => {
            (rewrite_expiration(&bytes, secs), true)
        }
        _ if c.service.as_deref() == Some("codepipeline") && status.is_success() => {
            (epoch_timestamps(bytes), true)
        }
        _ => (bytes, false),
    };
    if c.action.as_deref() == Some("AssumeRole") {
        let text = String::from_utf8_lossy(&bytes);
        let mut issued = lock(&st.shared.issued);
        for tag in ["SessionToken", "SecretAccessKey"] {
            if let Some(value) = xml_text(&text, tag) {
                issued.push(value.to_string());
            }
        }
        if status.is_success()
            && let Some(recorded) = lock(&st.shared.calls).get_mut(c.call)
        {
            recorded.issued_key = xml_text(&text, "AccessKeyId").map(str::to_string);
        }
    }
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    for (name, value) in &headers {
        // Keep the upstream Content-Length (the body is relayed verbatim; for HEAD it is the only
        // place the size is given).
        if (name == header::CONTENT_LENGTH && !rewritten) || !skip_header(name) {
            resp.headers_mut().append(name, value.clone());
        }
    }
    resp
}

/// The text of the first `<tag>…</tag>` in `xml`.
fn xml_text<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&close)?;
    Some(&xml[start..start + len])
}

/// CodePipeline sends timestamps as epoch seconds; moto 5.2.5 writes ISO 8601 strings
/// (`"2024-01-15T10:30:00.123Z"`), which the SDK rejects, so its answers' `created`,
/// `updated`, `startTime` and `lastUpdateTime` strings become epoch seconds, as AWS sends
/// them. Anything else (and a body that is not JSON) is relayed as it is.
fn epoch_timestamps(bytes: Bytes) -> Bytes {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m.iter_mut() {
                    let stamp =
                        ["created", "updated", "startTime", "lastUpdateTime"].contains(&k.as_str());
                    match v.as_str().map(chrono::DateTime::parse_from_rfc3339) {
                        Some(Ok(t)) if stamp => {
                            *v = serde_json::json!(t.timestamp_millis() as f64 / 1000.0)
                        }
                        _ => walk(v),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(mut v) => {
            walk(&mut v);
            Bytes::from(v.to_string())
        }
        Err(_) => bytes,
    }
}

/// `<Expiration>…</Expiration>` set to `secs` from now.
fn rewrite_expiration(bytes: &Bytes, secs: u64) -> Bytes {
    let text = String::from_utf8_lossy(bytes);
    let (open, close) = ("<Expiration>", "</Expiration>");
    let (Some(start), Some(end)) = (text.find(open), text.find(close)) else {
        return bytes.clone();
    };
    let at = chrono::Utc::now() + chrono::Duration::seconds(secs as i64);
    let stamp = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let out = format!("{}{open}{stamp}{}", &text[..start], &text[end..]);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// Stands in for moto: answers every request with an AssumeRole answer handing out
    /// `ASIAISSUED`, and counts what reached it.
    async fn upstream(reached: Arc<Mutex<Vec<String>>>) -> String {
        let app = Router::new().fallback(move |req: Request| {
            let reached = reached.clone();
            async move {
                let target = req
                    .headers()
                    .get("x-amz-target")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("query")
                    .to_string();
                lock(&reached).push(target);
                "<AssumeRoleResponse><AssumeRoleResult><Credentials>\
                 <AccessKeyId>ASIAISSUED</AccessKeyId><SecretAccessKey>secret</SecretAccessKey>\
                 <SessionToken>token</SessionToken></Credentials></AssumeRoleResult>\
                 </AssumeRoleResponse>"
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the stand-in upstream");
        let addr = listener.local_addr().expect("upstream address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        format!("http://{addr}")
    }

    fn auth(key: &str, region: &str, service: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential={key}/20260101/{region}/{service}/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=00"
        )
    }

    /// POSTs a Cloud Control request; returns status, `x-amzn-ErrorType`, Content-Type, body.
    async fn cloud(
        http: &reqwest::Client,
        proxy: &AwsProxy,
        operation: &str,
        key: Option<&str>,
        input: Value,
    ) -> (u16, Option<String>, String, Value) {
        let mut req = http
            .post(format!("{}/", proxy.url()))
            .header("x-amz-target", format!("CloudApiService.{operation}"))
            .header(header::CONTENT_TYPE, "application/x-amz-json-1.0")
            .body(input.to_string());
        if let Some(key) = key {
            req = req.header(
                header::AUTHORIZATION,
                auth(key, "eu-west-1", "cloudcontrolapi"),
            );
        }
        let resp = req.send().await.expect("proxy answers");
        let text = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (error, content_type) = (text("x-amzn-errortype"), text("content-type"));
        let status = resp.status().as_u16();
        let body = resp.json().await.expect("a JSON body");
        (status, error, content_type.unwrap_or_default(), body)
    }

    #[tokio::test]
    async fn cloud_control_requests_are_answered_by_the_fake_for_the_keys_account() {
        let reached = Arc::new(Mutex::new(Vec::new()));
        let proxy = AwsProxy::start(&upstream(reached.clone()).await).await;
        let cc = proxy.cloud_control();
        let stream = "AWS::Kinesis::Stream";
        cc.put(
            DEFAULT_ACCOUNT,
            "eu-west-1",
            stream,
            "mine",
            json!({"Name": "mine"}),
        );
        cc.put(
            "210987654321",
            "eu-west-1",
            stream,
            "theirs",
            json!({"Name": "theirs"}),
        );
        cc.put("210987654321", "us-east-1", stream, "elsewhere", json!({}));
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");

        // A key no AssumeRole handed out lists moto's default account.
        let (status, error, content_type, body) = cloud(
            &http,
            &proxy,
            "ListResources",
            Some("AKID"),
            json!({"TypeName": stream}),
        )
        .await;
        assert_eq!((status, error), (200, None), "{body}");
        assert_eq!(content_type, "application/x-amz-json-1.0");
        assert_eq!(body["ResourceDescriptions"][0]["Identifier"], "mine");
        assert_eq!(
            body["ResourceDescriptions"].as_array().map(Vec::len),
            Some(1)
        );

        // A key AssumeRole handed out for a role in 210987654321 lists that account.
        let assumed = http
            .post(format!("{}/", proxy.url()))
            .header(header::AUTHORIZATION, auth("AKID", "us-east-1", "sts"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A210987654321%3Arole%2Fr&RoleSessionName=s")
            .send()
            .await
            .expect("AssumeRole answered");
        assert_eq!(assumed.status(), 200);
        let (status, _, _, body) = cloud(
            &http,
            &proxy,
            "ListResources",
            Some("ASIAISSUED"),
            json!({"TypeName": stream}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["ResourceDescriptions"][0]["Identifier"], "theirs");
        assert_eq!(
            body["ResourceDescriptions"].as_array().map(Vec::len),
            Some(1)
        );
        let get = json!({"TypeName": stream, "Identifier": "theirs"});
        let (status, _, _, body) =
            cloud(&http, &proxy, "GetResource", Some("ASIAISSUED"), get).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["ResourceDescription"]["Properties"],
            "{\"Name\":\"theirs\"}"
        );

        // The fake's errors are awsJson1_0 errors.
        let (status, error, content_type, body) = cloud(
            &http,
            &proxy,
            "ListResources",
            Some("AKID"),
            json!({"TypeName": "AWS::Nope::Thing"}),
        )
        .await;
        assert_eq!(
            (status, error.as_deref()),
            (400, Some("TypeNotFoundException"))
        );
        assert_eq!(content_type, "application/x-amz-json-1.0");
        assert_eq!(body["__type"], "TypeNotFoundException");
        assert!(
            body["Message"]
                .as_str()
                .is_some_and(|m| m.contains("AWS::Nope::Thing"))
        );

        // Rules still come first, and their errors are well-formed awsJson1_0 ones.
        proxy.add_rule(Rule {
            action: "ListResources".into(),
            status: 400,
            code: "ThrottlingException".into(),
            times: 1,
            ..Rule::default()
        });
        let before = cc.requests().len();
        let (status, error, content_type, body) = cloud(
            &http,
            &proxy,
            "ListResources",
            Some("AKID"),
            json!({"TypeName": stream}),
        )
        .await;
        assert_eq!(
            (status, error.as_deref()),
            (400, Some("ThrottlingException"))
        );
        assert_eq!(content_type, "application/x-amz-json-1.0");
        assert_eq!(body["__type"], "ThrottlingException");
        assert!(body["Message"].is_string(), "{body}");
        assert_eq!(
            cc.requests().len(),
            before,
            "a rule's answer never reaches the fake"
        );

        // Unsigned: refused as AWS refuses it.
        let (status, error, _, _) = cloud(
            &http,
            &proxy,
            "ListResources",
            None,
            json!({"TypeName": stream}),
        )
        .await;
        assert_eq!(
            (status, error.as_deref()),
            (403, Some("MissingAuthenticationTokenException"))
        );

        let requests = cc.requests();
        let seen: Vec<(&str, &str, &str, u16)> = requests
            .iter()
            .map(|r| {
                (
                    r.operation.as_str(),
                    r.account.as_str(),
                    r.region.as_str(),
                    r.status,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("ListResources", DEFAULT_ACCOUNT, "eu-west-1", 200),
                ("ListResources", "210987654321", "eu-west-1", 200),
                ("GetResource", "210987654321", "eu-west-1", 200),
                ("ListResources", DEFAULT_ACCOUNT, "eu-west-1", 400),
            ]
        );
        let ops = proxy.operations();
        assert_eq!(ops.get("cloudcontrolapi:ListResources"), Some(&4));
        assert_eq!(ops.get("cloudcontrolapi:GetResource"), Some(&1));
        assert_eq!(ops.get("sts:AssumeRole"), Some(&1));
        assert_eq!(
            *lock(&reached),
            ["query"],
            "only the AssumeRole reached moto"
        );
    }
}
