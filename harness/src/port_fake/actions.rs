//! Self-service actions and their runs (`shared/port-api.md` §6.1, §6.5, §6.6): action
//! definitions, the action-runs API a backend reports progress through, and `?run_id=` on
//! entity writes (the run's "Affected Entities"). The routes and rules are listed in the
//! parent module's doc; this module holds their state, handlers and the test-facing API
//! ([`PortFake::create_run`] and friends).
//!
//! Port's spec (`shared/port-openapi.json`) gives every action body, trigger, `userInputs`
//! and `invocationMethod` variant `additionalProperties: false`, so an unknown key anywhere
//! there is 422 here too.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{
    FakeState, Handled, PortFake, Reply, Req, bool_param, class_ranges, invalid, not_found,
    now_iso, object_body, valid_blueprint_id, valid_id, valid_key,
};

/// Action identifiers (spec: `^(?!\.{1,2}$)[\p{L}0-9@_.+:=-]+$`; unlike blueprint ids they
/// allow `=` and forbid `/` and `\`). The spec gives no maximum; this fake takes the
/// blueprint one, 100.
const ACTION_ID_CLASS: &str = r"[\p{L}0-9@_.+:=-]";
const ACTION_ID_RULE: &str =
    r"must match pattern ^(?!\.{1,2}$)[\p{L}0-9@_.+:=-]+$ and be at most 100 characters";
const ACTION_KEYS: [&str; 10] = [
    "identifier",
    "title",
    "icon",
    "description",
    "trigger",
    "invocationMethod",
    "requiredApproval",
    "approvalNotification",
    "publish",
    "allowAnyoneToViewRuns",
];
const OPERATIONS: [&str; 3] = ["CREATE", "DAY-2", "DELETE"];
const SELF_SERVICE_KEYS: [&str; 7] = [
    "type",
    "operation",
    "blueprintIdentifier",
    "userInputs",
    "actionCardButtonText",
    "executeActionButtonText",
    "condition",
];
/// The union of the spec's three `userInputs` variants (default order, custom order,
/// custom steps).
const USER_INPUTS_KEYS: [&str; 5] = ["properties", "required", "titles", "order", "steps"];
const INPUT_TYPES: [&str; 5] = ["string", "number", "boolean", "object", "array"];
const WEBHOOK_METHODS: [&str; 5] = ["POST", "PUT", "PATCH", "DELETE", "GET"];
const RUN_STATUSES: [&str; 2] = ["SUCCESS", "FAILURE"];
const IN_PROGRESS: &str = "IN_PROGRESS";
const PATCH_RUN_KEYS: [&str; 6] = [
    "status",
    "statusLabel",
    "link",
    "summary",
    "externalRunId",
    "message",
];
const LOG_KEYS: [&str; 3] = ["message", "terminationStatus", "statusLabel"];
/// `GET /v1/actions/runs` filters of the spec that this fake does not implement: refused
/// (422) rather than ignored, so a client relying on one finds out.
const UNSUPPORTED_RUN_FILTERS: [&str; 5] = ["entity", "user_email", "user_id", "source", "exclude"];
const MAX_RUNS_LIMIT: u64 = 1000;

/// What a key of an `invocationMethod` variant must hold.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Bool,
    Obj,
    Any,
}

/// One `invocationMethod` variant: its required and optional keys besides `type`
/// (`shared/port-api.md` §6.1 table; spec `additionalProperties: false`).
struct Variant {
    name: &'static str,
    required: &'static [(&'static str, Kind)],
    optional: &'static [(&'static str, Kind)],
}

const VARIANTS: [Variant; 7] = [
    Variant {
        name: "WEBHOOK",
        required: &[("url", Kind::Str)],
        optional: &[
            ("agent", Kind::Bool),
            ("synchronized", Kind::Bool),
            ("method", Kind::Str),
            ("headers", Kind::Obj),
            ("body", Kind::Any),
        ],
    },
    Variant {
        name: "GITHUB",
        required: &[
            ("org", Kind::Str),
            ("repo", Kind::Str),
            ("workflow", Kind::Str),
        ],
        optional: &[
            ("workflowInputs", Kind::Obj),
            ("reportWorkflowStatus", Kind::Any),
        ],
    },
    Variant {
        name: "GITLAB",
        required: &[("projectName", Kind::Str), ("groupName", Kind::Str)],
        optional: &[("defaultRef", Kind::Str), ("pipelineVariables", Kind::Obj)],
    },
    Variant {
        name: "KAFKA",
        required: &[],
        optional: &[("payload", Kind::Any)],
    },
    // The spec's enum for `integrationActionType` holds only `dispatch_workflow`, which
    // `shared/port-api.md` §6.7 marks unverified: any string is accepted here.
    Variant {
        name: "INTEGRATION_ACTION",
        required: &[
            ("installationId", Kind::Str),
            ("integrationActionType", Kind::Str),
            ("integrationActionExecutionProperties", Kind::Obj),
        ],
        optional: &[],
    },
    Variant {
        name: "AZURE_DEVOPS",
        required: &[("webhook", Kind::Str), ("org", Kind::Str)],
        optional: &[("payload", Kind::Any)],
    },
    Variant {
        name: "UPSERT_ENTITY",
        required: &[("blueprintIdentifier", Kind::Str), ("mapping", Kind::Obj)],
        optional: &[],
    },
];

/// Actions and runs of the fake.
#[derive(Default)]
pub(super) struct ActionsState {
    actions: BTreeMap<String, Value>,
    /// In creation order (listings answer newest first).
    runs: Vec<RunRecord>,
}

