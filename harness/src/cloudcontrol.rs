//! A fake of the AWS Cloud Control API (`cloudcontrolapi`), which moto does not implement.
//!
//! Written from the Cloud Control API reference: the awsJson1_0 protocol (`POST /`,
//! `X-Amz-Target: CloudApiService.<Operation>`), `ListResources` and `GetResource`.
//! [`crate::aws_proxy::AwsProxy`] answers every `CloudApiService.*` request with its
//! [`CloudControl`] (after its own rules), for the account whose role the request's access
//! key was issued for (moto's default `123456789012` otherwise) and the region of the
//! request's SigV4 scope; [`CloudControl::answer`] is the same thing without HTTP.
//!
//! Strict about what Cloud Control rejects: a body that is not a JSON object, a member the
//! operation does not have or a member of the wrong JSON type is `SerializationException`;
//! a missing or ill-formed `TypeName`, `Identifier`, `TypeVersionId` or `RoleArn`,
//! `MaxResults` outside 1..=100, a `NextToken` outside 1..2048 characters or not issued
//! by this fake for the same (account, region, type, `ResourceModel`), and a
//! `ResourceModel` that is not a JSON object or lacks a property the type requires
//! ([`CloudControl::require_model`]) are `InvalidRequestException`; an unknown type is
//! `TypeNotFoundException`, a type without the handler ([`CloudControl::unsupported`])
//! `UnsupportedActionException`, an unknown identifier `ResourceNotFoundException`, a
//! request over the rate ([`CloudControl::throttle_over`]) `ThrottlingException`, any other
//! operation `UnknownOperationException`. All of them are 400 with
//! `{"__type": <code>, "Message": <text>}`; the fake has no internal error of its own
//! (inject `ServiceInternalErrorException` with a proxy `Rule` of status 500).
//! Resources are per (account, region); types are known everywhere once put or declared.
//! NextTokens are random, stay valid (a retried page reuses its token) and carry nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

/// One request the fake answered, refused ones included (see [`CloudControl::requests`]).
#[derive(Clone, Debug)]
pub struct CcRequest {
    /// `ListResources`, `GetResource`, or whatever other operation was asked for.
    pub operation: String,
    pub account: String,
    pub region: String,
    /// The members as sent, when the body had them as strings/integers (even if refused).
    pub type_name: String,
    pub identifier: Option<String>,
    pub next_token: Option<String>,
    pub resource_model: Option<String>,
    pub max_results: Option<u64>,
    /// The status answered (200, 400).
    pub status: u16,
    pub at: Instant,
}

/// The fake's answer to one request, before HTTP.
#[derive(Clone, Debug, PartialEq)]
pub struct CcAnswer {
    pub status: u16,
    /// The error code (`__type`), `None` on success.
    pub code: Option<&'static str>,
    /// The JSON body.
    pub body: String,
}

/// The Cloud Control fake; clones share the same state.
#[derive(Clone)]
pub struct CloudControl {
    state: Arc<Mutex<State>>,
}

/// How many descriptions a page holds when nothing else is set (what `set_page_size` changes).
const DEFAULT_PAGE_SIZE: usize = 20;

struct State {
    /// Known types, in the order they became known.
    types: Vec<(String, TypeConf)>,
    /// (account, region, type) → (identifier, properties), in insertion order.
    resources: HashMap<(String, String, String), Vec<(String, Value)>>,
    page_size: usize,
    /// 0: never throttle.
    per_second: u32,
    /// (account, region) → when the requests served in the last second arrived.
    served: HashMap<(String, String), VecDeque<Instant>>,
    tokens: HashMap<String, Token>,
    requests: Vec<CcRequest>,
}

#[derive(Default)]
struct TypeConf {
    /// Properties a ListResources `ResourceModel` must give (and that filter the listing).
    required: Vec<String>,
    unsupported: bool,
    /// The only Properties keys ListResources returns, when set.
    list_keys: Option<Vec<String>>,
}

/// What a NextToken stands for: the listing it continues and where.
#[derive(Clone)]
struct Token {
    account: String,
    region: String,
    type_name: String,
    model: Option<String>,
    offset: usize,
}

impl Token {
    /// Whether this token continues `listing` (the same account, region, type and model).
    fn continues(&self, listing: &Token) -> bool {
        (&self.account, &self.region, &self.type_name, &self.model)
            == (
                &listing.account,
                &listing.region,
                &listing.type_name,
                &listing.model,
            )
    }
}

