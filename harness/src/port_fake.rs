//! In-process fake of Port's REST API (`https://api.port.io/v1`), strict about what
//! real Port rejects.
//!
//! [`PortFake::start`] binds an axum server on `127.0.0.1:<random port>` and serves
//! the routes an Ocean-style integration uses (see `shared/port-api.md` §1, §2, §4,
//! §5 and `shared/ocean-reference.md` §2.2, §2.4, §3.1–3.2): the token route,
//! integration registration and resync-state bookkeeping, blueprints, single and
//! bulk entity upserts, bulk and single deletes, and the datasource listing used for
//! reconciliation; and self-service actions with their runs (§6.1, §6.5, §6.6; module
//! `actions`). Integration tests use it through `mod support;` (`support::port_fake`);
//! `harness demo` and `harness bench e2e` serve it too.
//!
//! # Routes (all under `/v1`)
//!
//! `POST auth/access_token`; `GET organization`; `GET integration/provision-enabled`;
//! `POST integration`; `GET|PATCH|DELETE integration/{id}`;
//! `PATCH integration/{id}/config`; `PATCH integration/{id}/resync-state`;
//! `GET integration/{id}/resync-request`; `POST integration/{id}/kinds/{kind}/examples`;
//! `GET|POST blueprints`; `GET|PATCH|PUT|DELETE blueprints/{id}`;
//! `GET|POST blueprints/{bp}/entities`; `POST blueprints/{bp}/entities/bulk`;
//! `GET|DELETE blueprints/{bp}/entities/{id}`;
//! `POST blueprints/{bp}/bulk/entities/delete`;
//! `POST blueprints/entities/datasource-entities`; `GET|POST actions`;
//! `GET|PUT|DELETE actions/{id}`; `GET actions/runs`; `GET|PATCH actions/runs/{run_id}`;
//! `POST actions/runs/{run_id}/logs`; and any method under
//! `fake-ingest/` (the integration's `logAttributes`/`metricAttributes` ingest URLs
//! point there; answers `{"ok":true}`). Path segments are percent-decoded one by one.
//!
//! A request goes through, in order: recording, an injected [`Fault`] (latency,
//! then its status if non-zero), a [`PortFake::hold`] (waits for a
//! [`PortFake::release`]), the 1 MiB check (413), routing (404), auth (401), JSON
//! parsing (400), then the route's own checks.
//!
//! # Rules it enforces
//!
//! * Every response is JSON and carries an `x-trace-id` header. Errors look like
//!   `{"ok":false,"error":"<code>","message":"..."}`. Unknown routes (including a
//!   known path with the wrong method, or an empty path segment) are 404.
//! * A request body over 1 MiB (1,048,576 bytes) is 413 `payload_too_large`
//!   ("limit is 1MiB") on any route; axum's own body limit is not involved. A
//!   non-empty body that is not JSON is 400 `invalid_json`.
//! * `POST /v1/auth/access_token` takes exactly `clientId` and `clientSecret`
//!   (missing or extra keys: 422). Wrong credentials: 401 `unauthorized`. There is
//!   one active token per credential pair: while it is valid, asking again returns
//!   the same token, and `expiresIn` then reports the seconds it has left (rounded
//!   up), so refreshing early never extends validity.
//! * Every other route needs `Authorization: Bearer <token>`; a missing, unknown or
//!   expired token is 401 `unauthorized`.
//! * Identifiers: entity ids and relation targets match
//!   `^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$` (≤ 1000 chars), blueprint ids the same
//!   without `=` (≤ 100), property and relation keys `^[A-Za-z0-9@_=-]+$` (≤ 100).
//!   `\p{L}` is Unicode's general category Letter, not `char::is_alphabetic` (which also
//!   takes `Ⅻ` or `Ⓐ`).
//! * Upserts (bulk and single): `upsert=true` is required (missing or `false` is
//!   422); `merge`, `create_missing_related_entities` and `validation_only` must be
//!   `true`/`false`. The bulk body is exactly `{"entities":[...]}` with 1..=20
//!   objects. Each entity needs a valid string `identifier` or a search query;
//!   `title`/`icon` are strings (null tolerated), `team` a string or string array,
//!   `properties` and `relations` objects, relation values a valid id, an array of
//!   valid ids, null, or a search query. A search query is exactly `combinator`
//!   (`and`|`or`) and `rules`, each rule a nested query or exactly `property`,
//!   `operator`, `value` (`=` with a string/number/null, `in`/`containsAny` with
//!   strings, `contains` with a string, strings or null), as in Port's spec. A
//!   violation anywhere rejects the whole request with 422; these
//!   route-schema checks run before the blueprint lookup (unknown blueprint: 404).
//!   Then, per entity and in request order (an entity may relate to one stored
//!   earlier in the same batch): a search identifier is resolved in the request's
//!   blueprint (rules with `=`/`in` on `$identifier`, `$title`, `$blueprint`,
//!   `$team` or a property) and must find exactly one entity (none: 404
//!   `not_found`, nothing created; several: 422; the bulk `errors` item then says
//!   `"identifier": "unknown"`, a success the identifier found); a search relation is
//!   resolved in the relation's target blueprint (`=`/`in`/`contains`; a single
//!   relation must find exactly one, a `many` one at most 100, else 422); then
//!   unknown property, wrong JSON type (`null` is accepted for any type), value
//!   outside `enum` (also per array item via `items`), bad `format` (`date-time` =
//!   RFC 3339 with offset, `url`, `email`, `ipv4`, `ipv6`), missing
//!   `schema.required` property (absent or `null`: Port takes null as no value),
//!   unknown relation, a `many` relation not given an array (or a single relation
//!   not given a string), missing or empty required relation → statusCode 422; a
//!   relation target that does not exist → statusCode 404 `not_found`, unless
//!   `create_missing_related_entities=true`, which creates a stub `{identifier}` in
//!   the target blueprint (stamped with the same `$datasource`). Bulk answers 200
//!   when every entity succeeded, else 207, with body `{"ok","entities":[{"index",
//!   "identifier","created"}],"errors":[{"index","identifier","statusCode","error",
//!   "message"}]}`; the single route answers 201 `{"ok":true,"entity"}` or the
//!   item's status with an error body.
//! * Stored entities get `$datasource` = the `User-Agent` of the write, `createdAt`
//!   (kept across upserts) and `updatedAt` (RFC 3339, millis, `Z`). `merge=true`
//!   merges title/icon/team and properties/relations key by key; `merge=false`
//!   replaces the entity. `validation_only=true` checks and stores nothing.
//! * Bulk delete needs `delete_dependents=true|false` (spec: required) and 1..=100
//!   string ids. With `false`, if any other entity has a relation (required or
//!   not) to one of them, the call is 422 `has_dependents` and nothing is deleted;
//!   with `true`, those dependents (one level) are deleted too. Only requested ids
//!   that existed come back in `deletedEntities`. The single DELETE behaves the
//!   same (`delete_dependents` required as well), and 404s a missing entity.
//! * Datasource listing: `datasource_prefix` and `datasource_suffix` are required
//!   strings, `limit` 1..=10000 (default 1000), `before` an RFC 3339 time (keeps
//!   entities with `updatedAt` strictly before it), `from` a cursor from a previous
//!   `next`. Entities come sorted by (blueprint, identifier); `next` is null on the
//!   last page.
//! * Blueprints need a valid identifier, a 1..=100 char title and
//!   `schema.properties` (each with a valid `type`); relations need `target`,
//!   `required` and `many`, and the target must exist (404) unless it is the
//!   blueprint itself. Creating an existing one is 409. PATCH merges top-level keys
//!   and re-validates. Deleting a blueprint that still has entities, or that
//!   another blueprint relates to, is 422.
//! * Integrations: `POST` needs `installationId` (409 if it exists) and stores
//!   `installationType: "OnPrem"`, `resyncState: null`,
//!   `arePortResourcesInitialized: false`; an empty `PATCH` body also records a
//!   resync request (Port documents that it triggers a resync); `resync-state`
//!   takes `status` running|completed|failed|aborted (else 422) and merges the body
//!   into `resyncState` with a fresh `updatedAt`.
//! * Actions: `POST`/`PUT` bodies follow the spec (`additionalProperties: false` on the
//!   body, the trigger, `userInputs` and each `invocationMethod` variant): required
//!   `identifier` (`^(?!\.{1,2}$)[\p{L}0-9@_.+:=-]+$`, ≤ 100), `trigger`,
//!   `invocationMethod`. A `self-service` trigger needs `operation` CREATE|DAY-2|DELETE
//!   (`condition` not with CREATE) and `userInputs.properties`, an object whose keys match
//!   `^[A-Za-z0-9@_=-]+$` and whose inputs each have a `type`; an `automation` trigger needs
//!   `event`. `invocationMethod.type` is WEBHOOK, GITHUB, GITLAB, KAFKA,
//!   INTEGRATION_ACTION, AZURE_DEVOPS or UPSERT_ENTITY with that variant's required keys;
//!   WEBHOOK's `url` starts with `http://` or `https://`, `agent`/`synchronized` are
//!   booleans, `method` POST|PUT|PATCH|DELETE|GET. Violations are 422; then a
//!   `trigger.blueprintIdentifier` that does not exist is 404; creating an existing action
//!   is 409. Stored with `createdAt`/`updatedAt` (201 on create). PUT replaces (404 if
//!   missing; the body's `identifier` must be the path's). DELETE keeps the action's runs
//!   with `action.deleted: true`.
//! * Runs are started by tests ([`PortFake::create_run`], as a user clicking "Execute"),
//!   `IN_PROGRESS` with `source: "UI"` and an id `r_` + 16 alphanumerics. Listing answers
//!   newest first, filtered by `action`, `blueprint`, `active` (true: `IN_PROGRESS`) and
//!   `external_run_id`, at most `limit` (1..=1000, default 1000); `version` is ignored and
//!   the spec's other filters (`entity`, `user_email`, `user_id`, `source`, `exclude`) are
//!   422, not implemented. PATCH takes only `status` (SUCCESS|FAILURE), `statusLabel`,
//!   `link` (a string or strings; stored as an array), `summary`, `externalRunId` and the
//!   deprecated `message` (an object, ignored); each key sent overwrites the stored one. A
//!   log is exactly `message` (string, required), `terminationStatus` (SUCCESS|FAILURE)
//!   and `statusLabel` (201 `{"ok":true,"runLog"}`). A terminal status, by PATCH or log,
//!   sets `endedAt`; after it the run cannot be changed: PATCH and log are 422
//!   `run_already_ended` (Port: "the run can't be changed"; the code is this fake's).
//! * `?run_id=` on entity writes (single and bulk upsert, single and bulk delete): the run
//!   must exist (404) and be `IN_PROGRESS` (422 `run_already_ended`), checked after the
//!   route-schema checks and the blueprint lookup and before anything is written. Each
//!   entity stored, or requested and deleted (not dependents deleted with it, not
//!   `validation_only`), becomes one of the run's affected entities
//!   ([`PortFake::run_entities`]).
//!
//! Error codes Port does not document (schema violations, dependents) are this
//! fake's choice: `invalid_request`, `unknown_property`, `invalid_property_type`,
//! `invalid_property_value`, `missing_required_property`, `unknown_relation`,
//! `invalid_relation_value`, `missing_required_relation`, `has_dependents`,
//! `has_entities`, `invalid_search_query`, `invalid_search_identifier`,
//! `run_already_ended`.
//!
//! Tests inject failures with [`Fault`] (a status, with `Retry-After` and/or
//! `x-ratelimit-reset`, and latency) and inspect traffic with [`PortFake::requests`]
//! (every request in arrival order, rejected ones included, with the raw, still
//! percent-encoded path, when it arrived and when it was answered) and
//! [`PortFake::writes`] (every entity an upsert stored, with the request that did).
//! Action tests seed with [`PortFake::put_action`] and [`PortFake::create_run`] and read
//! back with [`PortFake::run`], [`PortFake::runs`], [`PortFake::run_logs`],
//! [`PortFake::run_entities`] and [`PortFake::action`].

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