struct RunRecord {
    run: Value,
    /// The `runLog` objects posted, in order.
    logs: Vec<Value>,
    /// (blueprint, identifier) written or deleted with `?run_id=` this run, first time each.
    entities: Vec<(String, String)>,
}

impl ActionsState {
    fn run(&self, id: &str) -> Option<&RunRecord> {
        self.runs.iter().find(|r| r.run["id"] == id)
    }

    fn run_mut(&mut self, id: &str) -> Result<&mut RunRecord, Reply> {
        self.runs
            .iter_mut()
            .find(|r| r.run["id"] == id)
            .ok_or_else(|| not_found(format!("action run '{id}' was not found")))
    }
}

impl RunRecord {
    fn in_progress(&self) -> bool {
        self.run["status"] == IN_PROGRESS
    }

    /// `shared/port-api.md` §6.5: "After that the run can't be changed." Port documents no
    /// error code; `run_already_ended` is this fake's choice.
    fn check_open(&self) -> Result<(), Reply> {
        if !self.in_progress() {
            return Err(run_ended(&self.run));
        }
        Ok(())
    }
}

fn run_ended(run: &Value) -> Reply {
    Reply::error(
        422,
        "run_already_ended",
        format!(
            "action run '{}' has ended ({}); it can't be changed",
            run["id"].as_str().unwrap_or_default(),
            run["status"].as_str().unwrap_or_default()
        ),
    )
}

/// `r_` and 16 random alphanumerics, the shape of Port's run ids.
fn new_run_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let random = uuid::Uuid::new_v4();
    let tail: String = random
        .as_bytes()
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    format!("r_{tail}")
}

fn valid_action_id(s: &str) -> bool {
    static CLASS: std::sync::OnceLock<Vec<(char, char)>> = std::sync::OnceLock::new();
    valid_id(s, 100, CLASS.get_or_init(|| class_ranges(ACTION_ID_CLASS)))
}

// ---------------------------------------------------------------------------
// Test-facing API

impl PortFake {
    /// Starts a run of action `action` with these inputs, as when a user clicks "Execute" in
    /// Port's UI: `IN_PROGRESS`, `source: "UI"`, blueprint from the action's
    /// `trigger.blueprintIdentifier`. Returns the run id. Panics if the action does not exist
    /// or `properties` is not an object (a mistake in the test).
    pub fn create_run(&self, action: &str, properties: Value) -> String {
        assert!(
            properties.is_object(),
            "create_run: properties must be a JSON object, got {properties}"
        );
        let mut st = self.st();
        let Some(def) = st.actions.actions.get(action) else {
            panic!(
                "create_run: action '{action}' does not exist (create it or put_action it first)"
            );
        };
        let blueprint = match def["trigger"]["blueprintIdentifier"].as_str() {
            Some(bp) => json!({"identifier": bp}),
            None => Value::Null,
        };
        let id = new_run_id();
        let now = now_iso();
        let run = json!({
            "id": id,
            "action": {
                "identifier": action,
                "title": def.get("title").cloned().unwrap_or(Value::Null),
                "icon": def.get("icon").cloned().unwrap_or(Value::Null),
                "deleted": false,
            },
            "blueprint": blueprint,
            "entity": null,
            "properties": properties,
            "rawProperties": properties,
            "status": IN_PROGRESS,
            "statusLabel": null,
            "link": [],
            "summary": null,
            "externalRunId": null,
            "endedAt": null,
            "source": "UI",
            "createdAt": now,
            "updatedAt": now,
        });
        st.actions.runs.push(RunRecord {
            run,
            logs: Vec::new(),
            entities: Vec::new(),
        });
        id
    }

    /// The run object, as `GET /v1/actions/runs/{id}` answers it.
    pub fn run(&self, id: &str) -> Option<Value> {
        self.st().actions.run(id).map(|r| r.run.clone())
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Vec<Value> {
        self.st()
            .actions
            .runs
            .iter()
            .map(|r| r.run.clone())
            .collect()
    }

    /// The `runLog` objects posted to the run, in order (empty for an unknown run).
    pub fn run_logs(&self, id: &str) -> Vec<Value> {
        self.st()
            .actions
            .run(id)
            .map(|r| r.logs.clone())
            .unwrap_or_default()
    }

    /// The run's affected entities, (blueprint, identifier), each once, in the order they
    /// were first written or deleted with `?run_id=` (empty for an unknown run).
    pub fn run_entities(&self, id: &str) -> Vec<(String, String)> {
        self.st()
            .actions
            .run(id)
            .map(|r| r.entities.clone())
            .unwrap_or_default()
    }

    /// The stored action definition.
    pub fn action(&self, id: &str) -> Option<Value> {
        self.st().actions.actions.get(id).cloned()
    }

    /// Seeds or replaces an action directly, without validation, keyed by its `identifier`
    /// (panics without a string one).
    pub fn put_action(&self, action: Value) {
        let id = action["identifier"]
            .as_str()
            .expect("put_action: action needs a string identifier")
            .to_string();
        self.st().actions.actions.insert(id, action);
    }
}

// ---------------------------------------------------------------------------
// Action definitions

pub(super) fn list_actions(st: &FakeState) -> Handled {
    let all: Vec<Value> = st.actions.actions.values().cloned().collect();
    Ok(Reply::ok(200, json!({"ok": true, "actions": all})))
}

pub(super) fn get_action(st: &FakeState, id: &str) -> Handled {
    let action = action_ref(st, id)?.clone();
    Ok(Reply::ok(200, json!({"ok": true, "action": action})))
}

fn action_ref<'a>(st: &'a FakeState, id: &str) -> Result<&'a Value, Reply> {
    st.actions
        .actions
        .get(id)
        .ok_or_else(|| not_found(format!("action '{id}' was not found")))
}