/// An error answer: (code, message).
type Refusal = (&'static str, String);

fn invalid(message: impl Into<String>) -> Refusal {
    ("InvalidRequestException", message.into())
}

impl Default for CloudControl {
    fn default() -> Self {
        CloudControl::new()
    }
}

impl CloudControl {
    /// An empty fake: no types, pages of 20, no throttling.
    pub fn new() -> CloudControl {
        CloudControl {
            state: Arc::new(Mutex::new(State {
                types: Vec::new(),
                resources: HashMap::new(),
                page_size: DEFAULT_PAGE_SIZE,
                per_second: 0,
                served: HashMap::new(),
                tokens: HashMap::new(),
                requests: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores a resource of `type_name` in (account, region), replacing the properties of
    /// one with the same identifier in place; the type becomes known.
    pub fn put(
        &self,
        account: &str,
        region: &str,
        type_name: &str,
        identifier: &str,
        properties: Value,
    ) {
        let mut st = self.lock();
        st.conf(type_name);
        let list = st
            .resources
            .entry((account.into(), region.into(), type_name.into()))
            .or_default();
        match list.iter_mut().find(|(id, _)| id == identifier) {
            Some(existing) => existing.1 = properties,
            None => list.push((identifier.to_string(), properties)),
        }
    }

    /// Makes `type_name` known (listing it gives no resources until some are put).
    pub fn declare(&self, type_name: &str) {
        self.lock().conf(type_name);
    }

    /// The most descriptions a page holds, whatever `MaxResults` asks (default 20; at least 1).
    pub fn set_page_size(&self, n: usize) {
        self.lock().page_size = n.max(1);
    }

    /// ListResources of `type_name` needs a `ResourceModel` giving `property`, and lists
    /// only the resources whose `Properties[property]` equals the model's value.
    pub fn require_model(&self, type_name: &str, property: &str) {
        let mut st = self.lock();
        let conf = st.conf(type_name);
        if !conf.required.iter().any(|p| p == property) {
            conf.required.push(property.to_string());
        }
    }

    /// `type_name` has no list or read handler: both operations answer
    /// `UnsupportedActionException`.
    pub fn unsupported(&self, type_name: &str) {
        self.lock().conf(type_name).unsupported = true;
    }

    /// ListResources of `type_name` returns only these Properties keys (a partial list
    /// result, as AWS gives for e.g. `AWS::S3::Bucket`); GetResource returns them all.
    pub fn list_only(&self, type_name: &str, keys: &[&str]) {
        self.lock().conf(type_name).list_keys = Some(keys.iter().map(|k| k.to_string()).collect());
    }

    /// Serves at most `per_second` requests per (account, region) in any sliding
    /// one-second window and answers the others `ThrottlingException` (refused requests do
    /// not count toward the window). 0: never throttle.
    pub fn throttle_over(&self, per_second: u32) {
        self.lock().per_second = per_second;
    }

    /// Every request so far, in arrival order, refused ones included.
    pub fn requests(&self) -> Vec<CcRequest> {
        self.lock().requests.clone()
    }

    /// Answers one request of `operation` (the `X-Amz-Target` suffix) with JSON body `body`
    /// from `account` in `region`, and records it.
    pub fn answer(&self, operation: &str, account: &str, region: &str, body: &[u8]) -> CcAnswer {
        self.answer_at(operation, account, region, body, Instant::now())
    }

    /// [`CloudControl::answer`] as if it arrived at `now` (the throttling window's clock).
    fn answer_at(
        &self,
        operation: &str,
        account: &str,
        region: &str,
        body: &[u8],
        now: Instant,
    ) -> CcAnswer {
        let parsed: Option<Map<String, Value>> = serde_json::from_slice(body).ok();
        let member = |name: &str| {
            parsed
                .as_ref()
                .and_then(|m| m.get(name))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let mut record = CcRequest {
            operation: operation.to_string(),
            account: account.to_string(),
            region: region.to_string(),
            type_name: member("TypeName").unwrap_or_default(),
            identifier: member("Identifier"),
            next_token: member("NextToken"),
            resource_model: member("ResourceModel"),
            max_results: parsed
                .as_ref()
                .and_then(|m| m.get("MaxResults"))
                .and_then(Value::as_u64),
            status: 0,
            at: now,
        };
        let mut st = self.lock();
        let result = st.serve(operation, account, region, parsed.as_ref(), now);
        let answer = match result {
            Ok(body) => CcAnswer {
                status: 200,
                code: None,
                body: body.to_string(),
            },
            Err((code, message)) => CcAnswer {
                status: 400,
                code: Some(code),
                body: json!({ "__type": code, "Message": message }).to_string(),
            },
        };
        record.status = answer.status;
        st.requests.push(record);
        answer
    }
}

/// The JSON type a member must have.
#[derive(Clone, Copy)]
enum Shape {
    Str,
    Int,
}

const LIST_MEMBERS: &[(&str, Shape)] = &[
    ("TypeName", Shape::Str),
    ("TypeVersionId", Shape::Str),
    ("RoleArn", Shape::Str),
    ("NextToken", Shape::Str),
    ("MaxResults", Shape::Int),
    ("ResourceModel", Shape::Str),
];

const GET_MEMBERS: &[(&str, Shape)] = &[
    ("TypeName", Shape::Str),
    ("TypeVersionId", Shape::Str),
    ("RoleArn", Shape::Str),
    ("Identifier", Shape::Str),
];

/// The input members of `input`, checked against the operation's `members`: anything
/// else, or a member of the wrong JSON type, is a `SerializationException`. A `null`
/// member counts as absent (as for AWS's JSON deserialisers).
fn members<'a>(
    input: Option<&'a Map<String, Value>>,
    members: &[(&str, Shape)],
) -> Result<HashMap<&'a str, &'a Value>, Refusal> {
    let Some(input) = input else {
        return Err((
            "SerializationException",
            "the request body is not a JSON object".into(),
        ));
    };
    let mut out = HashMap::new();
    for (name, value) in input {
        let Some((_, shape)) = members.iter().find(|(m, _)| m == name) else {
            return Err((
                "SerializationException",
                format!("Unrecognized field \"{name}\""),
            ));
        };
        if value.is_null() {
            continue;
        }
        let fits = match shape {
            Shape::Str => value.is_string(),
            Shape::Int => value.is_i64() || value.is_u64(),
        };
        if !fits {
            return Err((
                "SerializationException",
                format!("member {name} has the wrong type"),
            ));
        }
        out.insert(name.as_str(), value);
    }
    Ok(out)
}

fn str_member<'a>(m: &HashMap<&str, &'a Value>, name: &str) -> Option<&'a str> {
    m.get(name).and_then(|v| v.as_str())
}

/// `[A-Za-z0-9]{2,64}::[A-Za-z0-9]{2,64}::[A-Za-z0-9]{2,64}`
fn valid_type_name(t: &str) -> bool {
    let parts: Vec<&str> = t.split("::").collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| (2..=64).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The members ListResources and GetResource share: `TypeName` (required),
/// `TypeVersionId` (`[A-Za-z0-9-]+`, 1..=128) and `RoleArn`
/// (`arn:.+:iam::[0-9]{12}:role/.+`, 20..=2048).
fn common_members<'a>(m: &HashMap<&str, &'a Value>) -> Result<&'a str, Refusal> {
    let type_name = str_member(m, "TypeName")
        .ok_or_else(|| invalid("1 validation error detected: Value null at 'typeName' failed to satisfy constraint: Member must not be null"))?;
    if !valid_type_name(type_name) {
        return Err(invalid(format!(
            "1 validation error detected: Value '{type_name}' at 'typeName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: \
             [A-Za-z0-9]{{2,64}}::[A-Za-z0-9]{{2,64}}::[A-Za-z0-9]{{2,64}}"
        )));
    }
    if let Some(v) = str_member(m, "TypeVersionId") {
        let ok = (1..=128).contains(&v.len())
            && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(invalid(format!("TypeVersionId '{v}' is not valid")));
        }
    }
    if let Some(v) = str_member(m, "RoleArn") {
        let ok = (20..=2048).contains(&v.len())
            && v.strip_prefix("arn:")
                .and_then(|rest| rest.split_once(":iam::"))
                .and_then(|(partition, rest)| {
                    let (account, role) = rest.split_once(":role/")?;
                    Some(
                        !partition.is_empty()
                            && account.len() == 12
                            && account.bytes().all(|b| b.is_ascii_digit())
                            && !role.is_empty(),
                    )
                })
                .unwrap_or(false);
        if !ok {
            return Err(invalid(format!("RoleArn '{v}' is not a role ARN")));
        }
    }
    Ok(type_name)
}

impl State {
    /// The configuration of `type_name`, making it known.
    fn conf(&mut self, type_name: &str) -> &mut TypeConf {
        let at = match self.types.iter().position(|(t, _)| t == type_name) {
            Some(i) => i,
            None => {
                self.types
                    .push((type_name.to_string(), TypeConf::default()));
                self.types.len() - 1
            }
        };
        &mut self.types[at].1
    }

    fn known(&self, type_name: &str) -> Result<&TypeConf, Refusal> {
        self.types
            .iter()
            .find(|(t, _)| t == type_name)
            .map(|(_, c)| c)
            .ok_or_else(|| {
                (
                    "TypeNotFoundException",
                    format!("The type '{type_name}' cannot be found."),
                )
            })
    }

    fn serve(
        &mut self,
        operation: &str,
        account: &str,
        region: &str,
        input: Option<&Map<String, Value>>,
        now: Instant,
    ) -> Result<Value, Refusal> {
        if !matches!(operation, "ListResources" | "GetResource") {
            return Err((
                "UnknownOperationException",
                format!("the fake does not implement {operation}"),
            ));
        }
        if self.per_second > 0 {
            let window = self
                .served
                .entry((account.to_string(), region.to_string()))
                .or_default();
            while window
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= Duration::from_secs(1))
            {
                window.pop_front();
            }
            if window.len() >= self.per_second as usize {
                return Err(("ThrottlingException", "Rate exceeded".into()));
            }
            window.push_back(now);
        }
        if operation == "ListResources" {
            self.list(account, region, &members(input, LIST_MEMBERS)?)
        } else {
            self.get(account, region, &members(input, GET_MEMBERS)?)
        }
    }

    fn list(
        &mut self,
        account: &str,
        region: &str,
        m: &HashMap<&str, &Value>,
    ) -> Result<Value, Refusal> {
        let type_name = common_members(m)?;
        let next_token = str_member(m, "NextToken");
        if let Some(t) = next_token
            && !(1..=2048).contains(&t.len())
        {
            return Err(invalid("NextToken must be 1 to 2048 characters"));
        }
        let max_results = match m.get("MaxResults") {
            Some(v) => match v.as_u64() {
                Some(n @ 1..=100) => Some(n as usize),
                _ => {
                    return Err(invalid(format!(
                        "1 validation error detected: Value '{v}' at 'maxResults' failed to \
                         satisfy constraint: Member must have value between 1 and 100"
                    )));
                }
            },
            None => None,
        };
        let model_text = str_member(m, "ResourceModel");
        if let Some(t) = model_text
            && !(1..=16384).contains(&t.len())
        {
            return Err(invalid("ResourceModel must be 1 to 16384 characters"));
        }
        let conf = self.known(type_name)?;
        if conf.unsupported {
            return Err((
                "UnsupportedActionException",
                format!("Resource type {type_name} does not support LIST action"),
            ));
        }
        let model = match model_text {
            Some(t) => match serde_json::from_str::<Value>(t) {
                Ok(Value::Object(o)) => Some(o),
                _ => return Err(invalid("ResourceModel is not a JSON object")),
            },
            None => None,
        };
        let mut wanted = Vec::new();
        for property in &conf.required {
            match model.as_ref().and_then(|o| o.get(property)) {
                Some(v) => wanted.push((property.clone(), v.clone())),
                None => {
                    return Err(invalid(format!(
                        "Missing Or Invalid ResourceModel property in {type_name} list handler \
                         request input. Required property: [{property}]"
                    )));
                }
            }
        }
        let list_keys = conf.list_keys.clone();
        let listing = Token {
            account: account.to_string(),
            region: region.to_string(),
            type_name: type_name.to_string(),
            model: model_text.map(str::to_string),
            offset: 0,
        };
        let offset = match next_token {
            Some(t) => match self.tokens.get(t) {
                Some(issued) if issued.continues(&listing) => issued.offset,
                _ => return Err(invalid(format!("Invalid NextToken: {t}"))),
            },
            None => 0,
        };
        let all: Vec<&(String, Value)> = self
            .resources
            .get(&(account.into(), region.into(), type_name.into()))
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter(|(_, props)| wanted.iter().all(|(k, v)| props.get(k) == Some(v)))
            .collect();
        let size = max_results.map_or(self.page_size, |n| n.min(self.page_size));
        let end = offset.saturating_add(size).min(all.len());
        let page: Vec<Value> = all
            .get(offset.min(all.len())..end)
            .unwrap_or(&[])
            .iter()
            .map(|(id, props)| {
                let props = match (&list_keys, props) {
                    (Some(keys), Value::Object(o)) => Value::Object(
                        o.iter()
                            .filter(|(k, _)| keys.contains(k))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    ),
                    _ => props.clone(),
                };
                json!({ "Identifier": id, "Properties": props.to_string() })
            })
            .collect();
        let mut out = json!({ "TypeName": type_name, "ResourceDescriptions": page });
        if end < all.len() {
            let token = uuid::Uuid::new_v4().simple().to_string();
            self.tokens.insert(
                token.clone(),
                Token {
                    offset: end,
                    ..listing
                },
            );
            out["NextToken"] = json!(token);
        }
        Ok(out)
    }

    fn get(
        &mut self,
        account: &str,
        region: &str,
        m: &HashMap<&str, &Value>,
    ) -> Result<Value, Refusal> {
        let type_name = common_members(m)?;
        let identifier = str_member(m, "Identifier").ok_or_else(|| {
            invalid("1 validation error detected: Value null at 'identifier' failed to satisfy constraint: Member must not be null")
        })?;
        if !(1..=1024).contains(&identifier.len()) {
            return Err(invalid("Identifier must be 1 to 1024 characters"));
        }
        if self.known(type_name)?.unsupported {
            return Err((
                "UnsupportedActionException",
                format!("Resource type {type_name} does not support READ action"),
            ));
        }
        let found = self
            .resources
            .get(&(account.into(), region.into(), type_name.into()))
            .and_then(|list| list.iter().find(|(id, _)| id == identifier));
        match found {
            Some((id, props)) => Ok(json!({
                "TypeName": type_name,
                "ResourceDescription": { "Identifier": id, "Properties": props.to_string() },
            })),
            None => Err((
                "ResourceNotFoundException",
                format!(
                    "{type_name} Handler returned status FAILED: Resource of type \
                     '{type_name}' with identifier '{identifier}' was not found. \
                     (HandlerErrorCode: NotFound)"
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "123456789012";
    const REGION: &str = "eu-west-1";
    const STREAM: &str = "AWS::Kinesis::Stream";

    fn body(v: Value) -> Vec<u8> {
        v.to_string().into_bytes()
    }

    fn list(cc: &CloudControl, input: Value) -> CcAnswer {
        cc.answer("ListResources", ACCOUNT, REGION, &body(input))
    }

    fn ok(a: &CcAnswer) -> Value {
        assert_eq!((a.status, a.code), (200, None), "{}", a.body);
        serde_json::from_str(&a.body).expect("answer is JSON")
    }

    /// Asserts an error answer of `code` and returns its message.
    fn refused(a: &CcAnswer, code: &str) -> String {
        assert_eq!((a.status, a.code), (400, Some(code)), "{}", a.body);
        let v: Value = serde_json::from_str(&a.body).expect("error is JSON");
        assert_eq!(v["__type"], code);
        v["Message"].as_str().expect("Message").to_string()
    }

    fn identifiers(page: &Value) -> Vec<String> {
        page["ResourceDescriptions"]
            .as_array()
            .expect("ResourceDescriptions")
            .iter()
            .map(|d| d["Identifier"].as_str().expect("Identifier").to_string())
            .collect()
    }

    fn properties(description: &Value) -> Value {
        serde_json::from_str(
            description["Properties"]
                .as_str()
                .expect("Properties string"),
        )
        .expect("Properties is a JSON string")
    }

    fn streams(cc: &CloudControl, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let id = format!("stream-{i:02}");
                cc.put(
                    ACCOUNT,
                    REGION,
                    STREAM,
                    &id,
                    json!({"Name": id, "ShardCount": i}),
                );
                id
            })
            .collect()
    }

    #[test]
    fn cloudcontrol_pages_in_insertion_order_and_the_last_page_has_no_token() {
        let cc = CloudControl::new();
        let ids = streams(&cc, 7);
        cc.set_page_size(3);
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut input = json!({"TypeName": STREAM, "MaxResults": 100});
            if let Some(t) = &token {
                input["NextToken"] = json!(t);
            }
            let page = ok(&list(&cc, input));
            pages += 1;
            assert!(pages <= 7, "the listing never ends");
            assert_eq!(page["TypeName"], STREAM);
            let got = identifiers(&page);
            assert!(got.len() <= 3, "page size is a ceiling: {got:?}");
            let first = &page["ResourceDescriptions"][0];
            assert_eq!(properties(first)["Name"], json!(got[0]));
            seen.extend(got);
            match page.get("NextToken") {
                Some(t) => token = Some(t.as_str().expect("token string").to_string()),
                None => break,
            }
        }
        assert_eq!((seen, pages), (ids.clone(), 3));
        // The page size caps MaxResults, MaxResults caps the page; an exact last page
        // carries no token.
        let page = ok(&list(&cc, json!({"TypeName": STREAM, "MaxResults": 7})));
        assert_eq!(identifiers(&page).len(), 3);
        let page = ok(&list(&cc, json!({"TypeName": STREAM, "MaxResults": 2})));
        assert_eq!(identifiers(&page), ids[..2]);
        cc.set_page_size(20);
        let page = ok(&list(&cc, json!({"TypeName": STREAM, "MaxResults": 7})));
        assert_eq!(identifiers(&page), ids);
        assert!(page.get("NextToken").is_none(), "{page}");
    }

    #[test]
    fn cloudcontrol_refuses_a_token_of_another_listing_or_a_forged_one() {
        let cc = CloudControl::new();
        streams(&cc, 3);
        cc.put("210987654321", REGION, STREAM, "other", json!({}));
        cc.put(ACCOUNT, REGION, "AWS::SQS::Queue", "q", json!({}));
        cc.set_page_size(1);
        let page = ok(&list(&cc, json!({"TypeName": STREAM})));
        let token = page["NextToken"].as_str().expect("a token").to_string();
        // The same listing may reuse its token (a retried page).
        for _ in 0..2 {
            let next = ok(&list(&cc, json!({"TypeName": STREAM, "NextToken": token})));
            assert_eq!(identifiers(&next), ["stream-01"]);
        }
        let other_type = list(
            &cc,
            json!({"TypeName": "AWS::SQS::Queue", "NextToken": token}),
        );
        refused(&other_type, "InvalidRequestException");
        let other_model = list(
            &cc,
            json!({"TypeName": STREAM, "NextToken": token, "ResourceModel": "{}"}),
        );
        refused(&other_model, "InvalidRequestException");
        let other_account = cc.answer(
            "ListResources",
            "210987654321",
            REGION,
            &body(json!({"TypeName": STREAM, "NextToken": token})),
        );
        refused(&other_account, "InvalidRequestException");
        let other_region = cc.answer(
            "ListResources",
            ACCOUNT,
            "us-east-1",
            &body(json!({"TypeName": STREAM, "NextToken": token})),
        );
        refused(&other_region, "InvalidRequestException");
        let forged = list(&cc, json!({"TypeName": STREAM, "NextToken": "offset=1"}));
        refused(&forged, "InvalidRequestException");
        let empty = list(&cc, json!({"TypeName": STREAM, "NextToken": ""}));
        refused(&empty, "InvalidRequestException");
    }

    #[test]
    fn cloudcontrol_refuses_max_results_outside_1_to_100() {
        let cc = CloudControl::new();
        streams(&cc, 1);
        for bad in [0, 101] {
            let m = refused(
                &list(&cc, json!({"TypeName": STREAM, "MaxResults": bad})),
                "InvalidRequestException",
            );
            assert!(m.contains("maxResults"), "{m}");
        }
        for good in [1, 100] {
            ok(&list(&cc, json!({"TypeName": STREAM, "MaxResults": good})));
        }
        // Not an integer at all is a serialisation error.
        refused(
            &list(&cc, json!({"TypeName": STREAM, "MaxResults": "5"})),
            "SerializationException",
        );
    }

    #[test]
    fn cloudcontrol_refuses_a_missing_or_ill_formed_type_name() {
        let cc = CloudControl::new();
        cc.declare(STREAM);
        let m = refused(&list(&cc, json!({})), "InvalidRequestException");
        assert!(m.contains("typeName"), "{m}");
        for bad in [
            "AWS::Kinesis",
            "AWS::Kinesis::Stream::X",
            "AWS::K::Stream",
            "AWS::Kinesis::Str-eam",
            "",
        ] {
            refused(
                &list(&cc, json!({"TypeName": bad})),
                "InvalidRequestException",
            );
        }
        let get = cc.answer(
            "GetResource",
            ACCOUNT,
            REGION,
            &body(json!({"Identifier": "x"})),
        );
        refused(&get, "InvalidRequestException");
        let get = cc.answer(
            "GetResource",
            ACCOUNT,
            REGION,
            &body(json!({"TypeName": STREAM})),
        );
        refused(&get, "InvalidRequestException");
        let bad_role = list(&cc, json!({"TypeName": STREAM, "RoleArn": "role"}));
        refused(&bad_role, "InvalidRequestException");
        let role = "arn:aws:iam::123456789012:role/reader";
        ok(&list(&cc, json!({"TypeName": STREAM, "RoleArn": role})));
    }

    #[test]
    fn cloudcontrol_refuses_unknown_members_and_bodies_that_are_not_objects() {
        let cc = CloudControl::new();
        streams(&cc, 1);
        let m = refused(
            &list(&cc, json!({"TypeName": STREAM, "Filter": "x"})),
            "SerializationException",
        );
        assert!(m.contains("Filter"), "{m}");
        // ResourceModel belongs to ListResources only; member names are case-sensitive.
        let get = json!({"TypeName": STREAM, "Identifier": "stream-00", "ResourceModel": "{}"});
        refused(
            &cc.answer("GetResource", ACCOUNT, REGION, &body(get)),
            "SerializationException",
        );
        refused(
            &list(&cc, json!({"typeName": STREAM})),
            "SerializationException",
        );
        for not_object in [&b"[]"[..], b"", b"not json", b"\"AWS::Kinesis::Stream\""] {
            refused(
                &cc.answer("ListResources", ACCOUNT, REGION, not_object),
                "SerializationException",
            );
        }
        refused(
            &cc.answer("DeleteResource", ACCOUNT, REGION, b"{}"),
            "UnknownOperationException",
        );
    }

    #[test]
    fn cloudcontrol_answers_type_not_found_for_a_type_it_does_not_know() {
        let cc = CloudControl::new();
        streams(&cc, 1);
        let m = refused(
            &list(&cc, json!({"TypeName": "AWS::Nope::Thing"})),
            "TypeNotFoundException",
        );
        assert!(m.contains("AWS::Nope::Thing"), "{m}");
        let get = json!({"TypeName": "AWS::Nope::Thing", "Identifier": "x"});
        refused(
            &cc.answer("GetResource", ACCOUNT, REGION, &body(get)),
            "TypeNotFoundException",
        );
        // A declared type with nothing in it lists empty.
        cc.declare("AWS::SQS::Queue");
        let page = ok(&list(&cc, json!({"TypeName": "AWS::SQS::Queue"})));
        assert_eq!(page["ResourceDescriptions"], json!([]));
        assert!(page.get("NextToken").is_none());
    }

    #[test]
    fn cloudcontrol_answers_unsupported_action_naming_the_type() {
        let cc = CloudControl::new();
        streams(&cc, 1);
        cc.unsupported(STREAM);
        let m = refused(
            &list(&cc, json!({"TypeName": STREAM})),
            "UnsupportedActionException",
        );
        assert!(m.contains(STREAM), "{m}");
        let get = json!({"TypeName": STREAM, "Identifier": "stream-00"});
        let m = refused(
            &cc.answer("GetResource", ACCOUNT, REGION, &body(get)),
            "UnsupportedActionException",
        );
        assert!(m.contains(STREAM), "{m}");
    }

    #[test]
    fn cloudcontrol_require_model_refuses_without_it_and_filters_with_it() {
        let cc = CloudControl::new();
        let consumer = "AWS::Kinesis::StreamConsumer";
        for (id, stream) in [("c1", "arn:s1"), ("c2", "arn:s2"), ("c3", "arn:s1")] {
            cc.put(
                ACCOUNT,
                REGION,
                consumer,
                id,
                json!({"ConsumerName": id, "StreamARN": stream}),
            );
        }
        cc.require_model(consumer, "StreamARN");
        let m = refused(
            &list(&cc, json!({"TypeName": consumer})),
            "InvalidRequestException",
        );
        assert!(m.contains("StreamARN"), "{m}");
        let without = list(
            &cc,
            json!({"TypeName": consumer, "ResourceModel": "{\"Other\":1}"}),
        );
        assert!(refused(&without, "InvalidRequestException").contains("StreamARN"));
        for not_object in ["[1]", "{", ""] {
            let a = list(
                &cc,
                json!({"TypeName": consumer, "ResourceModel": not_object}),
            );
            refused(&a, "InvalidRequestException");
        }
        let model = json!({"StreamARN": "arn:s1"}).to_string();
        let page = ok(&list(
            &cc,
            json!({"TypeName": consumer, "ResourceModel": model}),
        ));
        assert_eq!(identifiers(&page), ["c1", "c3"]);
        // Paging keeps the filter, and the token is bound to the model.
        cc.set_page_size(1);
        let first = ok(&list(
            &cc,
            json!({"TypeName": consumer, "ResourceModel": model}),
        ));
        let token = first["NextToken"].as_str().expect("token");
        let second = ok(&list(
            &cc,
            json!({"TypeName": consumer, "ResourceModel": model, "NextToken": token}),
        ));
        assert_eq!(identifiers(&second), ["c3"]);
        assert!(second.get("NextToken").is_none());
        let other = json!({"StreamARN": "arn:s2"}).to_string();
        let a = list(
            &cc,
            json!({"TypeName": consumer, "ResourceModel": other, "NextToken": token}),
        );
        refused(&a, "InvalidRequestException");
    }

    #[test]
    fn cloudcontrol_list_only_is_partial_and_get_resource_is_full() {
        let cc = CloudControl::new();
        let bucket = "AWS::S3::Bucket";
        let full = json!({"BucketName": "b1", "Arn": "arn:aws:s3:::b1", "VersioningConfiguration": {"Status": "Enabled"}});
        cc.put(ACCOUNT, REGION, bucket, "b1", full.clone());
        cc.list_only(bucket, &["BucketName"]);
        let page = ok(&list(&cc, json!({"TypeName": bucket})));
        assert_eq!(
            properties(&page["ResourceDescriptions"][0]),
            json!({"BucketName": "b1"})
        );
        let get = json!({"TypeName": bucket, "Identifier": "b1"});
        let got = ok(&cc.answer("GetResource", ACCOUNT, REGION, &body(get)));
        assert_eq!(got["TypeName"], bucket);
        assert_eq!(got["ResourceDescription"]["Identifier"], "b1");
        assert_eq!(properties(&got["ResourceDescription"]), full);
    }

    #[test]
    fn cloudcontrol_get_resource_of_an_unknown_identifier_is_resource_not_found() {
        let cc = CloudControl::new();
        streams(&cc, 2);
        let get = |id: &str| {
            let input = json!({"TypeName": STREAM, "Identifier": id});
            cc.answer("GetResource", ACCOUNT, REGION, &body(input))
        };
        let m = refused(&get("nope"), "ResourceNotFoundException");
        assert!(m.contains("nope") && m.contains(STREAM), "{m}");
        assert_eq!(
            properties(&ok(&get("stream-01"))["ResourceDescription"])["ShardCount"],
            1
        );
        refused(&get(""), "InvalidRequestException");
        refused(&get(&"x".repeat(1025)), "InvalidRequestException");
    }

    #[test]
    fn cloudcontrol_throttles_over_the_rate_per_account_and_region() {
        let cc = CloudControl::new();
        streams(&cc, 1);
        cc.throttle_over(2);
        let t0 = Instant::now();
        let input = body(json!({"TypeName": STREAM}));
        let at = |account: &str, region: &str, t: Instant| {
            cc.answer_at("ListResources", account, region, &input, t)
        };
        ok(&at(ACCOUNT, REGION, t0));
        ok(&at(ACCOUNT, REGION, t0 + Duration::from_millis(500)));
        refused(
            &at(ACCOUNT, REGION, t0 + Duration::from_millis(900)),
            "ThrottlingException",
        );
        // Another account, another region: their own windows.
        ok(&at("210987654321", REGION, t0 + Duration::from_millis(900)));
        ok(&at(ACCOUNT, "us-east-1", t0 + Duration::from_millis(900)));
        // One second after the first, it has left the window (the refused one never counted).
        ok(&at(ACCOUNT, REGION, t0 + Duration::from_millis(1000)));
        refused(
            &at(ACCOUNT, REGION, t0 + Duration::from_millis(1400)),
            "ThrottlingException",
        );
        cc.throttle_over(0);
        for _ in 0..5 {
            ok(&at(ACCOUNT, REGION, t0 + Duration::from_millis(1400)));
        }
        let statuses: Vec<u16> = cc.requests().iter().map(|r| r.status).collect();
        assert_eq!(
            statuses,
            [200, 200, 400, 200, 200, 200, 400, 200, 200, 200, 200, 200]
        );
    }

    #[test]
    fn cloudcontrol_keeps_accounts_and_regions_apart() {
        let cc = CloudControl::new();
        cc.put(ACCOUNT, REGION, STREAM, "mine", json!({}));
        cc.put("210987654321", REGION, STREAM, "theirs", json!({}));
        cc.put(ACCOUNT, "us-east-1", STREAM, "virginia", json!({}));
        let page = |account: &str, region: &str| {
            let a = cc.answer(
                "ListResources",
                account,
                region,
                &body(json!({"TypeName": STREAM})),
            );
            identifiers(&ok(&a))
        };
        assert_eq!(page(ACCOUNT, REGION), ["mine"]);
        assert_eq!(page("210987654321", REGION), ["theirs"]);
        assert_eq!(page(ACCOUNT, "us-east-1"), ["virginia"]);
        assert!(page("210987654321", "us-east-1").is_empty());
        let get = json!({"TypeName": STREAM, "Identifier": "theirs"});
        refused(
            &cc.answer("GetResource", ACCOUNT, REGION, &body(get)),
            "ResourceNotFoundException",
        );
    }

    #[test]
    fn cloudcontrol_records_every_request_with_its_members() {
        let cc = CloudControl::new();
        streams(&cc, 1);
        let model = "{\"Name\":\"stream-00\"}";
        list(
            &cc,
            json!({"TypeName": STREAM, "MaxResults": 5, "ResourceModel": model}),
        );
        list(&cc, json!({"TypeName": STREAM, "Bogus": 1}));
        let get = json!({"TypeName": STREAM, "Identifier": "stream-00"});
        cc.answer("GetResource", "210987654321", "us-east-1", &body(get));
        let r = cc.requests();
        assert_eq!(r.len(), 3);
        assert_eq!(
            (
                r[0].operation.as_str(),
                r[0].type_name.as_str(),
                r[0].max_results,
                r[0].resource_model.as_deref(),
                r[0].status
            ),
            ("ListResources", STREAM, Some(5), Some(model), 200)
        );
        assert_eq!(r[1].status, 400);
        assert_eq!(
            (
                r[2].operation.as_str(),
                r[2].account.as_str(),
                r[2].region.as_str(),
                r[2].identifier.as_deref(),
                r[2].status
            ),
            (
                "GetResource",
                "210987654321",
                "us-east-1",
                Some("stream-00"),
                400
            )
        );
        assert!(r[0].at <= r[1].at && r[1].at <= r[2].at);
    }
}