mod actions;

/// Port's request-body limit on every route.
const MAX_BODY: usize = 1024 * 1024;
/// How much of a body the fake reads before giving up (then still answers 413).
const READ_LIMIT: usize = 64 * 1024 * 1024;
/// Maximum entities per bulk upsert.
const MAX_BULK_UPSERT: usize = 20;
/// Maximum ids per bulk delete.
const MAX_BULK_DELETE: usize = 100;
const ENTITY_ID_RULE: &str =
    r"must match pattern ^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$ and be at most 1000 characters";
const BLUEPRINT_ID_RULE: &str =
    r"must match pattern ^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/-]+$ and be at most 100 characters";
const KEY_RULE: &str = "must match pattern ^[A-Za-z0-9@_=-]+$ and be at most 100 characters";
const CURSOR_PREFIX: &str = "portfake-offset-";
const RESYNC_STATUSES: [&str; 4] = ["running", "completed", "failed", "aborted"];

type Shared = Arc<Mutex<FakeState>>;

/// A running fake Port API. The server task stops when this value is dropped.
pub struct PortFake {
    base: String,
    state: Shared,
    server: tokio::task::JoinHandle<()>,
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Raw path, still percent-encoded, e.g. `/v1/blueprints/x/entities/a%2Fb`.
    pub path: String,
    /// Raw query string without `?` (empty when there is none).
    pub query: String,
    /// Final status sent back (0 only while the request is still in flight).
    pub status: u16,
    pub user_agent: String,
    /// Parsed JSON body, or `Null` when there was no body or it was not JSON.
    pub body: Value,
    /// When it arrived (its body read).
    pub at: Instant,
    /// When its answer was decided, just before it was sent; `None` while in flight
    /// (or held, or when the client went away first).
    pub answered: Option<Instant>,
}

/// One entity stored by an upsert (bulk or single route), in the order they were stored.
#[derive(Clone, Debug)]
pub struct Write {
    pub blueprint: String,
    pub identifier: String,
    /// Index in [`PortFake::requests`] of the request that wrote it.
    pub request: usize,
    pub at: Instant,
}

/// A failure (or delay) to inject into the next matching requests.
#[derive(Clone, Debug, Default)]
pub struct Fault {
    /// HTTP method to match (case-insensitive); `None` matches any.
    pub method: Option<String>,
    /// Substring of the raw request path to match (empty matches every path).
    pub path_contains: String,
    /// Status to answer with; 0 means "no error, only the latency".
    pub status: u16,
    /// How many matching requests get the fault.
    pub times: usize,
    /// `Retry-After` header value to send with the error.
    pub retry_after: Option<String>,
    /// `x-ratelimit-reset` header value to send with the error (`shared/port-api.md` §3:
    /// "when the window resets, in UTC epoch seconds", or seconds until then as other
    /// clients read it), with `x-ratelimit-remaining: 0`.
    pub ratelimit_reset: Option<String>,
    /// Sleep this long before answering.
    pub latency_ms: u64,
}

impl PortFake {
    pub const CLIENT_ID: &'static str = "fake-client-id";
    pub const CLIENT_SECRET: &'static str = "fake-client-secret";

    /// Starts the server on `127.0.0.1:0`. Needs a running tokio runtime.
    pub async fn start() -> PortFake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("PortFake: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("PortFake: local addr");
        let base = format!("http://{addr}");
        let state: Shared = Arc::new(Mutex::new(FakeState::new(base.clone())));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        PortFake {
            base,
            state,
            server,
        }
    }

    /// Base URL without `/v1`, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        self.base.clone()
    }

    fn st(&self) -> MutexGuard<'_, FakeState> {
        lock(&self.state)
    }

    /// Lifetime (`expiresIn`) of tokens issued from now on. Default 10800 (3 h).
    pub fn set_token_ttl_secs(&self, secs: u64) {
        self.st().token_ttl_secs = secs;
    }

    /// Sends `value` as the token response's `expiresIn` instead of the seconds left
    /// (any JSON: a huge number, a negative one, a string), to check how the client copes
    /// with a nonsensical lifetime; the token itself still lives `set_token_ttl_secs`.
    pub fn set_token_expires_in_raw(&self, value: Value) {
        self.st().token_expires_in_raw = Some(value);
    }

    /// Makes every token issued so far invalid: its next use gets 401.
    pub fn expire_tokens(&self) {
        let now = Instant::now();
        for expiry in self.st().tokens.values_mut() {
            *expiry = now;
        }
    }

    /// Adds a fault; the first matching fault with `times > 0` is used per request.
    pub fn inject(&self, fault: Fault) {
        self.st().faults.push(fault);
    }

    /// Every request so far, in arrival order, including rejected ones.
    pub fn requests(&self) -> Vec<Recorded> {
        self.st().requests.clone()
    }

    /// Requests other than GET and other than `POST /v1/auth/access_token`.
    pub fn write_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method != "GET" && !(r.method == "POST" && r.path == TOKEN_PATH))
            .collect()
    }

    /// Forgets the recorded requests (not the catalog).
    pub fn clear_requests(&self) {
        self.st().requests.clear();
    }

    /// Every entity an upsert stored so far, in order (entities seeded with
    /// [`PortFake::put_entity`] and stubs for missing relation targets are not writes).
    pub fn writes(&self) -> Vec<Write> {
        self.st().writes.clone()
    }

    /// Holds every later request whose raw path contains `path_contains` (after recording
    /// and any [`Fault`], before anything else) until a [`PortFake::release`]: a Port that
    /// has not answered yet, for as long as the test needs, without a timer.
    pub fn hold(&self, path_contains: &str) {
        self.st().hold = Some(path_contains.to_string());
    }

    /// Lets every request held so far go on; requests arriving later are held again while
    /// a [`PortFake::hold`] is set.
    pub fn release(&self) {
        self.st().releases.send_modify(|n| *n += 1);
    }

    /// Stops holding and releases what is held.
    pub fn unhold(&self) {
        let mut st = self.st();
        st.hold = None;
        st.releases.send_modify(|n| *n += 1);
    }

    /// Requests waiting in a [`PortFake::hold`] now (each still unanswered).
    pub fn held(&self) -> Vec<Recorded> {
        let st = self.st();
        st.holding
            .iter()
            .filter_map(|i| st.requests.get(*i).cloned())
            .collect()
    }

    /// All stored entities, sorted by (blueprint, identifier).
    pub fn entities(&self) -> Vec<Value> {
        self.st().entities.values().cloned().collect()
    }

    pub fn entity(&self, blueprint: &str, identifier: &str) -> Option<Value> {
        self.st()
            .entities
            .get(&(blueprint.to_string(), identifier.to_string()))
            .cloned()
    }

    /// Identifiers of the stored blueprints, sorted.
    pub fn blueprint_ids(&self) -> Vec<String> {
        self.st().blueprints.keys().cloned().collect()
    }

    pub fn blueprint(&self, id: &str) -> Option<Value> {
        self.st().blueprints.get(id).cloned()
    }

    /// Seeds a blueprint directly, without validation. Panics without `identifier`.
    pub fn put_blueprint(&self, bp: Value) {
        let id = bp["identifier"]
            .as_str()
            .expect("put_blueprint: blueprint needs a string identifier")
            .to_string();
        self.st().blueprints.insert(id, bp);
    }

    /// Seeds an entity directly (needs `blueprint` and `identifier`); `updatedAt` is now.
    pub fn put_entity(&self, entity: Value, datasource: &str) {
        let blueprint = entity["blueprint"]
            .as_str()
            .expect("put_entity: entity needs a string blueprint")
            .to_string();
        let identifier = entity["identifier"]
            .as_str()
            .expect("put_entity: entity needs a string identifier")
            .to_string();
        let now = now_iso();
        let mut e = entity;
        e["$datasource"] = json!(datasource);
        if !e["createdAt"].is_string() {
            e["createdAt"] = json!(now);
        }
        e["updatedAt"] = json!(now);
        self.st()
            .entities
            .insert((blueprint, identifier), canonical_entity(&e));
    }

    /// The stored integration object.
    pub fn integration(&self, id: &str) -> Option<Value> {
        self.st().integrations.get(id).cloned()
    }

    /// Seeds or replaces an integration, keyed by its `identifier`.
    pub fn put_integration(&self, integration: Value) {
        let id = integration["identifier"]
            .as_str()
            .expect("put_integration: integration needs a string identifier")
            .to_string();
        self.st().integrations.insert(id, integration);
    }

    /// Statuses PATCHed to `/integration/{id}/resync-state`, in order.
    pub fn resync_states(&self, id: &str) -> Vec<String> {
        self.st().resync_states.get(id).cloned().unwrap_or_default()
    }

    /// Makes `GET /integration/{id}/resync-request` return a request with this `updatedAt`.
    pub fn set_resync_request(&self, id: &str, updated_at: &str) {
        let request = json!({"id": uuid::Uuid::new_v4().to_string(), "updatedAt": updated_at});
        self.st().resync_requests.insert(id.to_string(), request);
    }

    /// Makes the next `POST /v1/integration` store `config` instead of the posted one, as
    /// Port's provisioning may give a new integration a mapping of its own.
    pub fn provision_config(&self, config: Value) {
        self.st().provisioned_config = Some(config);
    }

    /// Scripts the datasource listing's cursors, as a Port whose cursor loops would: the
    /// n-th listing request answers `next` = `cursors[n]` with the first page's entities
    /// (a scripted cursor is accepted as `from`); once the script is used up, the listing
    /// pages as usual (so a client that keeps following the cursors finishes).
    pub fn script_listing_cursors(&self, cursors: &[&str]) {
        let mut st = self.st();
        st.listing_script = cursors.iter().map(|c| c.to_string()).collect();
        st.scripted_cursors = cursors.iter().map(|c| c.to_string()).collect();
    }

    /// Examples POSTed for (integration, kind), latest batch last.
    pub fn examples(&self, id: &str, kind: &str) -> Vec<Value> {
        self.st()
            .examples
            .get(&(id.to_string(), kind.to_string()))
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for PortFake {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A plain-text table of entities (blueprint, identifier, title, relations), for the
/// demo's final print.
pub fn summary_table(entities: &[Value]) -> String {
    let header = ["BLUEPRINT", "IDENTIFIER", "TITLE", "RELATIONS"].map(String::from);
    let rows: Vec<[String; 4]> = entities
        .iter()
        .map(|e| {
            [
                e["blueprint"].as_str().unwrap_or("").to_string(),
                e["identifier"].as_str().unwrap_or("").to_string(),
                e["title"].as_str().unwrap_or("").to_string(),
                relations_text(&e["relations"]),
            ]
        })
        .collect();
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 4]| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            out.push_str(cell);
            out.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
        }
        out.trim_end().to_string()
    };
    let mut out = line(&header);
    out.push('\n');
    out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 6));
    out.push('\n');
    for row in &rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    out.push_str(&format!(
        "{} entit{}\n",
        rows.len(),
        if rows.len() == 1 { "y" } else { "ies" }
    ));
    out
}