pub(super) fn create_action(st: &mut FakeState, r: &Req) -> Handled {
    validate_action(st, r.body)?;
    let id = r.body["identifier"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if st.actions.actions.contains_key(&id) {
        return Err(Reply::error(
            409,
            "conflict",
            format!("action '{id}' already exists"),
        ));
    }
    let now = now_iso();
    let mut action = r.body.clone();
    action["createdAt"] = json!(now);
    action["updatedAt"] = json!(now);
    st.actions.actions.insert(id, action.clone());
    Ok(Reply::ok(201, json!({"ok": true, "action": action})))
}

/// PUT replaces the definition; the body's `identifier` (required, as on create) must be
/// the one in the path (this fake's choice: Port documents no rename).
pub(super) fn put_action(st: &mut FakeState, id: &str, r: &Req) -> Handled {
    validate_action(st, r.body)?;
    if r.body["identifier"] != id {
        return Err(invalid(format!(
            "body/identifier must be '{id}', the action in the path"
        )));
    }
    let created = action_ref(st, id)?
        .get("createdAt")
        .cloned()
        .unwrap_or(Value::Null);
    let mut action = r.body.clone();
    action["createdAt"] = created;
    action["updatedAt"] = json!(now_iso());
    st.actions.actions.insert(id.to_string(), action.clone());
    Ok(Reply::ok(200, json!({"ok": true, "action": action})))
}

/// Its runs stay, their `action.deleted` turned `true` (the flag the run object carries).
pub(super) fn delete_action(st: &mut FakeState, id: &str) -> Handled {
    st.actions
        .actions
        .remove(id)
        .ok_or_else(|| not_found(format!("action '{id}' was not found")))?;
    for record in &mut st.actions.runs {
        if record.run["action"]["identifier"] == id {
            record.run["action"]["deleted"] = json!(true);
        }
    }
    Ok(Reply::ok(200, json!({"ok": true})))
}

fn unknown_key<'a>(obj: &'a Map<String, Value>, allowed: &[&str]) -> Option<&'a String> {
    obj.keys().find(|k| !allowed.contains(&k.as_str()))
}

fn no_extra(obj: &Map<String, Value>, allowed: &[&str], at: &str) -> Result<(), Reply> {
    match unknown_key(obj, allowed) {
        Some(extra) => Err(invalid(format!(
            "{at} must NOT have additional properties ('{extra}')"
        ))),
        None => Ok(()),
    }
}

/// Route-schema checks of an action body (422), then the trigger's blueprint (404).
fn validate_action(st: &FakeState, body: &Value) -> Result<(), Reply> {
    let obj = object_body(body)?;
    for key in ["identifier", "trigger", "invocationMethod"] {
        if !obj.contains_key(key) {
            return Err(invalid(format!("body must have required property '{key}'")));
        }
    }
    no_extra(obj, &ACTION_KEYS, "body")?;
    if !obj["identifier"].as_str().is_some_and(valid_action_id) {
        return Err(invalid(format!("body/identifier {ACTION_ID_RULE}")));
    }
    for key in ["title", "icon", "description"] {
        if obj.get(key).is_some_and(|v| !v.is_string()) {
            return Err(invalid(format!("body/{key} must be string")));
        }
    }
    for key in ["publish", "allowAnyoneToViewRuns"] {
        if obj.get(key).is_some_and(|v| !v.is_boolean()) {
            return Err(invalid(format!("body/{key} must be boolean")));
        }
    }
    if let Some(approval) = obj.get("requiredApproval") {
        let ok = approval.is_boolean()
            || approval.as_object().is_some_and(|a| {
                a.len() == 1 && matches!(a.get("type").and_then(Value::as_str), Some("ALL" | "ANY"))
            });
        if !ok {
            return Err(invalid(
                "body/requiredApproval must be a boolean or {\"type\": \"ALL\"|\"ANY\"}",
            ));
        }
    }
    if obj
        .get("approvalNotification")
        .is_some_and(|n| !n.is_object())
    {
        return Err(invalid("body/approvalNotification must be object"));
    }
    let blueprint = validate_trigger(&obj["trigger"])?;
    validate_invocation(&obj["invocationMethod"])?;
    if let Some(bp) = blueprint {
        st.blueprint_ref(bp)?;
    }
    Ok(())
}