fn relations_text(relations: &Value) -> String {
    let Some(map) = relations.as_object() else {
        return String::new();
    };
    map.iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some(format!("{k}={s}")),
            Value::Array(items) if !items.is_empty() => {
                let ids: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                Some(format!("{k}=[{}]", ids.join(", ")))
            }
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------
// State

const TOKEN_PATH: &str = "/v1/auth/access_token";

struct FakeState {
    base: String,
    token_ttl_secs: u64,
    /// `expiresIn` sent instead of the real one (see `set_token_expires_in_raw`).
    token_expires_in_raw: Option<Value>,
    /// Every issued token and when it stops being valid.
    tokens: HashMap<String, Instant>,
    faults: Vec<Fault>,
    requests: Vec<Recorded>,
    /// Entities stored by upserts, in order.
    writes: Vec<Write>,
    /// Requests whose path contains this wait for the next release.
    hold: Option<String>,
    /// Release generation: a held request waits until it moves past the one it saw.
    releases: tokio::sync::watch::Sender<u64>,
    /// Indices (in `requests`) of the requests held now.
    holding: Vec<usize>,
    blueprints: BTreeMap<String, Value>,
    /// Keyed by (blueprint, identifier), so iteration is sorted.
    entities: BTreeMap<(String, String), Value>,
    integrations: BTreeMap<String, Value>,
    resync_states: HashMap<String, Vec<String>>,
    resync_requests: HashMap<String, Value>,
    examples: HashMap<(String, String), Vec<Value>>,
    /// What the next created integration stores as its config, whatever was posted.
    provisioned_config: Option<Value>,
    /// `next` cursors the coming listing requests answer, in order.
    listing_script: VecDeque<String>,
    /// Every scripted cursor (accepted as `from`, read as the first page).
    scripted_cursors: HashSet<String>,
    /// Self-service action definitions and their runs.
    actions: actions::ActionsState,
}

impl FakeState {
    fn new(base: String) -> Self {
        FakeState {
            base,
            token_ttl_secs: 10800,
            token_expires_in_raw: None,
            tokens: HashMap::new(),
            faults: Vec::new(),
            requests: Vec::new(),
            writes: Vec::new(),
            hold: None,
            releases: tokio::sync::watch::Sender::new(0),
            holding: Vec::new(),
            blueprints: BTreeMap::new(),
            entities: BTreeMap::new(),
            integrations: BTreeMap::new(),
            resync_states: HashMap::new(),
            resync_requests: HashMap::new(),
            examples: HashMap::new(),
            provisioned_config: None,
            listing_script: VecDeque::new(),
            scripted_cursors: HashSet::new(),
            actions: actions::ActionsState::default(),
        }
    }

    /// Consumes one use of the first matching fault.
    fn take_fault(&mut self, method: &str, path: &str) -> Option<Fault> {
        let fault = self.faults.iter_mut().find(|f| {
            f.times > 0
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && path.contains(&f.path_contains)
        })?;
        fault.times -= 1;
        Some(fault.clone())
    }

    fn check_auth(&self, authorization: Option<&str>) -> Result<(), Reply> {
        let Some(value) = authorization else {
            return Err(Reply::error(
                401,
                "unauthorized",
                "missing Authorization header",
            ));
        };
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => {
                return Err(Reply::error(
                    401,
                    "unauthorized",
                    "Authorization header must be 'Bearer <token>'",
                ));
            }
        };
        match self.tokens.get(token) {
            Some(expiry) if *expiry > Instant::now() => Ok(()),
            Some(_) => Err(Reply::error(401, "unauthorized", "access token expired")),
            None => Err(Reply::error(401, "unauthorized", "invalid access token")),
        }
    }

    fn log_write(&mut self, blueprint: &str, stored: &Value, request: usize) {
        self.writes.push(Write {
            blueprint: blueprint.to_string(),
            identifier: stored["identifier"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            request,
            at: Instant::now(),
        });
    }

    fn blueprint_ref(&self, id: &str) -> Result<&Value, Reply> {
        self.blueprints
            .get(id)
            .ok_or_else(|| not_found(format!("blueprint '{id}' was not found")))
    }

    fn integration_mut(&mut self, id: &str) -> Result<&mut Value, Reply> {
        self.integrations
            .get_mut(id)
            .ok_or_else(|| not_found(format!("integration '{id}' was not found")))
    }
}

fn lock(state: &Shared) -> MutexGuard<'_, FakeState> {
    // A panic in one handler must not poison every later request.
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now_iso() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

// ---------------------------------------------------------------------------
// HTTP plumbing

/// A response before it is turned into HTTP.
struct Reply {
    status: u16,
    body: Value,
    /// Extra headers (rate-limit hints of an injected fault); one `Vec` rather than a
    /// field per header keeps `Result<Reply, Reply>` small.
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn ok(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body,
            headers: Vec::new(),
        }
    }

    fn error(status: u16, code: &str, message: impl Into<String>) -> Reply {
        Reply::ok(
            status,
            json!({"ok": false, "error": code, "message": message.into()}),
        )
    }

    fn into_http(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self.body)).into_response();
        let headers = response.headers_mut();
        if let Ok(trace) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
            headers.insert("x-trace-id", trace);
        }
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        response
    }
}

/// Handlers return `Err` for early exits so `?` works; both sides are answers.
type Handled = Result<Reply, Reply>;

fn invalid(message: impl Into<String>) -> Reply {
    Reply::error(422, "invalid_request", message)
}

fn not_found(message: impl Into<String>) -> Reply {
    Reply::error(404, "not_found", message)
}

/// What a route handler needs from the request.
struct Req<'a> {
    /// Index of this request in `FakeState::requests`.
    index: usize,
    query: HashMap<String, String>,
    /// Parsed JSON body; `Null` when absent.
    body: &'a Value,
    user_agent: &'a str,
}

async fn handle(State(state): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let header_str = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let user_agent = header_str(header::USER_AGENT).unwrap_or_default();
    let authorization = header_str(header::AUTHORIZATION);

    // Read the whole body ourselves so Port's 1 MiB limit, not axum's, decides.
    let (bytes, too_large) = match axum::body::to_bytes(body, READ_LIMIT).await {
        Ok(bytes) => {
            let too_large = bytes.len() > MAX_BODY;
            (bytes, too_large)
        }
        Err(_) => (Default::default(), true),
    };
    let parsed: Option<Value> = if bytes.is_empty() {
        None
    } else {
        serde_json::from_slice(&bytes).ok()
    };
    let body_value = parsed.clone().unwrap_or(Value::Null);

    let (index, fault) = {
        let mut st = lock(&state);
        st.requests.push(Recorded {
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            status: 0,
            user_agent: user_agent.clone(),
            body: body_value.clone(),
            at: Instant::now(),
            answered: None,
        });
        let index = st.requests.len() - 1;
        (index, st.take_fault(&method, &path))
    };

    let mut reply = None;
    if let Some(fault) = fault {
        if fault.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(fault.latency_ms)).await;
        }
        if fault.status != 0 {
            let mut injected = Reply::error(
                fault.status,
                "injected",
                format!("fault injected by PortFake (status {})", fault.status),
            );
            if let Some(v) = fault.retry_after {
                injected.headers.push(("retry-after", v));
            }
            if let Some(v) = fault.ratelimit_reset {
                injected.headers.push(("x-ratelimit-reset", v));
                injected.headers.push(("x-ratelimit-remaining", "0".into()));
            }
            reply = Some(injected);
        }
    }
    if reply.is_none() {
        hold_if_asked(&state, index, &path).await;
    }

    let mut st = lock(&state);
    let reply = reply.unwrap_or_else(|| {
        if too_large {
            return Reply::error(413, "payload_too_large", "limit is 1MiB");
        }
        let Some(endpoint) = match_endpoint(&method, &path) else {
            return Reply::error(404, "not_found", format!("route {method} {path} not found"));
        };
        if !matches!(endpoint, Endpoint::Token)
            && let Err(reply) = st.check_auth(authorization.as_deref())
        {
            return reply;
        }
        if !bytes.is_empty() && parsed.is_none() {
            return Reply::error(400, "invalid_json", "request body is not valid JSON");
        }
        let req = Req {
            index,
            query: parse_query(&query),
            body: &body_value,
            user_agent: &user_agent,
        };
        dispatch(&mut st, endpoint, &req).unwrap_or_else(|e| e)
    });
    if let Some(recorded) = st.requests.get_mut(index) {
        recorded.status = reply.status;
        recorded.answered = Some(Instant::now());
    }
    drop(st);
    reply.into_http()
}

/// Waits while a [`PortFake::hold`] matches `path`, until the next release.
async fn hold_if_asked(state: &Shared, index: usize, path: &str) {
    // The generation is read under the lock that `release` takes too, so a release that
    // comes after this request was recorded as held always lets it go.
    let (mut releases, seen) = {
        let mut st = lock(state);
        if !st.hold.as_deref().is_some_and(|h| path.contains(h)) {
            return;
        }
        st.holding.push(index);
        let releases = st.releases.subscribe();
        let seen = *st.releases.borrow();
        (releases, seen)
    };
    // Counted as held until released, or until the server drops this request because its
    // client went away.
    struct Holding<'a>(&'a Shared, usize);
    impl Drop for Holding<'_> {
        fn drop(&mut self) {
            lock(self.0).holding.retain(|i| *i != self.1);
        }
    }
    let _holding = Holding(state, index);
    // The sender lives in the state as long as the server does.
    let _ = releases.wait_for(|n| *n > seen).await;
}

fn parse_query(query: &str) -> HashMap<String, String> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        urlencoding::decode(&s).map(|c| c.into_owned()).unwrap_or(s)
    };
    let mut out = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.entry(decode(k)).or_insert_with(|| decode(v));
    }
    out
}

enum Endpoint {
    Token,
    Organization,
    ProvisionEnabled,
    CreateIntegration,
    GetIntegration(String),
    PatchIntegration(String),
    DeleteIntegration(String),
    PatchIntegrationConfig(String),
    PatchResyncState(String),
    GetResyncRequest(String),
    PostExamples(String, String),
    ListBlueprints,
    CreateBlueprint,
    GetBlueprint(String),
    PatchBlueprint(String),
    PutBlueprint(String),
    DeleteBlueprint(String),
    ListEntities(String),
    UpsertEntity(String),
    BulkUpsert(String),
    GetEntity(String, String),
    DeleteEntity(String, String),
    BulkDelete(String),
    DatasourceEntities,
    ListActions,
    CreateAction,
    GetAction(String),
    PutAction(String),
    DeleteAction(String),
    ListRuns,
    GetRun(String),
    PatchRun(String),
    PostRunLog(String),
    /// Sink for `logAttributes.ingestUrl` / `metricAttributes.ingestUrl`.
    Ingest,
}

/// Maps method + raw path to a route; path segments are percent-decoded one by one,
/// so an encoded `/` inside an identifier stays part of it.
fn match_endpoint(method: &str, path: &str) -> Option<Endpoint> {
    let rest = path.strip_prefix("/v1/")?;
    let segs: Vec<String> = rest
        .split('/')
        .map(|s| urlencoding::decode(s).map(|c| c.into_owned()).ok())
        .collect::<Option<_>>()?;
    if segs.iter().any(String::is_empty) {
        return None;
    }
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let own = |x: &str| x.to_string();
    use Endpoint::*;
    Some(match (method, s.as_slice()) {
        ("POST", ["auth", "access_token"]) => Token,
        ("GET", ["organization"]) => Organization,
        ("GET", ["integration", "provision-enabled"]) => ProvisionEnabled,
        ("POST", ["integration"]) => CreateIntegration,
        ("GET", ["integration", id]) => GetIntegration(own(id)),
        ("PATCH", ["integration", id]) => PatchIntegration(own(id)),
        ("DELETE", ["integration", id]) => DeleteIntegration(own(id)),
        ("PATCH", ["integration", id, "config"]) => PatchIntegrationConfig(own(id)),
        ("PATCH", ["integration", id, "resync-state"]) => PatchResyncState(own(id)),
        ("GET", ["integration", id, "resync-request"]) => GetResyncRequest(own(id)),
        ("POST", ["integration", id, "kinds", kind, "examples"]) => {
            PostExamples(own(id), own(kind))
        }
        ("GET", ["blueprints"]) => ListBlueprints,
        ("POST", ["blueprints"]) => CreateBlueprint,
        ("POST", ["blueprints", "entities", "datasource-entities"]) => DatasourceEntities,
        ("GET", ["blueprints", id]) => GetBlueprint(own(id)),
        ("PATCH", ["blueprints", id]) => PatchBlueprint(own(id)),
        ("PUT", ["blueprints", id]) => PutBlueprint(own(id)),
        ("DELETE", ["blueprints", id]) => DeleteBlueprint(own(id)),
        ("GET", ["blueprints", bp, "entities"]) => ListEntities(own(bp)),
        ("POST", ["blueprints", bp, "entities"]) => UpsertEntity(own(bp)),
        ("POST", ["blueprints", bp, "entities", "bulk"]) => BulkUpsert(own(bp)),
        ("GET", ["blueprints", bp, "entities", id]) => GetEntity(own(bp), own(id)),
        ("DELETE", ["blueprints", bp, "entities", id]) => DeleteEntity(own(bp), own(id)),
        ("POST", ["blueprints", bp, "bulk", "entities", "delete"]) => BulkDelete(own(bp)),
        ("GET", ["actions"]) => ListActions,
        ("POST", ["actions"]) => CreateAction,
        // `runs` is the runs collection, not an action of that name.
        ("GET", ["actions", "runs"]) => ListRuns,
        ("GET", ["actions", "runs", id]) => GetRun(own(id)),
        ("PATCH", ["actions", "runs", id]) => PatchRun(own(id)),
        ("POST", ["actions", "runs", id, "logs"]) => PostRunLog(own(id)),
        ("GET", ["actions", id]) => GetAction(own(id)),
        ("PUT", ["actions", id]) => PutAction(own(id)),
        ("DELETE", ["actions", id]) => DeleteAction(own(id)),
        (_, ["fake-ingest", ..]) => Ingest,
        _ => return None,
    })
}

fn dispatch(st: &mut FakeState, endpoint: Endpoint, r: &Req) -> Handled {
    use Endpoint::*;
    match endpoint {
        Token => token(st, r),
        Organization => Ok(Reply::ok(
            200,
            json!({"ok": true, "organization": {"id": "org_portfake", "name": "PortFake", "featureFlags": []}}),
        )),
        ProvisionEnabled => Ok(Reply::ok(200, json!({"ok": true, "integrations": []}))),
        CreateIntegration => create_integration(st, r),
        GetIntegration(id) => {
            let integration = st.integration_mut(&id)?.clone();
            Ok(Reply::ok(
                200,
                json!({"ok": true, "integration": integration}),
            ))
        }
        PatchIntegration(id) => patch_integration(st, &id, r),
        DeleteIntegration(id) => {
            st.integrations
                .remove(&id)
                .ok_or_else(|| not_found(format!("integration '{id}' was not found")))?;
            Ok(Reply::ok(200, json!({"ok": true})))
        }
        PatchIntegrationConfig(id) => {
            let config = object_body(r.body)?
                .get("config")
                .filter(|c| c.is_object())
                .cloned()
                .ok_or_else(|| invalid("body must have required object property 'config'"))?;
            let integration = st.integration_mut(&id)?;
            integration["config"] = config;
            integration["updatedAt"] = json!(now_iso());
            Ok(Reply::ok(
                200,
                json!({"ok": true, "integration": integration.clone()}),
            ))
        }
        PatchResyncState(id) => patch_resync_state(st, &id, r),
        GetResyncRequest(id) => {
            st.integration_mut(&id)?;
            let request = st.resync_requests.get(&id).cloned().unwrap_or(Value::Null);
            Ok(Reply::ok(200, json!({"ok": true, "request": request})))
        }
        PostExamples(id, kind) => {
            let examples = object_body(r.body)?
                .get("examples")
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| invalid("body must have required array property 'examples'"))?;
            st.integration_mut(&id)?;
            st.examples.insert((id, kind), examples);
            Ok(Reply::ok(200, json!({"ok": true})))
        }
        ListBlueprints => {
            let all: Vec<Value> = st.blueprints.values().cloned().collect();
            Ok(Reply::ok(200, json!({"ok": true, "blueprints": all})))
        }
        CreateBlueprint => create_blueprint(st, r),
        GetBlueprint(id) => {
            let bp = st.blueprint_ref(&id)?.clone();
            Ok(Reply::ok(200, json!({"ok": true, "blueprint": bp})))
        }
        PatchBlueprint(id) => update_blueprint(st, &id, r, true),
        PutBlueprint(id) => update_blueprint(st, &id, r, false),
        DeleteBlueprint(id) => delete_blueprint(st, &id),
        ListEntities(bp) => {
            st.blueprint_ref(&bp)?;
            let list: Vec<Value> = st
                .entities
                .iter()
                .filter(|((b, _), _)| *b == bp)
                .map(|(_, e)| e.clone())
                .collect();
            Ok(Reply::ok(200, json!({"ok": true, "entities": list})))
        }
        UpsertEntity(bp) => upsert_single(st, &bp, r),
        BulkUpsert(bp) => upsert_bulk(st, &bp, r),
        GetEntity(bp, id) => {
            st.blueprint_ref(&bp)?;
            let entity = st
                .entities
                .get(&(bp.clone(), id.clone()))
                .cloned()
                .ok_or_else(|| {
                    not_found(format!("entity '{id}' of blueprint '{bp}' was not found"))
                })?;
            Ok(Reply::ok(200, json!({"ok": true, "entity": entity})))
        }
        DeleteEntity(bp, id) => delete_single(st, &bp, &id, r),
        BulkDelete(bp) => delete_bulk(st, &bp, r),
        DatasourceEntities => datasource_entities(st, r),
        ListActions => actions::list_actions(st),
        CreateAction => actions::create_action(st, r),
        GetAction(id) => actions::get_action(st, &id),
        PutAction(id) => actions::put_action(st, &id, r),
        DeleteAction(id) => actions::delete_action(st, &id),
        ListRuns => actions::list_runs(st, r),
        GetRun(id) => actions::get_run(st, &id),
        PatchRun(id) => actions::patch_run(st, &id, r),
        PostRunLog(id) => actions::post_run_log(st, &id, r),
        Ingest => Ok(Reply::ok(200, json!({"ok": true}))),
    }
}

fn object_body(body: &Value) -> Result<&Map<String, Value>, Reply> {
    body.as_object()
        .ok_or_else(|| invalid("body must be a JSON object"))
}

/// Reads an optional `true`/`false` query parameter.
fn bool_param(r: &Req, name: &str, default: bool) -> Result<bool, Reply> {
    match r.query.get(name).map(String::as_str) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(invalid(format!(
            "querystring/{name} must be boolean (true or false), got '{other}'"
        ))),
    }
}

fn required_bool_param(r: &Req, name: &str) -> Result<bool, Reply> {
    if !r.query.contains_key(name) {
        return Err(invalid(format!(
            "querystring must have required property '{name}'"
        )));
    }
    bool_param(r, name, false)
}

// ---------------------------------------------------------------------------
// Auth

fn token(st: &mut FakeState, r: &Req) -> Handled {
    let body = object_body(r.body)?;
    if let Some(extra) = body
        .keys()
        .find(|k| *k != "clientId" && *k != "clientSecret")
    {
        return Err(invalid(format!(
            "body must NOT have additional properties ('{extra}')"
        )));
    }
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("body must have required string property '{name}'")))
    };
    let (id, secret) = (field("clientId")?, field("clientSecret")?);
    if id != PortFake::CLIENT_ID || secret != PortFake::CLIENT_SECRET {
        return Err(Reply::error(
            401,
            "unauthorized",
            "invalid clientId or clientSecret",
        ));
    }
    let now = Instant::now();
    let active = st
        .tokens
        .iter()
        .filter(|(_, expiry)| **expiry > now)
        .max_by_key(|(_, expiry)| **expiry)
        .map(|(t, e)| (t.clone(), *e));
    let (token, expiry) = match active {
        Some(active) => active,
        None => {
            let token = uuid::Uuid::new_v4().to_string();
            let expiry = now + Duration::from_secs(st.token_ttl_secs);
            st.tokens.insert(token.clone(), expiry);
            (token, expiry)
        }
    };
    let left = expiry.saturating_duration_since(now);
    let expires_in = st
        .token_expires_in_raw
        .clone()
        .unwrap_or_else(|| json!(left.as_secs() + u64::from(left.subsec_nanos() > 0)));
    Ok(Reply::ok(
        200,
        json!({"ok": true, "accessToken": token, "expiresIn": expires_in, "tokenType": "Bearer"}),
    ))
}

// ---------------------------------------------------------------------------
// Integrations