/// Checks the trigger; returns its `blueprintIdentifier`, if any.
fn validate_trigger(trigger: &Value) -> Result<Option<&str>, Reply> {
    let t = trigger
        .as_object()
        .ok_or_else(|| invalid("body/trigger must be object"))?;
    match t.get("type").and_then(Value::as_str) {
        Some("self-service") => {}
        Some("automation") => {
            no_extra(t, &["type", "event", "condition"], "body/trigger")?;
            if !t.get("event").is_some_and(Value::is_object) {
                return Err(invalid(
                    "body/trigger must have required object property 'event'",
                ));
            }
            return Ok(None);
        }
        _ => {
            return Err(invalid(
                "body/trigger/type must be one of self-service, automation",
            ));
        }
    }
    no_extra(t, &SELF_SERVICE_KEYS, "body/trigger")?;
    let operation = t
        .get("operation")
        .and_then(Value::as_str)
        .filter(|o| OPERATIONS.contains(o))
        .ok_or_else(|| invalid("body/trigger/operation must be one of CREATE, DAY-2, DELETE"))?;
    // The spec's CREATE variant has no `condition` (it only filters existing entities).
    if operation == "CREATE" && t.contains_key("condition") {
        return Err(invalid(
            "body/trigger must NOT have additional properties ('condition') for operation CREATE",
        ));
    }
    for key in ["actionCardButtonText", "executeActionButtonText"] {
        if t.get(key).is_some_and(|v| !v.is_string()) {
            return Err(invalid(format!("body/trigger/{key} must be string")));
        }
    }
    let inputs = t
        .get("userInputs")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("body/trigger must have required object property 'userInputs'"))?;
    no_extra(inputs, &USER_INPUTS_KEYS, "body/trigger/userInputs")?;
    let properties = inputs
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            invalid("body/trigger/userInputs must have required object property 'properties'")
        })?;
    for (key, def) in properties {
        // Same pattern as blueprint property keys, without their length limit.
        if !valid_key(key) {
            return Err(invalid(format!(
                "body/trigger/userInputs/properties key '{key}' must match pattern ^[A-Za-z0-9@_=\\-]+$"
            )));
        }
        if !def
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|ty| INPUT_TYPES.contains(&ty))
        {
            return Err(invalid(format!(
                "body/trigger/userInputs/properties/{key}/type must be one of {}",
                INPUT_TYPES.join(", ")
            )));
        }
    }
    if let Some(required) = inputs.get("required") {
        let ok = required
            .as_array()
            .is_some_and(|r| r.iter().all(Value::is_string))
            || required.get("jqQuery").is_some_and(Value::is_string);
        if !ok {
            return Err(invalid(
                "body/trigger/userInputs/required must be an array of strings or {\"jqQuery\"}",
            ));
        }
    }
    match t.get("blueprintIdentifier") {
        None => Ok(None),
        Some(Value::String(bp)) if valid_blueprint_id(bp) => Ok(Some(bp.as_str())),
        Some(_) => Err(invalid(
            "body/trigger/blueprintIdentifier must be a blueprint identifier",
        )),
    }
}