fn create_integration(st: &mut FakeState, r: &Req) -> Handled {
    let body = object_body(r.body)?;
    let id = body
        .get("installationId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("body must have required string property 'installationId'"))?
        .to_string();
    if let Some(origin) = body.get("createPortResourcesOrigin")
        && !origin.is_null()
        && !["Empty", "Ocean", "Default", "Port"]
            .iter()
            .any(|o| origin.as_str() == Some(o))
    {
        return Err(invalid(
            "body/createPortResourcesOrigin must be one of Empty, Ocean, Default, Port",
        ));
    }
    if st.integrations.contains_key(&id) {
        return Err(Reply::error(
            409,
            "conflict",
            format!("integration '{id}' already exists"),
        ));
    }
    let now = now_iso();
    let get = |k: &str| body.get(k).cloned().unwrap_or(Value::Null);
    let mut integration = json!({
        "identifier": id,
        "installationAppType": get("installationAppType"),
        "version": get("version"),
        "installationType": "OnPrem",
        "config": match st.provisioned_config.take() {
            Some(config) => config,
            None => body.get("config").filter(|c| c.is_object()).cloned().unwrap_or(json!({})),
        },
        "changelogDestination": get("changelogDestination"),
        "actionsProcessingEnabled": body.get("actionsProcessingEnabled").cloned().unwrap_or(json!(false)),
        "incrementalSyncEnabled": body.get("incrementalSyncEnabled").cloned().unwrap_or(json!(false)),
        "createPortResourcesOrigin": get("createPortResourcesOrigin"),
        "resyncState": null,
        "arePortResourcesInitialized": false,
        "logAttributes": {
            "ingestId": uuid::Uuid::new_v4().to_string(),
            "ingestUrl": format!("{}/v1/fake-ingest/logs/{id}", st.base),
        },
        "metricAttributes": {"ingestUrl": format!("{}/v1/fake-ingest/metrics/{id}", st.base)},
        "createdAt": now,
        "updatedAt": now,
    });
    for (k, v) in body {
        if k != "installationId" && integration.get(k).is_none() {
            integration[k] = v.clone();
        }
    }
    st.integrations.insert(id, integration.clone());
    Ok(Reply::ok(
        200,
        json!({"ok": true, "integration": integration}),
    ))
}

fn patch_integration(st: &mut FakeState, id: &str, r: &Req) -> Handled {
    let body = object_body(r.body)?.clone();
    let integration = st.integration_mut(id)?;
    for (k, v) in &body {
        if k != "identifier" {
            integration[k.as_str()] = v.clone();
        }
    }
    let now = now_iso();
    integration["updatedAt"] = json!(now);
    let integration = integration.clone();
    // Port documents that an empty PATCH body asks for a resync.
    if body.is_empty() {
        st.resync_requests.insert(
            id.to_string(),
            json!({"id": uuid::Uuid::new_v4().to_string(), "updatedAt": now}),
        );
    }
    Ok(Reply::ok(
        200,
        json!({"ok": true, "integration": integration}),
    ))
}

fn patch_resync_state(st: &mut FakeState, id: &str, r: &Req) -> Handled {
    let body = object_body(r.body)?;
    let status = body
        .get("status")
        .and_then(Value::as_str)
        .filter(|s| RESYNC_STATUSES.contains(s))
        .ok_or_else(|| invalid("body/status must be one of running, completed, failed, aborted"))?
        .to_string();
    let integration = st.integration_mut(id)?;
    let mut state = integration["resyncState"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (k, v) in body {
        state.insert(k.clone(), v.clone());
    }
    // Same stamp on both, as Ocean's Kafka listener expects for state-only writes.
    let now = now_iso();
    state.insert("updatedAt".into(), json!(now));
    integration["resyncState"] = Value::Object(state);
    integration["updatedAt"] = json!(now);
    let integration = integration.clone();
    st.resync_states
        .entry(id.to_string())
        .or_default()
        .push(status);
    Ok(Reply::ok(
        200,
        json!({"ok": true, "integration": integration}),
    ))
}

// ---------------------------------------------------------------------------
// Identifiers

/// Port's identifier patterns (`shared/port-api.md` §2.4, "Identifier rules"):
///
/// > Entity `identifier`; relation target values | `^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$` | 1000
/// > Blueprint `identifier` | `^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/-]+$` (no `=`) | 100
///
/// The character classes are compiled from that very text, so `\p{L}` is Unicode's general
/// category Letter, as in Port's JSON-Schema (ECMAScript `u`) regex: narrower than
/// `char::is_alphabetic`, which also takes letter numbers (`Ⅻ`, Nl) and other alphabetic
/// symbols and marks (`Ⓐ`, So; `ा`, Mc) that Port refuses.
const ENTITY_ID_CLASS: &str = r"[\p{L}0-9@_.+:\\/=-]";
const BLUEPRINT_ID_CLASS: &str = r"[\p{L}0-9@_.+:\\/-]";

/// The sorted ranges of a regex character class (empty if it does not parse as one, which
/// the unit tests would show: every identifier would be refused).
fn class_ranges(class: &str) -> Vec<(char, char)> {
    use regex_syntax::hir::{Class, HirKind};
    match regex_syntax::parse(class).as_ref().map(|hir| hir.kind()) {
        Ok(HirKind::Class(Class::Unicode(c))) => {
            c.ranges().iter().map(|r| (r.start(), r.end())).collect()
        }
        _ => Vec::new(),
    }
}

fn in_ranges(ranges: &[(char, char)], c: char) -> bool {
    ranges
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

fn valid_id(s: &str, max: usize, class: &[(char, char)]) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars().count() <= max
        && s.chars().all(|c| in_ranges(class, c))
}

/// Entity identifiers and relation targets.
fn valid_entity_id(s: &str) -> bool {
    static CLASS: std::sync::OnceLock<Vec<(char, char)>> = std::sync::OnceLock::new();
    valid_id(s, 1000, CLASS.get_or_init(|| class_ranges(ENTITY_ID_CLASS)))
}

fn valid_blueprint_id(s: &str) -> bool {
    static CLASS: std::sync::OnceLock<Vec<(char, char)>> = std::sync::OnceLock::new();
    valid_id(
        s,
        100,
        CLASS.get_or_init(|| class_ranges(BLUEPRINT_ID_CLASS)),
    )
}

/// Property and relation keys of a blueprint.
fn valid_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@_=-".contains(c))
}

// ---------------------------------------------------------------------------
// Blueprints

const PROPERTY_TYPES: [&str; 5] = ["string", "number", "boolean", "object", "array"];
const PROPERTY_FORMATS: [&str; 14] = [
    "date-time",
    "url",
    "email",
    "idn-email",
    "ipv4",
    "ipv6",
    "markdown",
    "yaml",
    "user",
    "blueprints",
    "team",
    "timer",
    "proto",
    "labeled-url",
];

/// Route-schema checks of a blueprint body (422), then relation targets (404).
fn validate_blueprint(st: &FakeState, bp: &Value) -> Result<(), Reply> {
    let obj = object_body(bp)?;
    let id = match obj.get("identifier") {
        Some(Value::String(s)) if valid_blueprint_id(s) => s.as_str(),
        Some(_) => return Err(invalid(format!("body/identifier {BLUEPRINT_ID_RULE}"))),
        None => return Err(invalid("body must have required property 'identifier'")),
    };
    match obj.get("title").and_then(Value::as_str) {
        Some(t) if (1..=100).contains(&t.chars().count()) => {}
        _ => {
            return Err(invalid(
                "body/title is required and must be a string of 1 to 100 characters",
            ));
        }
    }
    if let Some(d) = obj.get("description")
        && d.as_str().is_none_or(|d| d.chars().count() > 200)
    {
        return Err(invalid(
            "body/description must be a string of at most 200 characters",
        ));
    }
    let props = obj
        .get("schema")
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("body/schema must be an object with an object 'properties'"))?;
    for (key, def) in props {
        if !valid_key(key) {
            return Err(invalid(format!(
                "body/schema/properties key '{key}' {KEY_RULE}"
            )));
        }
        let ty = def.get("type").and_then(Value::as_str);
        if !ty.is_some_and(|t| PROPERTY_TYPES.contains(&t)) {
            return Err(invalid(format!(
                "body/schema/properties/{key}/type must be one of {}",
                PROPERTY_TYPES.join(", ")
            )));
        }
        if let Some(format) = def.get("format")
            && !format
                .as_str()
                .is_some_and(|f| PROPERTY_FORMATS.contains(&f))
        {
            return Err(invalid(format!(
                "body/schema/properties/{key}/format is not a supported format"
            )));
        }
        if let Some(e) = def.get("enum")
            && !e.is_array()
        {
            return Err(invalid(format!(
                "body/schema/properties/{key}/enum must be an array"
            )));
        }
    }
    if let Some(required) = obj.get("schema").and_then(|s| s.get("required"))
        && !required
            .as_array()
            .is_some_and(|r| r.iter().all(Value::is_string))
    {
        return Err(invalid("body/schema/required must be an array of strings"));
    }
    let Some(relations) = obj.get("relations") else {
        return Ok(());
    };
    let relations = relations
        .as_object()
        .ok_or_else(|| invalid("body/relations must be an object"))?;
    for (key, def) in relations {
        if !valid_key(key) {
            return Err(invalid(format!("body/relations key '{key}' {KEY_RULE}")));
        }
        let target = def.get("target").and_then(Value::as_str);
        let flags_ok = ["required", "many"]
            .iter()
            .all(|f| def.get(*f).is_some_and(Value::is_boolean));
        let Some(target) = target.filter(|_| flags_ok) else {
            return Err(invalid(format!(
                "body/relations/{key} must have string 'target' and boolean 'required' and 'many'"
            )));
        };
        if target != id && !st.blueprints.contains_key(target) {
            return Err(not_found(format!(
                "relation '{key}' targets blueprint '{target}', which was not found"
            )));
        }
    }
    Ok(())
}

fn create_blueprint(st: &mut FakeState, r: &Req) -> Handled {
    validate_blueprint(st, r.body)?;
    let id = r.body["identifier"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if st.blueprints.contains_key(&id) {
        return Err(Reply::error(
            409,
            "conflict",
            format!("blueprint '{id}' already exists"),
        ));
    }
    let now = now_iso();
    let mut bp = r.body.clone();
    bp["createdAt"] = json!(now);
    bp["updatedAt"] = json!(now);
    st.blueprints.insert(id, bp.clone());
    Ok(Reply::ok(201, json!({"ok": true, "blueprint": bp})))
}

/// PATCH merges top-level keys; PUT replaces. The identifier cannot change.
fn update_blueprint(st: &mut FakeState, id: &str, r: &Req, merge: bool) -> Handled {
    let body = object_body(r.body)?;
    let old = st.blueprint_ref(id)?.clone();
    let mut bp = if merge {
        let mut bp = old.clone();
        for (k, v) in body {
            bp[k.as_str()] = v.clone();
        }
        bp
    } else {
        r.body.clone()
    };
    bp["identifier"] = json!(id);
    validate_blueprint(st, &bp)?;
    bp["createdAt"] = old.get("createdAt").cloned().unwrap_or(Value::Null);
    bp["updatedAt"] = json!(now_iso());
    st.blueprints.insert(id.to_string(), bp.clone());
    Ok(Reply::ok(200, json!({"ok": true, "blueprint": bp})))
}

fn delete_blueprint(st: &mut FakeState, id: &str) -> Handled {
    st.blueprint_ref(id)?;
    if st.entities.keys().any(|(b, _)| b == id) {
        return Err(Reply::error(
            422,
            "has_entities",
            format!("blueprint '{id}' still has entities; delete them first"),
        ));
    }
    let user = st.blueprints.iter().find(|(other, bp)| {
        other.as_str() != id
            && bp["relations"]
                .as_object()
                .is_some_and(|rels| rels.values().any(|def| def["target"].as_str() == Some(id)))
    });
    if let Some((other, _)) = user {
        return Err(Reply::error(
            422,
            "has_dependents",
            format!("blueprint '{other}' has a relation to blueprint '{id}'"),
        ));
    }
    st.blueprints.remove(id);
    Ok(Reply::ok(200, json!({"ok": true})))
}

// ---------------------------------------------------------------------------
// Entity upserts

struct UpsertOpts {
    merge: bool,
    create_missing: bool,
    validation_only: bool,
}

fn upsert_opts(r: &Req) -> Result<UpsertOpts, Reply> {
    match r.query.get("upsert").map(String::as_str) {
        Some("true") => {}
        None => {
            return Err(invalid("querystring must have required property 'upsert'"));
        }
        Some(other) => {
            return Err(invalid(format!(
                "querystring/upsert must be true (PortFake only accepts idempotent upserts), got '{other}'"
            )));
        }
    }
    Ok(UpsertOpts {
        merge: bool_param(r, "merge", false)?,
        create_missing: bool_param(r, "create_missing_related_entities", false)?,
        validation_only: bool_param(r, "validation_only", false)?,
    })
}

/// Route-schema check of one entity body; `at` names it in messages.
fn check_entity_shape(e: &Value, at: &str) -> Result<(), String> {
    let Some(obj) = e.as_object() else {
        return Err(format!("{at} must be object"));
    };
    match obj.get("identifier") {
        Some(Value::String(s)) if valid_entity_id(s) => {}
        Some(Value::String(_)) => return Err(format!("{at}/identifier {ENTITY_ID_RULE}")),
        Some(query @ Value::Object(_)) => check_search_query(query, &format!("{at}/identifier"))?,
        Some(_) => return Err(format!("{at}/identifier must be string")),
        None => return Err(format!("{at} must have required property 'identifier'")),
    }
    for key in ["title", "icon"] {
        if obj.get(key).is_some_and(|v| !v.is_string() && !v.is_null()) {
            return Err(format!("{at}/{key} must be string"));
        }
    }
    let team_ok = match obj.get("team") {
        None | Some(Value::Null) | Some(Value::String(_)) | Some(Value::Object(_)) => true,
        Some(Value::Array(items)) => items.iter().all(Value::is_string),
        Some(_) => false,
    };
    if !team_ok {
        return Err(format!("{at}/team must be a string or an array of strings"));
    }
    if obj.get("properties").is_some_and(|p| !p.is_object()) {
        return Err(format!("{at}/properties must be object"));
    }
    let Some(relations) = obj.get("relations") else {
        return Ok(());
    };
    let relations = relations
        .as_object()
        .ok_or_else(|| format!("{at}/relations must be object"))?;
    for (key, value) in relations {
        let ok = match value {
            Value::Null => true,
            Value::String(s) => valid_entity_id(s),
            Value::Array(items) => items
                .iter()
                .all(|i| i.as_str().is_some_and(valid_entity_id)),
            Value::Object(_) => {
                check_search_query(value, &format!("{at}/relations/{key}"))?;
                true
            }
            _ => false,
        };
        if !ok {
            return Err(format!(
                "{at}/relations/{key} must be null, an identifier or an array of identifiers, each of which {ENTITY_ID_RULE}"
            ));
        }
    }
    Ok(())
}

/// Route-schema check of a search query used as an identifier or a relation value: Port's
/// spec (`shared/port-openapi.json`, `searchIdentifierQuerySchema` and
/// `searchRelationsQuerySchema`; `shared/port-api.md` §2.1: "`identifier` | string, or a
/// search-query object", "`relations` ... Value is a string, an array of strings, `null`,
/// or a search-query object") takes exactly `combinator` (`and`|`or`) and `rules`, each rule
/// a nested query or exactly `property`, `operator` and `value` with `=` (a string, number
/// or null), `in`/`containsAny` (an array of strings) or `contains` (a string, an array of
/// strings or null).
fn check_search_query(query: &Value, at: &str) -> Result<(), String> {
    let Some(obj) = query.as_object() else {
        return Err(format!("{at} must be object"));
    };
    if let Some(extra) = obj.keys().find(|k| *k != "combinator" && *k != "rules") {
        return Err(format!(
            "{at} must NOT have additional properties ('{extra}')"
        ));
    }
    if !matches!(
        obj.get("combinator").and_then(Value::as_str),
        Some("and" | "or")
    ) {
        return Err(format!("{at}/combinator must be one of and, or"));
    }
    let rules = obj
        .get("rules")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{at} must have required array property 'rules'"))?;
    for (i, rule) in rules.iter().enumerate() {
        let at = format!("{at}/rules/{i}");
        let Some(r) = rule.as_object() else {
            return Err(format!("{at} must be object"));
        };
        if r.contains_key("combinator") {
            check_search_query(rule, &at)?;
            continue;
        }
        if let Some(extra) = r
            .keys()
            .find(|k| !matches!(k.as_str(), "property" | "operator" | "value"))
        {
            return Err(format!(
                "{at} must NOT have additional properties ('{extra}')"
            ));
        }
        let strings = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
        let value_ok = |v: &Value| match r.get("operator").and_then(Value::as_str) {
            Some("=") => v.is_string() || v.is_number() || v.is_null(),
            Some("in" | "containsAny") => strings(v),
            Some("contains") => v.is_string() || v.is_null() || strings(v),
            _ => false,
        };
        let ok =
            r.get("property").is_some_and(Value::is_string) && r.get("value").is_some_and(value_ok);
        if !ok {
            return Err(format!(
                "{at} must have a string 'property' and an '=' (string, number or null), 'in'/'containsAny' (array of strings) or 'contains' rule"
            ));
        }
    }
    Ok(())
}

/// Operators Port resolves in a search identifier (port-docs `configure-mapping.md`, "Map
/// by property", Limitations: "Only the `=` and `in` operators is supported").
const IDENTIFIER_OPERATORS: [&str; 2] = ["=", "in"];
/// Operators Port resolves in a search relation (same page, "Mapping relations using search
/// queries": "Only the following operators are supported in the search query rule: `=`,
/// `in`, and `contains`").
const RELATION_OPERATORS: [&str; 3] = ["=", "in", "contains"];
/// Most entities a search relation resolves to (same page: "The maximum number of entities
/// returned by the search query rule is 100").
const MAX_SEARCH_RELATION: usize = 100;

/// The value a search rule's `property` names on a stored entity: a meta-property
/// (`$identifier`, `$title`, `$blueprint`, `$team`; `shared/port-api.md` §2.6) or a
/// property.
fn search_field<'a>(entity: &'a Value, property: &str) -> &'a Value {
    match property {
        "$identifier" => &entity["identifier"],
        "$title" => &entity["title"],
        "$blueprint" => &entity["blueprint"],
        "$team" => &entity["team"],
        p => &entity["properties"][p],
    }
}

/// Whether a stored entity matches a shape-checked search query.
fn search_matches(entity: &Value, query: &Value, operators: &[&str]) -> Result<bool, EntityError> {
    let and = query["combinator"] == "and";
    let mut result = and;
    for rule in query["rules"].as_array().into_iter().flatten() {
        let hit = if rule.get("combinator").is_some() {
            search_matches(entity, rule, operators)?
        } else {
            let op = rule["operator"].as_str().unwrap_or_default();
            if !operators.contains(&op) {
                return Err(EntityError::unprocessable(
                    "invalid_search_query",
                    format!(
                        "operator '{op}' is not supported here (supported: {})",
                        operators.join(", ")
                    ),
                ));
            }
            let field = search_field(entity, rule["property"].as_str().unwrap_or_default());
            let value = &rule["value"];
            match op {
                "=" => match (field.as_f64(), value.as_f64()) {
                    (Some(a), Some(b)) => a == b,
                    _ => field == value,
                },
                "in" => value.as_array().is_some_and(|v| v.contains(field)),
                "contains" => match (field, value.as_str()) {
                    (Value::String(f), Some(v)) => f.contains(v),
                    (Value::Array(items), Some(_)) => items.contains(value),
                    _ => false,
                },
                _ => false,
            }
        };
        result = if and { result && hit } else { result || hit };
    }
    Ok(result)
}

/// Identifiers of the entities of blueprint `bp` that a search query matches, sorted.
fn search(
    st: &FakeState,
    bp: &str,
    query: &Value,
    operators: &[&str],
) -> Result<Vec<String>, EntityError> {
    let mut found = Vec::new();
    for ((b, id), entity) in &st.entities {
        if b == bp && search_matches(entity, query, operators)? {
            found.push(id.clone());
        }
    }
    Ok(found)
}

/// The identifier an upsert writes: the given string, or the one entity a search identifier
/// finds in the blueprint of the request. Port-docs `configure-mapping.md`, "Map by
/// property", Limitations: "The search query must return exactly one entity (else the
/// entire request will fail). If the search query returns no entities, a new entity **will
/// not** be created. The query will be executed on the same blueprint from the request's
/// url." The status and error codes are this fake's choice (Port documents none).
fn resolve_identifier(st: &FakeState, bp_id: &str, given: &Value) -> Result<String, EntityError> {
    if let Some(id) = given.as_str() {
        return Ok(id.to_string());
    }
    let found = search(st, bp_id, given, &IDENTIFIER_OPERATORS)?;
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(EntityError {
            status: 404,
            error: "not_found",
            message: format!(
                "no entity of blueprint '{bp_id}' matches the search identifier {given}; none is created"
            ),
        }),
        many => Err(EntityError::unprocessable(
            "invalid_search_identifier",
            format!(
                "the search identifier {given} matches {} entities of blueprint '{bp_id}'; it must match exactly one",
                many.len()
            ),
        )),
    }
}