fn validate_invocation(method: &Value) -> Result<(), Reply> {
    let m = method
        .as_object()
        .ok_or_else(|| invalid("body/invocationMethod must be object"))?;
    let ty = m.get("type").and_then(Value::as_str);
    let Some(variant) = VARIANTS.iter().find(|v| Some(v.name) == ty) else {
        let names: Vec<&str> = VARIANTS.iter().map(|v| v.name).collect();
        return Err(invalid(format!(
            "body/invocationMethod/type must be one of {}",
            names.join(", ")
        )));
    };
    let at = "body/invocationMethod";
    let mut allowed = vec!["type"];
    allowed.extend(variant.required.iter().map(|(k, _)| *k));
    allowed.extend(variant.optional.iter().map(|(k, _)| *k));
    no_extra(m, &allowed, at)?;
    for (key, _) in variant.required {
        if !m.contains_key(*key) {
            return Err(invalid(format!(
                "{at} must have required property '{key}' for type {}",
                variant.name
            )));
        }
    }
    for (key, kind) in variant.required.iter().chain(variant.optional) {
        let Some(value) = m.get(*key) else { continue };
        let (ok, want) = match kind {
            Kind::Str => (value.is_string(), "string"),
            Kind::Bool => (value.is_boolean(), "boolean"),
            Kind::Obj => (value.is_object(), "object"),
            Kind::Any => (true, ""),
        };
        if !ok {
            return Err(invalid(format!("{at}/{key} must be {want}")));
        }
    }
    if variant.name == "WEBHOOK" {
        let url = m["url"].as_str().unwrap_or_default();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(invalid(format!(
                "{at}/url must start with http:// or https://"
            )));
        }
        if let Some(verb) = m.get("method").and_then(Value::as_str)
            && !WEBHOOK_METHODS.contains(&verb)
        {
            return Err(invalid(format!(
                "{at}/method must be one of {}",
                WEBHOOK_METHODS.join(", ")
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Runs

pub(super) fn get_run(st: &FakeState, id: &str) -> Handled {
    let run = st
        .actions
        .run(id)
        .ok_or_else(|| not_found(format!("action run '{id}' was not found")))?;
    Ok(Reply::ok(200, json!({"ok": true, "run": run.run})))
}

pub(super) fn list_runs(st: &FakeState, r: &Req) -> Handled {
    if let Some(name) = UNSUPPORTED_RUN_FILTERS
        .iter()
        .find(|f| r.query.contains_key(**f))
    {
        return Err(invalid(format!(
            "querystring/{name}: this filter is not implemented by PortFake"
        )));
    }
    let limit = match r.query.get("limit") {
        None => MAX_RUNS_LIMIT,
        Some(l) => l
            .parse::<u64>()
            .ok()
            .filter(|l| (1..=MAX_RUNS_LIMIT).contains(l))
            .ok_or_else(|| {
                invalid(format!(
                    "querystring/limit must be a number from 1 to {MAX_RUNS_LIMIT}, got '{l}'"
                ))
            })?,
    };
    let active = if r.query.contains_key("active") {
        Some(bool_param(r, "active", false)?)
    } else {
        None
    };
    let action = r.query.get("action");
    let blueprint = r.query.get("blueprint");
    let external = r.query.get("external_run_id");
    let runs: Vec<Value> = st
        .actions
        .runs
        .iter()
        .rev()
        .filter(|rec| active.is_none_or(|a| a == rec.in_progress()))
        .filter(|rec| action.is_none_or(|a| rec.run["action"]["identifier"] == a.as_str()))
        .filter(|rec| blueprint.is_none_or(|b| rec.run["blueprint"]["identifier"] == b.as_str()))
        .filter(|rec| external.is_none_or(|e| rec.run["externalRunId"] == e.as_str()))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|rec| rec.run.clone())
        .collect();
    Ok(Reply::ok(200, json!({"ok": true, "runs": runs})))
}

/// `PATCH /v1/actions/runs/{id}`: each key sent overwrites the stored one; `message` (an
/// object, deprecated in the spec) is checked and otherwise ignored.
pub(super) fn patch_run(st: &mut FakeState, id: &str, r: &Req) -> Handled {
    let body = object_body(r.body)?;
    no_extra(body, &PATCH_RUN_KEYS, "body")?;
    if let Some(status) = body.get("status")
        && !status.as_str().is_some_and(|s| RUN_STATUSES.contains(&s))
    {
        return Err(invalid("body/status must be one of SUCCESS, FAILURE"));
    }
    for key in ["statusLabel", "summary", "externalRunId"] {
        if body.get(key).is_some_and(|v| !v.is_string()) {
            return Err(invalid(format!("body/{key} must be string")));
        }
    }
    let link = match body.get("link") {
        None => None,
        Some(Value::String(s)) => Some(json!([s])),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Some(json!(items)),
        Some(_) => {
            return Err(invalid("body/link must be a string or an array of strings"));
        }
    };
    if body.get("message").is_some_and(|m| !m.is_object()) {
        return Err(invalid("body/message must be object"));
    }
    let record = st.actions.run_mut(id)?;
    record.check_open()?;
    let now = now_iso();
    let run = &mut record.run;
    for key in ["statusLabel", "summary", "externalRunId"] {
        if let Some(v) = body.get(key) {
            run[key] = v.clone();
        }
    }
    if let Some(link) = link {
        run["link"] = link;
    }
    if let Some(status) = body.get("status") {
        run["status"] = status.clone();
        run["endedAt"] = json!(now);
    }
    run["updatedAt"] = json!(now);
    Ok(Reply::ok(200, json!({"ok": true, "run": run.clone()})))
}

/// `POST /v1/actions/runs/{id}/logs`; a `terminationStatus` ends the run, so it can be sent
/// only once.
pub(super) fn post_run_log(st: &mut FakeState, id: &str, r: &Req) -> Handled {
    let body = object_body(r.body)?;
    no_extra(body, &LOG_KEYS, "body")?;
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("body must have required string property 'message'"))?;
    if let Some(status) = body.get("terminationStatus")
        && !status.as_str().is_some_and(|s| RUN_STATUSES.contains(&s))
    {
        return Err(invalid(
            "body/terminationStatus must be one of SUCCESS, FAILURE",
        ));
    }
    if body.get("statusLabel").is_some_and(|v| !v.is_string()) {
        return Err(invalid("body/statusLabel must be string"));
    }
    let record = st.actions.run_mut(id)?;
    record.check_open()?;
    let now = now_iso();
    let log = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "runId": id,
        "message": message,
        "createdBy": PortFake::CLIENT_ID,
        "createdAt": now,
    });
    record.logs.push(log.clone());
    if let Some(label) = body.get("statusLabel") {
        record.run["statusLabel"] = label.clone();
    }
    if let Some(status) = body.get("terminationStatus") {
        record.run["status"] = status.clone();
        record.run["endedAt"] = json!(now);
    }
    record.run["updatedAt"] = json!(now);
    Ok(Reply::ok(201, json!({"ok": true, "runLog": log})))
}

// ---------------------------------------------------------------------------
// `?run_id=` on entity writes

/// The `run_id` of an entity write, checked before anything is written: the run must exist
/// (404) and still be in progress (422 `run_already_ended`). `None` without the parameter.
pub(super) fn write_run(st: &FakeState, r: &Req) -> Result<Option<String>, Reply> {
    let Some(id) = r.query.get("run_id") else {
        return Ok(None);
    };
    let record = st
        .actions
        .run(id)
        .ok_or_else(|| not_found(format!("action run '{id}' was not found")))?;
    record.check_open()?;
    Ok(Some(id.clone()))
}

/// Records an entity written or deleted under `run` as one of its affected entities.
pub(super) fn record_affected(st: &mut FakeState, run: Option<&str>, blueprint: &str, id: &str) {
    let Some(record) = run.and_then(|run| st.actions.runs.iter_mut().find(|r| r.run["id"] == run))
    else {
        return;
    };
    let key = (blueprint.to_string(), id.to_string());
    if !record.entities.contains(&key) {
        record.entities.push(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A started fake and a token for it, driven over HTTP like a client.
    struct Client {
        fake: PortFake,
        http: reqwest::Client,
        token: String,
    }

    impl Client {
        async fn start() -> Client {
            let fake = PortFake::start().await;
            let http = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap();
            let reply: Value = http
                .post(format!("{}/v1/auth/access_token", fake.url()))
                .json(&json!({"clientId": PortFake::CLIENT_ID, "clientSecret": PortFake::CLIENT_SECRET}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let token = reply["accessToken"].as_str().unwrap().to_string();
            Client { fake, http, token }
        }

        /// Sends `method path` (path after `/v1`, with its query) and returns status and body.
        async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let mut request = self
                .http
                .request(method, format!("{}/v1/{path}", self.fake.url()))
                .bearer_auth(&self.token);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json().await.unwrap())
        }
    }

    fn webhook_action(id: &str) -> Value {
        json!({
            "identifier": id,
            "title": "Create AWS account",
            "icon": "AWS",
            "trigger": {
                "type": "self-service",
                "operation": "CREATE",
                "blueprintIdentifier": "awsAccount",
                "userInputs": {
                    "properties": {"account_name": {"type": "string"}, "email": {"type": "string", "format": "email"}},
                    "required": ["account_name"]
                }
            },
            "invocationMethod": {"type": "WEBHOOK", "url": "https://backend.example/hook", "synchronized": false, "method": "POST"}
        })
    }

    fn account_blueprint() -> Value {
        json!({"identifier": "awsAccount", "title": "AWS account", "schema": {"properties": {"name": {"type": "string"}}}})
    }

    #[tokio::test]
    async fn an_action_is_created_read_listed_replaced_and_deleted() {
        let c = Client::start().await;
        c.fake.put_blueprint(account_blueprint());
        let (status, body) = c
            .send("POST", "actions", Some(webhook_action("create_account")))
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["action"]["identifier"], "create_account");
        assert!(body["action"]["createdAt"].is_string() && body["action"]["updatedAt"].is_string());
        let (status, body) = c.send("GET", "actions/create_account", None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["action"]["invocationMethod"]["url"],
            "https://backend.example/hook"
        );
        let (status, body) = c.send("GET", "actions", None).await;
        assert_eq!(
            (status, body["actions"].as_array().unwrap().len()),
            (200, 1),
            "{body}"
        );

        let (status, body) = c
            .send("POST", "actions", Some(webhook_action("create_account")))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (409, Some("conflict")),
            "{body}"
        );

        let mut replaced = webhook_action("create_account");
        replaced["title"] = json!("New title");
        let (status, body) = c
            .send("PUT", "actions/create_account", Some(replaced.clone()))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            c.fake.action("create_account").unwrap()["title"],
            "New title"
        );
        let (status, _) = c
            .send("PUT", "actions/missing", Some(webhook_action("missing")))
            .await;
        assert_eq!(status, 404);
        let (status, _) = c
            .send(
                "PUT",
                "actions/create_account",
                Some(webhook_action("other")),
            )
            .await;
        assert_eq!(status, 422, "the body names another action");

        let run = c
            .fake
            .create_run("create_account", json!({"account_name": "a"}));
        let (status, _) = c.send("DELETE", "actions/create_account", None).await;
        assert_eq!(status, 200);
        assert!(c.fake.action("create_account").is_none());
        assert_eq!(c.fake.run(&run).unwrap()["action"]["deleted"], true);
        let (status, body) = c.send("GET", "actions/create_account", None).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
        let (status, _) = c.send("DELETE", "actions/create_account", None).await;
        assert_eq!(status, 404);
    }

    #[tokio::test]
    async fn invalid_actions_are_refused() {
        let c = Client::start().await;
        c.fake.put_blueprint(account_blueprint());
        type Edit = fn(&mut Value);
        let edits: Vec<(&str, Edit)> = vec![
            ("no identifier", |a| {
                a.as_object_mut().unwrap().remove("identifier");
            }),
            ("no trigger", |a| {
                a.as_object_mut().unwrap().remove("trigger");
            }),
            ("no invocationMethod", |a| {
                a.as_object_mut().unwrap().remove("invocationMethod");
            }),
            ("identifier with a slash", |a| {
                a["identifier"] = json!("a/b")
            }),
            ("unknown top-level key", |a| a["extra"] = json!(1)),
            ("bad operation", |a| {
                a["trigger"]["operation"] = json!("UPDATE")
            }),
            ("bad trigger type", |a| {
                a["trigger"]["type"] = json!("manual")
            }),
            ("no userInputs", |a| {
                a["trigger"].as_object_mut().unwrap().remove("userInputs");
            }),
            ("userInputs without properties", |a| {
                a["trigger"]["userInputs"] = json!({"required": []})
            }),
            ("bad input key", |a| {
                a["trigger"]["userInputs"]["properties"]["bad key"] = json!({"type": "string"})
            }),
            ("input without type", |a| {
                a["trigger"]["userInputs"]["properties"]["x"] = json!({})
            }),
            ("bad invocation type", |a| {
                a["invocationMethod"]["type"] = json!("LAMBDA")
            }),
            ("webhook without url", |a| {
                a["invocationMethod"].as_object_mut().unwrap().remove("url");
            }),
            ("webhook url not http", |a| {
                a["invocationMethod"]["url"] = json!("ftp://x")
            }),
            ("webhook url not a string", |a| {
                a["invocationMethod"]["url"] = json!(7)
            }),
            ("synchronized not boolean", |a| {
                a["invocationMethod"]["synchronized"] = json!("yes")
            }),
            ("agent not boolean", |a| {
                a["invocationMethod"]["agent"] = json!(1)
            }),
            ("bad webhook method", |a| {
                a["invocationMethod"]["method"] = json!("HEAD")
            }),
            ("unknown webhook key", |a| {
                a["invocationMethod"]["org"] = json!("x")
            }),
            (
                "github without repo",
                |a| {
                    a["invocationMethod"] =
                        json!({"type": "GITHUB", "org": "o", "workflow": "w.yml"})
                },
            ),
        ];
        for (case, edit) in edits {
            let mut action = webhook_action("act");
            edit(&mut action);
            let (status, body) = c.send("POST", "actions", Some(action)).await;
            assert_eq!(status, 422, "{case}: {body}");
            assert_eq!(body["ok"], false, "{case}");
        }
        let mut action = webhook_action("act");
        action["trigger"]["blueprintIdentifier"] = json!("nope");
        let (status, body) = c.send("POST", "actions", Some(action)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("not_found")),
            "{body}"
        );
        assert!(c.fake.action("act").is_none(), "nothing stored");
        // Spec identifiers allow `=`; a GITHUB backend with its three required keys passes.
        let mut action = webhook_action("act=1");
        action["invocationMethod"] =
            json!({"type": "GITHUB", "org": "o", "repo": "r", "workflow": "w.yml"});
        let (status, body) = c.send("POST", "actions", Some(action)).await;
        assert_eq!(status, 201, "{body}");
    }

    #[tokio::test]
    async fn a_run_is_patched_until_a_terminal_status_and_then_refuses_changes() {
        let c = Client::start().await;
        c.fake.put_action(webhook_action("create_account"));
        let run = c
            .fake
            .create_run("create_account", json!({"account_name": "dev"}));
        assert!(run.starts_with("r_") && run.len() == 18, "{run}");
        let (status, body) = c
            .send("GET", &format!("actions/runs/{run}?version=v2"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        let got = &body["run"];
        assert_eq!(got["status"], "IN_PROGRESS");
        assert_eq!(got["blueprint"], json!({"identifier": "awsAccount"}));
        assert_eq!(
            got["action"],
            json!({"identifier": "create_account", "title": "Create AWS account", "icon": "AWS", "deleted": false})
        );
        assert_eq!(got["properties"], json!({"account_name": "dev"}));
        assert_eq!(got["link"], json!([]));
        let path = format!("actions/runs/{run}");

        for bad in [
            json!({"status": "IN_PROGRESS"}),
            json!({"status": "DONE"}),
            json!({"link": 3}),
            json!({"link": ["a", 1]}),
            json!({"summary": 1}),
            json!({"externalRunId": 5}),
            json!({"output": "x"}),
            json!({"message": "a string"}),
        ] {
            let (status, body) = c.send("PATCH", &path, Some(bad.clone())).await;
            assert_eq!(status, 422, "{bad}: {body}");
        }
        let (status, body) = c
            .send("PATCH", &path, Some(json!({"link": ["https://a"], "statusLabel": "creating", "externalRunId": "ext-1"})))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["run"]["status"], "IN_PROGRESS",
            "a label alone keeps it running"
        );
        // A later link replaces the earlier one; a string becomes a one-item array.
        let (_, body) = c
            .send("PATCH", &path, Some(json!({"link": "https://b"})))
            .await;
        assert_eq!(body["run"]["link"], json!(["https://b"]));
        assert_eq!(body["run"]["statusLabel"], "creating", "keys not sent stay");
        let (status, body) = c
            .send(
                "PATCH",
                &path,
                Some(json!({"status": "SUCCESS", "summary": "done"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["run"]["status"], "SUCCESS");
        assert!(body["run"]["endedAt"].is_string());
        for change in [
            json!({"statusLabel": "again"}),
            json!({"status": "FAILURE"}),
            json!({}),
        ] {
            let (status, body) = c.send("PATCH", &path, Some(change)).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (422, Some("run_already_ended")),
                "{body}"
            );
        }
        let (status, body) = c
            .send(
                "POST",
                &format!("{path}/logs"),
                Some(json!({"message": "late"})),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (422, Some("run_already_ended")),
            "{body}"
        );
        assert_eq!(c.fake.run(&run).unwrap()["summary"], "done");
        let (status, _) = c
            .send("PATCH", "actions/runs/r_unknown", Some(json!({})))
            .await;
        assert_eq!(status, 404);
        let (status, _) = c.send("GET", "actions/runs/r_unknown", None).await;
        assert_eq!(status, 404);
    }

    #[tokio::test]
    async fn run_logs_are_kept_in_order_and_a_termination_status_ends_the_run() {
        let c = Client::start().await;
        c.fake.put_action(webhook_action("create_account"));
        let run = c.fake.create_run("create_account", json!({}));
        let path = format!("actions/runs/{run}/logs");
        for bad in [
            json!({}),
            json!({"message": 1}),
            json!({"message": "m", "terminationStatus": "DONE"}),
            json!({"message": "m", "statusLabel": 2}),
            json!({"message": "m", "level": "INFO"}),
        ] {
            let (status, body) = c.send("POST", &path, Some(bad.clone())).await;
            assert_eq!(status, 422, "{bad}: {body}");
        }
        let (status, body) = c
            .send(
                "POST",
                &path,
                Some(json!({"message": "first", "statusLabel": "working"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["runLog"]["runId"], run.as_str());
        assert_eq!(body["runLog"]["message"], "first");
        assert!(body["runLog"]["id"].is_string() && body["runLog"]["createdAt"].is_string());
        assert_eq!(c.fake.run(&run).unwrap()["statusLabel"], "working");
        let (status, _) = c
            .send(
                "POST",
                &path,
                Some(json!({"message": "failed: quota", "terminationStatus": "FAILURE"})),
            )
            .await;
        assert_eq!(status, 201);
        let stored = c.fake.run(&run).unwrap();
        assert_eq!(stored["status"], "FAILURE");
        assert!(stored["endedAt"].is_string());
        let (status, body) = c
            .send(
                "POST",
                &path,
                Some(json!({"message": "again", "terminationStatus": "SUCCESS"})),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (422, Some("run_already_ended"))
        );
        let messages: Vec<Value> = c
            .fake
            .run_logs(&run)
            .iter()
            .map(|l| l["message"].clone())
            .collect();
        assert_eq!(messages, vec![json!("first"), json!("failed: quota")]);
        let (status, _) = c
            .send(
                "POST",
                "actions/runs/r_unknown/logs",
                Some(json!({"message": "m"})),
            )
            .await;
        assert_eq!(status, 404);
    }

    /// `GET /v1/actions/runs?version=v2<query>`: status and the run ids, in answer order.
    async fn list(c: &Client, query: &str) -> (u16, Vec<String>) {
        let (status, body) = c
            .send("GET", &format!("actions/runs?version=v2{query}"), None)
            .await;
        let ids = body["runs"]
            .as_array()
            .map(|runs| {
                runs.iter()
                    .map(|r| r["id"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        (status, ids)
    }

    #[tokio::test]
    async fn runs_are_listed_newest_first_with_filters() {
        let c = Client::start().await;
        c.fake.put_action(webhook_action("create_account"));
        c.fake.put_action(webhook_action("close_account"));
        let first = c.fake.create_run("create_account", json!({"n": 1}));
        let second = c.fake.create_run("create_account", json!({"n": 2}));
        let other = c.fake.create_run("close_account", json!({}));
        c.send(
            "PATCH",
            &format!("actions/runs/{first}"),
            Some(json!({"externalRunId": "ext-1", "status": "SUCCESS"})),
        )
        .await;
        c.send(
            "PATCH",
            &format!("actions/runs/{second}"),
            Some(json!({"externalRunId": "ext-2"})),
        )
        .await;
        let (status, all) = list(&c, "").await;
        assert_eq!(status, 200);
        assert_eq!(all, vec![other.clone(), second.clone(), first.clone()]);
        assert_eq!(
            list(&c, "&active=true").await.1,
            vec![other.clone(), second.clone()]
        );
        assert_eq!(list(&c, "&active=false").await.1, vec![first.clone()]);
        assert_eq!(
            list(&c, "&external_run_id=ext-2").await.1,
            vec![second.clone()]
        );
        assert!(list(&c, "&external_run_id=ext-3").await.1.is_empty());
        assert_eq!(
            list(&c, "&action=create_account").await.1,
            vec![second.clone(), first.clone()]
        );
        assert_eq!(
            list(&c, "&action=create_account&limit=1").await.1,
            vec![second.clone()]
        );
        for bad in [
            "&limit=0",
            "&limit=1001",
            "&limit=x",
            "&active=yes",
            "&user_email=a@b",
        ] {
            let (status, body) = c
                .send("GET", &format!("actions/runs?version=v2{bad}"), None)
                .await;
            assert_eq!(status, 422, "{bad}: {body}");
        }
    }

    #[tokio::test]
    async fn entity_writes_with_run_id_are_recorded_on_the_run_until_it_ends() {
        let c = Client::start().await;
        c.fake.put_blueprint(account_blueprint());
        c.fake.put_action(webhook_action("create_account"));
        let run = c.fake.create_run("create_account", json!({}));
        let entities = "blueprints/awsAccount/entities";
        let upsert = |id: &str, run_id: &str| {
            let query = if run_id.is_empty() {
                String::new()
            } else {
                format!("&run_id={run_id}")
            };
            (
                format!("{entities}?upsert=true{query}"),
                json!({"identifier": id}),
            )
        };
        let (path, body) = upsert("111", &run);
        let (status, body) = c.send("POST", &path, Some(body)).await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = c
            .send(
                "POST",
                &format!("{entities}/bulk?upsert=true&run_id={run}"),
                Some(json!({"entities": [{"identifier": "222"}, {"identifier": "111"}, {"identifier": "333", "properties": {"nope": 1}}]})),
            )
            .await;
        assert_eq!(status, 207, "{body}");
        // Without run_id nothing is recorded.
        for id in ["444", "555"] {
            let (path, body) = upsert(id, "");
            let (status, _) = c.send("POST", &path, Some(body)).await;
            assert_eq!(status, 201);
        }
        assert_eq!(c.fake.run_entities(&run).len(), 2);
        let (status, _) = c
            .send(
                "DELETE",
                &format!("{entities}/444?delete_dependents=false&run_id={run}"),
                None,
            )
            .await;
        assert_eq!(status, 200);
        let (status, body) = c
            .send(
                "POST",
                &format!("blueprints/awsAccount/bulk/entities/delete?delete_dependents=false&run_id={run}"),
                Some(json!({"entities": ["555", "missing"]})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let account = |id: &str| ("awsAccount".to_string(), id.to_string());
        let affected = vec![
            account("111"),
            account("222"),
            account("444"),
            account("555"),
        ];
        assert_eq!(
            c.fake.run_entities(&run),
            affected,
            "each written or deleted entity once; the failed and the absent one not"
        );

        let (path, body) = upsert("666", "r_unknown");
        let (status, body) = c.send("POST", &path, Some(body)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("not_found")),
            "{body}"
        );
        assert!(
            c.fake.entity("awsAccount", "666").is_none(),
            "nothing written for an unknown run"
        );

        let (status, _) = c
            .send(
                "PATCH",
                &format!("actions/runs/{run}"),
                Some(json!({"status": "SUCCESS"})),
            )
            .await;
        assert_eq!(status, 200);
        let (path, body) = upsert("666", &run);
        let (status, body) = c.send("POST", &path, Some(body)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (422, Some("run_already_ended")),
            "{body}"
        );
        let (status, _) = c
            .send(
                "POST",
                &format!("{entities}/bulk?upsert=true&run_id={run}"),
                Some(json!({"entities": [{"identifier": "666"}]})),
            )
            .await;
        assert_eq!(status, 422);
        let (status, _) = c
            .send(
                "DELETE",
                &format!("{entities}/111?delete_dependents=false&run_id={run}"),
                None,
            )
            .await;
        assert_eq!(status, 422);
        let (status, _) = c
            .send(
                "POST",
                &format!("blueprints/awsAccount/bulk/entities/delete?delete_dependents=false&run_id={run}"),
                Some(json!({"entities": ["222"]})),
            )
            .await;
        assert_eq!(status, 422);
        assert!(
            c.fake.entity("awsAccount", "666").is_none(),
            "nothing written after the run ended"
        );
        for id in ["111", "222"] {
            assert!(
                c.fake.entity("awsAccount", id).is_some(),
                "{id}: nothing deleted after the run ended"
            );
        }
        assert_eq!(c.fake.run_entities(&run), affected);
    }

    #[tokio::test]
    #[should_panic(expected = "action 'nope' does not exist")]
    async fn create_run_panics_for_an_unknown_action() {
        let fake = PortFake::start().await;
        fake.create_run("nope", json!({}));
    }
}