/// Relations with each search-query value replaced by what it finds in the relation's
/// target blueprint (port-docs `configure-mapping.md`, "Mapping relations using search
/// queries": Port "will query all entities of the related blueprint ... and return the
/// one/s that match the rule"; "A "single type" relation expects a single entity to be
/// returned. A "many type" relation expects an array"). A single relation that finds no
/// entity or several, or a many relation that finds more than 100, is refused (422; the
/// code is this fake's choice).
fn resolve_relations(
    st: &FakeState,
    bp: &Value,
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, EntityError> {
    let mut out = Map::new();
    for (name, value) in given {
        if !value.is_object() {
            out.insert(name.clone(), value.clone());
            continue;
        }
        let def = &bp["relations"][name.as_str()];
        let target = def["target"].as_str().unwrap_or_default();
        let found = search(st, target, value, &RELATION_OPERATORS)?;
        let resolved = match (def["many"].as_bool() == Some(true), found.as_slice()) {
            (true, all) if all.len() <= MAX_SEARCH_RELATION => json!(all),
            (false, [one]) => json!(one),
            (many, all) => {
                return Err(EntityError::unprocessable(
                    "invalid_relation_value",
                    format!(
                        "relations/{name}: the search query {value} matches {} entities of blueprint '{target}' (many={many})",
                        all.len()
                    ),
                ));
            }
        };
        out.insert(name.clone(), resolved);
    }
    Ok(out)
}

/// A per-entity failure (a bulk `errors` item, or the single route's answer).
struct EntityError {
    status: u16,
    error: &'static str,
    message: String,
}

impl EntityError {
    fn unprocessable(error: &'static str, message: String) -> Self {
        EntityError {
            status: 422,
            error,
            message,
        }
    }
}

/// Checks one property value against its blueprint definition.
fn check_value(def: &Value, value: &Value, at: &str) -> Result<(), EntityError> {
    if value.is_null() {
        return Ok(());
    }
    if let Some(ty) = def.get("type").and_then(Value::as_str) {
        let ok = match ty {
            "string" => value.is_string(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            _ => true,
        };
        if !ok {
            return Err(EntityError::unprocessable(
                "invalid_property_type",
                format!("{at} must be of type {ty}, got {value}"),
            ));
        }
    }
    if let Some(allowed) = def.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        return Err(EntityError::unprocessable(
            "invalid_property_value",
            format!("{at} must be one of the enum values, got {value}"),
        ));
    }
    if let (Some(format), Some(s)) = (def.get("format").and_then(Value::as_str), value.as_str())
        && !format_ok(format, s)
    {
        return Err(EntityError::unprocessable(
            "invalid_property_value",
            format!("{at} must match format \"{format}\", got {value}"),
        ));
    }
    if let (Some(items_def), Some(items)) = (def.get("items"), value.as_array())
        && items_def.is_object()
    {
        for (i, item) in items.iter().enumerate() {
            check_value(items_def, item, &format!("{at}/{i}"))?;
        }
    }
    Ok(())
}

fn format_ok(format: &str, s: &str) -> bool {
    match format {
        "date-time" => DateTime::parse_from_rfc3339(s).is_ok(),
        "ipv4" => s.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => s.parse::<std::net::Ipv6Addr>().is_ok(),
        "email" | "idn-email" => s.split_once('@').is_some_and(|(user, domain)| {
            !user.is_empty() && !domain.is_empty() && !s.contains(char::is_whitespace)
        }),
        "url" => s.split_once(':').is_some_and(|(scheme, rest)| {
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
                && !rest.is_empty()
                && !s.contains(char::is_whitespace)
        }),
        _ => true,
    }
}

fn relation_ids(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Puts an entity's keys in Port's order and fills `properties`/`relations`.
fn canonical_entity(e: &Value) -> Value {
    let mut out = Map::new();
    for key in ["identifier", "blueprint", "title", "icon", "team"] {
        if let Some(v) = e.get(key).filter(|v| !v.is_null()) {
            out.insert(key.into(), v.clone());
        }
    }
    for key in ["properties", "relations"] {
        let v = e.get(key).filter(|v| v.is_object()).cloned();
        out.insert(key.into(), v.unwrap_or_else(|| json!({})));
    }
    for key in ["$datasource", "createdAt", "updatedAt"] {
        if let Some(v) = e.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}

/// Validates one (shape-checked) entity against its blueprint and stores it.
/// Returns the stored entity and whether it was created.
fn upsert_one(
    st: &mut FakeState,
    bp_id: &str,
    input: &Value,
    opts: &UpsertOpts,
    user_agent: &str,
) -> Result<(Value, bool), EntityError> {
    let bp = st.blueprints.get(bp_id).cloned().unwrap_or(Value::Null);
    let empty = Map::new();
    let props_in = input["properties"].as_object().unwrap_or(&empty);
    let rels_given = input["relations"].as_object().unwrap_or(&empty);

    for (key, value) in props_in {
        let def = bp["schema"]["properties"].get(key).ok_or_else(|| {
            EntityError::unprocessable(
                "unknown_property",
                format!("property '{key}' is not defined in blueprint '{bp_id}'"),
            )
        })?;
        check_value(def, value, &format!("properties/{key}"))?;
    }
    for (key, value) in rels_given {
        let def = bp["relations"].get(key).ok_or_else(|| {
            EntityError::unprocessable(
                "unknown_relation",
                format!("relation '{key}' is not defined in blueprint '{bp_id}'"),
            )
        })?;
        let many = def["many"].as_bool().unwrap_or(false);
        let ok = value.is_null()
            || value.is_object()
            || if many {
                value.is_array()
            } else {
                value.is_string()
            };
        if !ok {
            let want = if many {
                "an array of identifiers"
            } else {
                "a single identifier"
            };
            return Err(EntityError::unprocessable(
                "invalid_relation_value",
                format!("relations/{key} must be {want} (many={many}), got {value}"),
            ));
        }
    }
    let identifier = resolve_identifier(st, bp_id, &input["identifier"])?;
    let identifier = identifier.as_str();
    let rels_resolved = resolve_relations(st, &bp, rels_given)?;
    let rels_in = &rels_resolved;

    let key = (bp_id.to_string(), identifier.to_string());
    let existing = st.entities.get(&key).cloned();
    let mut result = match existing.as_ref().filter(|_| opts.merge) {
        Some(old) => {
            let mut merged = old.clone();
            for field in ["title", "icon", "team"] {
                if let Some(v) = input.get(field) {
                    merged[field] = v.clone();
                }
            }
            for (field, incoming) in [("properties", props_in), ("relations", rels_in)] {
                if !merged[field].is_object() {
                    merged[field] = json!({});
                }
                if let Some(target) = merged[field].as_object_mut() {
                    for (k, v) in incoming {
                        target.insert(k.clone(), v.clone());
                    }
                }
            }
            merged
        }
        None => json!({
            "identifier": identifier,
            "blueprint": bp_id,
            "title": input.get("title"),
            "icon": input.get("icon"),
            "team": input.get("team"),
            "properties": props_in,
            "relations": rels_in,
        }),
    };

    // A `null` value is accepted for a property of any type, and for `schema.required` it
    // counts as missing. `shared/port-api.md` §2.8 ("What Port rejects") lists "missing
    // `schema.required` property" among the schema violations, and Ocean sends every field
    // whose JQ gave nothing as `null` (`shared/ocean-reference.md` §4.2: "The field is still
    // sent as `null`"), logging it "at ERROR if the field is a required property": Port
    // drops nulls as "no value" and then refuses the entity that lacks a required one.
    if let Some(required) = bp["schema"]["required"].as_array() {
        for name in required.iter().filter_map(Value::as_str) {
            if result["properties"].get(name).is_none_or(Value::is_null) {
                return Err(EntityError::unprocessable(
                    "missing_required_property",
                    format!("required property '{name}' of blueprint '{bp_id}' is missing"),
                ));
            }
        }
    }
    if let Some(defs) = bp["relations"].as_object() {
        for (name, def) in defs {
            let value = &result["relations"][name.as_str()];
            let empty_value = value.is_null() || value.as_array().is_some_and(Vec::is_empty);
            if def["required"].as_bool() == Some(true) && empty_value {
                return Err(EntityError::unprocessable(
                    "missing_required_relation",
                    format!("required relation '{name}' of blueprint '{bp_id}' is missing"),
                ));
            }
        }
    }

    let mut stubs: Vec<(String, String)> = Vec::new();
    for (name, value) in rels_in {
        let target = bp["relations"][name.as_str()]["target"]
            .as_str()
            .unwrap_or_default();
        for id in relation_ids(value) {
            let target_key = (target.to_string(), id.to_string());
            if target_key == key
                || st.entities.contains_key(&target_key)
                || stubs.contains(&target_key)
            {
                continue;
            }
            if opts.create_missing && st.blueprints.contains_key(target) {
                stubs.push(target_key);
                continue;
            }
            return Err(EntityError {
                status: 404,
                error: "not_found",
                message: format!(
                    "relation '{name}' targets entity '{id}' of blueprint '{target}', which was not found"
                ),
            });
        }
    }

    let created = existing.is_none();
    let now = now_iso();
    result["$datasource"] = json!(user_agent);
    result["createdAt"] = existing
        .as_ref()
        .and_then(|e| e.get("createdAt").cloned())
        .unwrap_or_else(|| json!(now));
    result["updatedAt"] = json!(now);
    let stored = canonical_entity(&result);
    if !opts.validation_only {
        for (stub_bp, stub_id) in stubs {
            let stub = json!({
                "identifier": stub_id, "blueprint": stub_bp,
                "$datasource": user_agent, "createdAt": now, "updatedAt": now,
            });
            st.entities
                .insert((stub_bp, stub_id), canonical_entity(&stub));
        }
        st.entities.insert(key, stored.clone());
    }
    Ok((stored, created))
}

fn upsert_single(st: &mut FakeState, bp_id: &str, r: &Req) -> Handled {
    let opts = upsert_opts(r)?;
    check_entity_shape(r.body, "body").map_err(invalid)?;
    st.blueprint_ref(bp_id)?;
    let run = actions::write_run(st, r)?;
    match upsert_one(st, bp_id, r.body, &opts, r.user_agent) {
        Ok((entity, _)) => {
            if !opts.validation_only {
                st.log_write(bp_id, &entity, r.index);
                let id = entity["identifier"].as_str().unwrap_or_default();
                actions::record_affected(st, run.as_deref(), bp_id, id);
            }
            Ok(Reply::ok(201, json!({"ok": true, "entity": entity})))
        }
        Err(e) => Err(Reply::error(e.status, e.error, e.message)),
    }
}

fn upsert_bulk(st: &mut FakeState, bp_id: &str, r: &Req) -> Handled {
    let opts = upsert_opts(r)?;
    let body = object_body(r.body)?;
    if let Some(extra) = body.keys().find(|k| *k != "entities") {
        return Err(invalid(format!(
            "body must NOT have additional properties ('{extra}')"
        )));
    }
    let entities = body
        .get("entities")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("body must have required array property 'entities'"))?;
    if entities.is_empty() || entities.len() > MAX_BULK_UPSERT {
        return Err(invalid(format!(
            "body/entities must have 1 to {MAX_BULK_UPSERT} items, got {}",
            entities.len()
        )));
    }
    for (i, e) in entities.iter().enumerate() {
        check_entity_shape(e, &format!("body/entities/{i}")).map_err(invalid)?;
    }
    st.blueprint_ref(bp_id)?;
    let run = actions::write_run(st, r)?;

    let mut results = Vec::new();
    let mut errors = Vec::new();
    for (index, input) in entities.iter().enumerate() {
        match upsert_one(st, bp_id, input, &opts, r.user_agent) {
            // With a search identifier, the identifier it resolved to.
            Ok((entity, created)) => {
                if !opts.validation_only {
                    st.log_write(bp_id, &entity, r.index);
                    let id = entity["identifier"].as_str().unwrap_or_default();
                    actions::record_affected(st, run.as_deref(), bp_id, id);
                }
                results.push(json!({
                    "index": index, "identifier": entity["identifier"], "created": created,
                }));
            }
            // `shared/port-api.md` §2.2: "a failed search identifier comes back as
            // `"identifier": "unknown"`".
            Err(e) => errors.push(json!({
                "index": index,
                "identifier": if input["identifier"].is_string() { input["identifier"].clone() } else { json!("unknown") },
                "statusCode": e.status, "error": e.error, "message": e.message,
            })),
        }
    }
    let status = if errors.is_empty() { 200 } else { 207 };
    Ok(Reply::ok(
        status,
        json!({"ok": errors.is_empty(), "entities": results, "errors": errors}),
    ))
}

// ---------------------------------------------------------------------------
// Entity deletes

/// Entities outside `doomed` that have a relation to one of `doomed`.
fn dependents_of(st: &FakeState, doomed: &[(String, String)]) -> Vec<(String, String)> {
    st.entities
        .iter()
        .filter(|(key, _)| !doomed.contains(key))
        .filter(|((bp, _), entity)| {
            let Some(relations) = entity["relations"].as_object() else {
                return false;
            };
            relations.iter().any(|(name, value)| {
                let target = st
                    .blueprints
                    .get(bp)
                    .and_then(|b| b["relations"][name.as_str()]["target"].as_str())
                    .unwrap_or_default();
                relation_ids(value)
                    .into_iter()
                    .any(|id| doomed.contains(&(target.to_string(), id.to_string())))
            })
        })
        .map(|(key, _)| key.clone())
        .collect()
}

/// Deletes `doomed` (those present) honouring `delete_dependents`; returns the
/// identifiers of `doomed` that were deleted.
fn delete_entities(
    st: &mut FakeState,
    doomed: Vec<(String, String)>,
    delete_dependents: bool,
) -> Result<Vec<String>, Reply> {
    let dependents = dependents_of(st, &doomed);
    if !dependents.is_empty() && !delete_dependents {
        let names: Vec<String> = dependents
            .iter()
            .map(|(bp, id)| format!("{bp}/{id}"))
            .collect();
        return Err(Reply::error(
            422,
            "has_dependents",
            format!(
                "entities have dependents ({}); pass delete_dependents=true to delete them too",
                names.join(", ")
            ),
        ));
    }
    for key in dependents {
        st.entities.remove(&key);
    }
    Ok(doomed
        .into_iter()
        .filter(|key| st.entities.remove(key).is_some())
        .map(|(_, id)| id)
        .collect())
}

fn delete_single(st: &mut FakeState, bp_id: &str, id: &str, r: &Req) -> Handled {
    // `shared/port-api.md` §2.5: "`DELETE /v1/blueprints/{bp}/entities/{entity_identifier}` |
    // `delete_dependents` (spec marks it required; default `false`)": without it, 422.
    let delete_dependents = required_bool_param(r, "delete_dependents")?;
    st.blueprint_ref(bp_id)?;
    let run = actions::write_run(st, r)?;
    let key = (bp_id.to_string(), id.to_string());
    if !st.entities.contains_key(&key) {
        return Err(not_found(format!(
            "entity '{id}' of blueprint '{bp_id}' was not found"
        )));
    }
    delete_entities(st, vec![key], delete_dependents)?;
    actions::record_affected(st, run.as_deref(), bp_id, id);
    Ok(Reply::ok(200, json!({"ok": true})))
}

fn delete_bulk(st: &mut FakeState, bp_id: &str, r: &Req) -> Handled {
    let delete_dependents = required_bool_param(r, "delete_dependents")?;
    let body = object_body(r.body)?;
    if let Some(extra) = body.keys().find(|k| *k != "entities") {
        return Err(invalid(format!(
            "body must NOT have additional properties ('{extra}')"
        )));
    }
    let ids = body
        .get("entities")
        .and_then(Value::as_array)
        .filter(|ids| ids.iter().all(Value::is_string))
        .ok_or_else(|| invalid("body/entities must be an array of strings"))?;
    if ids.is_empty() || ids.len() > MAX_BULK_DELETE {
        return Err(invalid(format!(
            "body/entities must have 1 to {MAX_BULK_DELETE} items, got {}",
            ids.len()
        )));
    }
    st.blueprint_ref(bp_id)?;
    let run = actions::write_run(st, r)?;
    let mut doomed: Vec<(String, String)> = Vec::new();
    for id in ids.iter().filter_map(Value::as_str) {
        let key = (bp_id.to_string(), id.to_string());
        if st.entities.contains_key(&key) && !doomed.contains(&key) {
            doomed.push(key);
        }
    }
    let deleted = delete_entities(st, doomed, delete_dependents)?;
    for id in &deleted {
        actions::record_affected(st, run.as_deref(), bp_id, id);
    }
    Ok(Reply::ok(
        200,
        json!({"ok": true, "deletedEntities": deleted}),
    ))
}

// ---------------------------------------------------------------------------
// Datasource listing

fn datasource_entities(st: &mut FakeState, r: &Req) -> Handled {
    let body = object_body(r.body)?;
    let text = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("body must have required string property '{name}'")))
    };
    let (prefix, suffix) = (text("datasource_prefix")?, text("datasource_suffix")?);
    let limit = match body.get("limit") {
        None => 1000,
        Some(v) => v
            .as_u64()
            .filter(|l| (1..=10_000).contains(l))
            .ok_or_else(|| invalid("body/limit must be an integer from 1 to 10000"))?
            as usize,
    };
    let before = match body.get("before") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .ok_or_else(|| invalid("body/before must be an ISO-8601 date-time"))?,
        ),
    };
    let offset = match body.get("from") {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) if st.scripted_cursors.contains(c) => 0,
        Some(v) => v
            .as_str()
            .and_then(|s| s.strip_prefix(CURSOR_PREFIX))
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| invalid("body/from is not a cursor this API returned"))?,
    };
    let matching: Vec<&Value> = st
        .entities
        .values()
        .filter(|e| {
            e["$datasource"]
                .as_str()
                .is_some_and(|ds| ds.starts_with(prefix) && ds.ends_with(suffix))
        })
        .filter(|e| {
            before.is_none_or(|before| {
                e["updatedAt"]
                    .as_str()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .is_some_and(|updated| updated < before)
            })
        })
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|e| (*e).clone())
        .collect();
    let next = if let Some(scripted) = st.listing_script.pop_front() {
        json!(scripted)
    } else if offset + limit < matching.len() {
        json!(format!("{CURSOR_PREFIX}{}", offset + limit))
    } else {
        Value::Null
    };
    Ok(Reply::ok(
        200,
        json!({"ok": true, "entities": page, "next": next}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_rules_follow_port_patterns() {
        assert!(valid_entity_id("arn:aws:ec2:eu-west-1:123:instance/i-0abc"));
        assert!(valid_entity_id("a=b"));
        assert!(valid_entity_id("üñí"));
        assert!(valid_entity_id("a\\b"));
        assert!(!valid_entity_id("."));
        assert!(!valid_entity_id(".."));
        assert!(valid_entity_id("..."));
        assert!(!valid_entity_id(""));
        assert!(!valid_entity_id("has space"));
        assert!(!valid_entity_id("star*"));
        assert!(!valid_entity_id(&"x".repeat(1001)));
        assert!(!valid_blueprint_id("a=b"));
        assert!(!valid_blueprint_id(&"x".repeat(101)));
        assert!(valid_key("instance_type-2"));
        assert!(!valid_key("a.b"));
    }

    #[test]
    fn identifier_letters_are_unicode_category_l_not_rusts_alphabetic() {
        for letter in ["ü", "ß", "ª", "ʰ", "漢", "Ω"] {
            assert!(valid_entity_id(letter), "{letter}");
            assert!(valid_blueprint_id(letter), "{letter}");
        }
        // Alphabetic for Rust, not `\p{L}`: a letter number (Nl), a circled letter (So), a
        // vowel sign (Mc). Port's pattern refuses them.
        for other in ["Ⅻ", "Ⓐ", "ा"] {
            assert!(other.chars().all(char::is_alphabetic), "{other}");
            assert!(!valid_entity_id(&format!("i-1{other}")), "{other}");
            assert!(!valid_blueprint_id(&format!("bp{other}")), "{other}");
        }
    }

    fn state(blueprints: &[Value], entities: &[Value]) -> FakeState {
        let mut st = FakeState::new("http://portfake".into());
        for bp in blueprints {
            st.blueprints
                .insert(bp["identifier"].as_str().unwrap().into(), bp.clone());
        }
        for e in entities {
            let key = (
                e["blueprint"].as_str().unwrap().to_string(),
                e["identifier"].as_str().unwrap().to_string(),
            );
            st.entities.insert(key, canonical_entity(e));
        }
        st
    }

    fn call(
        st: &mut FakeState,
        query: &str,
        body: &Value,
        f: fn(&mut FakeState, &str, &Req) -> Handled,
        bp: &str,
    ) -> Reply {
        let r = Req {
            index: 0,
            query: parse_query(query),
            body,
            user_agent: "test",
        };
        f(st, bp, &r).unwrap_or_else(|e| e)
    }

    fn query(property: &str, operator: &str, value: Value) -> Value {
        json!({"combinator": "and", "rules": [{"property": property, "operator": operator, "value": value}]})
    }

    #[test]
    fn a_search_identifier_updates_the_one_entity_it_finds_and_never_creates_one() {
        let svc = json!({"identifier": "svc", "title": "Service",
            "schema": {"properties": {"pd": {"type": "string"}}}});
        let mut st = state(
            &[svc],
            &[
                json!({"identifier": "a", "blueprint": "svc", "properties": {"pd": "x"}}),
                json!({"identifier": "b", "blueprint": "svc", "properties": {"pd": "y"}}),
                json!({"identifier": "c", "blueprint": "svc", "properties": {"pd": "y"}}),
            ],
        );
        let body = json!({"entities": [
            {"identifier": query("pd", "=", json!("x")), "title": "found"},
            {"identifier": query("pd", "=", json!("y"))},
            {"identifier": query("pd", "=", json!("z"))},
            {"identifier": query("$identifier", "in", json!(["c", "zz"])), "title": "by id"},
            {"identifier": query("pd", "contains", json!("x"))},
            {"identifier": "d"},
        ]});
        let reply = call(&mut st, "upsert=true&merge=true", &body, upsert_bulk, "svc");
        assert_eq!(reply.status, 207, "{}", reply.body);
        assert_eq!(
            reply.body["entities"],
            json!([
                {"index": 0, "identifier": "a", "created": false},
                {"index": 3, "identifier": "c", "created": false},
                {"index": 5, "identifier": "d", "created": true},
            ])
        );
        let errors: Vec<(u64, &str, u64)> = reply.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["index"].as_u64().unwrap(),
                    e["identifier"].as_str().unwrap(),
                    e["statusCode"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            errors,
            vec![
                (1, "unknown", 422),
                (2, "unknown", 404),
                (4, "unknown", 422)
            ]
        );
        assert_eq!(st.entities[&("svc".into(), "a".into())]["title"], "found");
        assert_eq!(
            st.entities[&("svc".into(), "a".into())]["properties"]["pd"],
            "x"
        );
        assert_eq!(st.entities[&("svc".into(), "c".into())]["title"], "by id");
        let ids: Vec<&str> = st.entities.keys().map(|(_, id)| id.as_str()).collect();
        assert_eq!(
            ids,
            ["a", "b", "c", "d"],
            "no entity created for a search that found none"
        );

        // Outside the spec's schema, the whole request is refused.
        for bad in [
            json!({"combinator": "and", "rules": [], "extra": 1}),
            json!({"combinator": "xor", "rules": []}),
            json!({"combinator": "and", "rules": [{"property": "pd", "operator": "=", "value": [1]}]}),
            json!({"combinator": "and", "rules": [{"property": "pd", "operator": ">", "value": 1}]}),
        ] {
            let body = json!({"entities": [{"identifier": bad}]});
            let reply = call(&mut st, "upsert=true", &body, upsert_bulk, "svc");
            assert_eq!(reply.status, 422, "{}", reply.body);
        }
    }

    #[test]
    fn search_relations_resolve_in_the_target_blueprint() {
        let user = json!({"identifier": "user", "title": "User",
            "schema": {"properties": {"login": {"type": "string"}}}});
        let svc = json!({"identifier": "svc", "title": "Service", "schema": {"properties": {}},
            "relations": {
                "owner": {"target": "user", "required": false, "many": false},
                "watchers": {"target": "user", "required": false, "many": true}}});
        let mut st = state(
            &[user, svc],
            &[
                json!({"identifier": "u1", "blueprint": "user", "properties": {"login": "ann"}}),
                json!({"identifier": "u2", "blueprint": "user", "properties": {"login": "bob"}}),
            ],
        );
        let body = json!({"entities": [
            {"identifier": "s1", "relations": {
                "owner": query("login", "=", json!("bob")),
                "watchers": query("login", "in", json!(["ann", "bob", "eve"]))}},
            {"identifier": "s2", "relations": {"owner": query("login", "=", json!("eve"))}},
            {"identifier": "s3", "relations": {"owner": query("login", "contains", json!("n"))}},
        ]});
        let reply = call(&mut st, "upsert=true", &body, upsert_bulk, "svc");
        assert_eq!(reply.status, 207, "{}", reply.body);
        let s1 = &st.entities[&("svc".into(), "s1".into())];
        assert_eq!(
            s1["relations"],
            json!({"owner": "u2", "watchers": ["u1", "u2"]})
        );
        assert_eq!(
            st.entities[&("svc".into(), "s3".into())]["relations"]["owner"],
            "u1"
        );
        let failed: Vec<u64> = reply.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["index"].as_u64().unwrap())
            .collect();
        assert_eq!(
            failed,
            vec![1],
            "a single relation whose search finds nothing"
        );
    }

    #[test]
    fn a_null_required_property_is_missing_and_a_null_optional_one_is_accepted() {
        let bp = json!({"identifier": "bp", "title": "BP", "schema": {
            "properties": {"state": {"type": "string"}, "note": {"type": "string"}},
            "required": ["state"]}});
        let mut st = state(&[bp], &[]);
        let body = json!({"entities": [
            {"identifier": "ok", "properties": {"state": "up", "note": null}},
            {"identifier": "null", "properties": {"state": null}},
            {"identifier": "absent", "properties": {"note": "n"}},
        ]});
        let reply = call(&mut st, "upsert=true", &body, upsert_bulk, "bp");
        assert_eq!(reply.status, 207, "{}", reply.body);
        let errors: Vec<(u64, &str)> = reply.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["index"].as_u64().unwrap(), e["error"].as_str().unwrap()))
            .collect();
        assert_eq!(
            errors,
            vec![
                (1, "missing_required_property"),
                (2, "missing_required_property")
            ]
        );
        assert_eq!(reply.body["entities"][0]["identifier"], "ok");
    }

    #[test]
    fn a_single_delete_needs_delete_dependents() {
        let bp = json!({"identifier": "bp", "title": "BP", "schema": {"properties": {}}});
        let mut st = state(&[bp], &[json!({"identifier": "e", "blueprint": "bp"})]);
        let r = Req {
            index: 0,
            query: parse_query(""),
            body: &Value::Null,
            user_agent: "test",
        };
        let reply = delete_single(&mut st, "bp", "e", &r).unwrap_or_else(|e| e);
        assert_eq!(reply.status, 422, "{}", reply.body);
        assert!(st.entities.contains_key(&("bp".into(), "e".into())));
        let r = Req {
            index: 0,
            query: parse_query("delete_dependents=false"),
            body: &Value::Null,
            user_agent: "test",
        };
        let reply = delete_single(&mut st, "bp", "e", &r).unwrap_or_else(|e| e);
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(st.entities.is_empty());
    }

    #[test]
    fn summary_table_lists_relations() {
        let table = summary_table(&[json!({
            "blueprint": "vpc", "identifier": "vpc-1", "title": "main",
            "relations": {"account": "123", "subnets": ["s1", "s2"], "none": null}
        })]);
        assert!(table.contains("vpc-1"));
        assert!(table.contains("account=123, subnets=[s1, s2]"));
        assert!(table.ends_with("1 entity\n"));
    }
}
