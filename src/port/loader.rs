//! Bulk upsert of entities into Port.
//!
//! Port's limits and how they are honoured:
//! - `POST /v1/blueprints/{bp}/entities/bulk` takes **1–20 entities of one blueprint** and a
//!   body of **at most 1 MiB**: entities are buffered per blueprint and a batch is sent as
//!   soon as the next entity would break either limit. An entity that alone exceeds the
//!   body limit is failed locally and logged.
//! - The answer is 200 (all ok) or 207 (some failed) with `entities` and `errors`
//!   **correlated by index** in the request; an index in neither list counts as failed
//!   (as in Ocean). A whole-request error fails every entity of that batch. Every failure is
//!   counted and the first ones per blueprint are logged with Port's message.
//! - Identifiers Port's schema would reject (the whole request would get a 422) are caught
//!   before sending, so one bad identifier cannot take 19 good entities down with it.
//! - Several batches are in flight at once (`OCEAN__PORT__MAX_IN_FLIGHT`, default 8);
//!   `push` waits when that many are outstanding, which back-pressures collection.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;
use tokio::task::JoinSet;

use super::{Client, Feature, PortError, Retry};
use crate::mapping::Entity;

/// Port's per-request entity limit on the bulk route.
pub(crate) const MAX_ENTITIES_PER_REQUEST: usize = 20;
/// Port's request body limit.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Failures logged per blueprint before the rest are only counted.
const LOGGED_FAILURES_PER_BLUEPRINT: u64 = 5;

/// Query flags from the mapping.
#[derive(Debug, Clone)]
pub(crate) struct UpsertOptions {
    /// `merge`.
    pub(crate) merge: bool,
    /// `create_missing_related_entities`.
    pub(crate) create_missing_related_entities: bool,
    /// `ocean_info_resync_id`.
    pub(crate) resync_id: String,
    /// Count what would be sent, send nothing.
    pub(crate) dry_run: bool,
}

/// Per-blueprint counts.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BlueprintStats {
    /// Entities Port accepted.
    pub upserted: u64,
    /// Entities that were not written.
    pub failed: u64,
}

/// Buffers entities per blueprint and sends them in bounded batches.
pub(crate) struct Loader {
    client: Arc<Client>,
    options: Arc<UpsertOptions>,
    buffers: BTreeMap<String, Batch>,
    in_flight: JoinSet<BatchResult>,
    /// Blueprint and size of each request in flight, to count its entities as failed if
    /// its task panics.
    sending: HashMap<tokio::task::Id, (String, u64)>,
    max_in_flight: usize,
    stats: BTreeMap<String, BlueprintStats>,
    /// Reused buffer an entity is serialised into before it joins its batch.
    scratch: Vec<u8>,
}

/// Entities of one blueprint waiting to be sent, already serialised: each entity's JSON
/// is written once, here, after the envelope's opening, so the request body is this buffer
/// plus `]}` (no copy).
#[derive(Default)]
struct Batch {
    /// `{"entities":[` then the entities' JSON, comma-separated (empty while no entity).
    json: Vec<u8>,
    /// Where each entity's JSON starts in `json`.
    starts: Vec<usize>,
    /// Identifiers, for correlating Port's answer and for logs.
    ids: Vec<String>,
}

struct BatchResult {
    blueprint: String,
    /// `(identifier, reason)` of each failed entity.
    failures: Vec<(String, String)>,
    upserted: u64,
}

/// `{"entities":[` + `]}`.
const ENVELOPE_BYTES: usize = 16;

/// The envelope of a bulk request body.
const OPEN: &[u8] = b"{\"entities\":[";
const CLOSE: &[u8] = b"]}";

impl Batch {
    fn len(&self) -> usize {
        self.ids.len()
    }

    fn push(&mut self, id: String, entity_json: &[u8]) {
        if self.json.is_empty() {
            // One allocation per request rather than a series of regrowths (most
            // entities of a blueprint are about the same size).
            let expected = (entity_json.len() + 1) * MAX_ENTITIES_PER_REQUEST + ENVELOPE_BYTES;
            self.json.reserve(expected.min(MAX_BODY_BYTES));
            self.json.extend_from_slice(OPEN);
        } else {
            self.json.push(b',');
        }
        self.starts.push(self.json.len());
        self.json.extend_from_slice(entity_json);
        self.ids.push(id);
    }

    /// Closes the envelope: the request, ready to send.
    fn into_request(mut self) -> Request {
        self.json.extend_from_slice(CLOSE);
        Request {
            body: bytes::Bytes::from(self.json),
            starts: self.starts,
            ids: self.ids,
        }
    }
}

/// One bulk request's body and what is needed to read its answer or split it.
struct Request {
    body: bytes::Bytes,
    starts: Vec<usize>,
    ids: Vec<String>,
}

impl Request {
    fn len(&self) -> usize {
        self.ids.len()
    }

    /// Splits in two halves at entity boundaries (for a 413).
    fn split(self) -> (Request, Request) {
        let mid = self.len() / 2;
        let mut left = Batch::default();
        let mut right = Batch::default();
        for (i, id) in self.ids.into_iter().enumerate() {
            let start = self.starts[i];
            // The next entity starts after a comma; the last one ends before `]}`.
            let end = self
                .starts
                .get(i + 1)
                .map_or(self.body.len() - CLOSE.len(), |next| next - 1);
            let half = if i < mid { &mut left } else { &mut right };
            half.push(id, &self.body[start..end]);
        }
        (left.into_request(), right.into_request())
    }
}

impl Loader {
    /// A loader writing through `client`.
    pub(crate) fn new(client: Arc<Client>, options: UpsertOptions, max_in_flight: usize) -> Loader {
        Loader {
            client,
            options: Arc::new(options),
            buffers: BTreeMap::new(),
            in_flight: JoinSet::new(),
            sending: HashMap::new(),
            max_in_flight: max_in_flight.max(1),
            stats: BTreeMap::new(),
            scratch: Vec::new(),
        }
    }

    /// Queues one entity; sends its blueprint's batch when full.
    pub(crate) async fn push(&mut self, entity: Entity) {
        if let Err(reason) = check_entity(&entity) {
            self.fail_locally(&entity, reason);
            return;
        }
        self.scratch.clear();
        if let Err(e) = serde_json::to_writer(&mut self.scratch, &entity.body) {
            self.fail_locally(&entity, format!("cannot serialise the entity: {e}"));
            return;
        }
        // Its JSON plus the comma that separates it from the previous one.
        let size = self.scratch.len() + 1;
        if size + ENVELOPE_BYTES > MAX_BODY_BYTES {
            self.fail_locally(
                &entity,
                format!("entity is {size} bytes; Port's request limit is 1 MiB"),
            );
            return;
        }
        let batch = match self.buffers.get_mut(&entity.blueprint) {
            Some(batch) => batch,
            None => self.buffers.entry(entity.blueprint.clone()).or_default(),
        };
        if batch.len() == MAX_ENTITIES_PER_REQUEST
            || batch.json.len() + size + ENVELOPE_BYTES > MAX_BODY_BYTES
        {
            let full = std::mem::take(batch);
            self.send(entity.blueprint.clone(), full).await;
        }
        let id = entity.identifier_text();
        if let Some(batch) = self.buffers.get_mut(&entity.blueprint) {
            batch.push(id, &self.scratch);
        }
    }

    /// Sends what is buffered, waits for every request, and returns the counts.
    pub(crate) async fn finish(mut self) -> BTreeMap<String, BlueprintStats> {
        for (blueprint, batch) in std::mem::take(&mut self.buffers) {
            if batch.len() > 0 {
                self.send(blueprint, batch).await;
            }
        }
        while let Some(done) = self.in_flight.join_next_with_id().await {
            self.account(done);
        }
        self.stats
    }

    fn fail_locally(&mut self, entity: &Entity, reason: String) {
        self.record(BatchResult {
            blueprint: entity.blueprint.clone(),
            failures: vec![(entity.identifier_text(), reason)],
            upserted: 0,
        });
    }

    async fn send(&mut self, blueprint: String, batch: Batch) {
        while self.in_flight.len() >= self.max_in_flight {
            if let Some(done) = self.in_flight.join_next_with_id().await {
                self.account(done);
            }
        }
        let client = self.client.clone();
        let options = self.options.clone();
        let size = (blueprint.clone(), batch.len() as u64);
        let request = batch.into_request();
        let task = self
            .in_flight
            .spawn(async move { upsert_batch(&client, &options, blueprint, request).await });
        self.sending.insert(task.id(), size);
    }

    /// Counts a finished request; a request whose task panicked failed every entity in it.
    fn account(&mut self, done: Result<(tokio::task::Id, BatchResult), tokio::task::JoinError>) {
        match done {
            Ok((id, result)) => {
                self.sending.remove(&id);
                self.record(result);
            }
            Err(e) => {
                let (blueprint, entities) = self
                    .sending
                    .remove(&e.id())
                    .unwrap_or_else(|| ("?".to_string(), 0));
                tracing::error!(blueprint = %blueprint, entities, error = %e, "a bulk upsert task failed; its entities count as not upserted");
                self.stats.entry(blueprint).or_default().failed += entities.max(1);
            }
        }
    }

    fn record(&mut self, result: BatchResult) {
        let stats = self.stats.entry(result.blueprint.clone()).or_default();
        stats.upserted += result.upserted;
        for (identifier, reason) in result.failures {
            stats.failed += 1;
            if stats.failed <= LOGGED_FAILURES_PER_BLUEPRINT {
                tracing::error!(blueprint = %result.blueprint, identifier = %identifier, reason = %reason, "entity was not upserted");
            } else if stats.failed == LOGGED_FAILURES_PER_BLUEPRINT + 1 {
                tracing::error!(blueprint = %result.blueprint, "more entities of this blueprint failed; see the run summary for the count");
            }
        }
    }
}

/// Sends one batch. A 413 (the body is too large after all) splits it in two and sends
/// each half, down to single entities.
fn upsert_batch<'a>(
    client: &'a Client,
    options: &'a UpsertOptions,
    blueprint: String,
    batch: Request,
) -> futures::future::BoxFuture<'a, BatchResult> {
    Box::pin(upsert_batch_inner(client, options, blueprint, batch))
}

async fn upsert_batch_inner(
    client: &Client,
    options: &UpsertOptions,
    blueprint: String,
    batch: Request,
) -> BatchResult {
    let ids = &batch.ids;
    let path = format!(
        "/blueprints/{}/entities/bulk",
        urlencoding::encode(&blueprint)
    );
    let query = [
        ("upsert", "true".to_string()),
        ("merge", options.merge.to_string()),
        (
            "create_missing_related_entities",
            options.create_missing_related_entities.to_string(),
        ),
        ("validation_only", "false".to_string()),
        ("ocean_info_event_type", "resync".to_string()),
        ("ocean_info_resync_id", options.resync_id.clone()),
    ];
    if options.dry_run {
        return BatchResult {
            upserted: ids.len() as u64,
            blueprint,
            failures: Vec::new(),
        };
    }
    tracing::debug!(blueprint = %blueprint, entities = ids.len(), "bulk upsert");
    match client
        .request_json(
            Method::POST,
            &path,
            &query,
            Some(batch.body.clone()),
            Feature::Exporter,
            Retry::Transient,
        )
        .await
    {
        Ok(resp) => parse_bulk_response(blueprint, ids, &resp.body),
        Err(e) if e.status() == Some(413) && batch.len() > 1 => {
            tracing::warn!(blueprint = %blueprint, entities = batch.len(), "Port found the batch too large; splitting it");
            let (left, right) = batch.split();
            let mut a = upsert_batch(client, options, blueprint.clone(), left).await;
            let b = upsert_batch(client, options, blueprint, right).await;
            a.upserted += b.upserted;
            a.failures.extend(b.failures);
            a
        }
        Err(e) => whole_batch_failed(blueprint, ids, &e),
    }
}

/// Correlates Port's answer with the request by index.
fn parse_bulk_response(blueprint: String, ids: &[String], body: &Value) -> BatchResult {
    let mut ok = vec![false; ids.len()];
    let mut reasons: BTreeMap<usize, String> = BTreeMap::new();
    for e in body["entities"].as_array().into_iter().flatten() {
        if let Some(i) = e["index"].as_u64().map(|i| i as usize)
            && i < ok.len()
        {
            ok[i] = true;
        }
    }
    for e in body["errors"].as_array().into_iter().flatten() {
        if let Some(i) = e["index"].as_u64().map(|i| i as usize)
            && i < ok.len()
        {
            ok[i] = false;
            reasons.insert(
                i,
                format!(
                    "HTTP {} {}: {}",
                    e["statusCode"],
                    e["error"].as_str().unwrap_or(""),
                    e["message"].as_str().unwrap_or("")
                ),
            );
        }
    }
    let mut failures = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if !ok[i] {
            let reason = reasons
                .remove(&i)
                .unwrap_or_else(|| "Port's bulk response did not mention it".into());
            failures.push((id.clone(), reason));
        }
    }
    BatchResult {
        upserted: ok.iter().filter(|o| **o).count() as u64,
        blueprint,
        failures,
    }
}

fn whole_batch_failed(blueprint: String, ids: &[String], e: &PortError) -> BatchResult {
    tracing::error!(blueprint = %blueprint, entities = ids.len(), error = %e, "bulk upsert request failed");
    BatchResult {
        blueprint,
        failures: ids.iter().map(|id| (id.clone(), e.to_string())).collect(),
        upserted: 0,
    }
}

/// The character class of Port's entity identifier pattern, exactly as `shared/port-api.md`
/// §2.4 ("Identifier rules") quotes it from Port's spec:
/// "Entity `identifier`; relation target values | `^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$` |
/// 1000". `\p{L}` is Unicode's general category Letter, as in Port's (ECMAScript, `u`)
/// regex; Rust's `char::is_alphabetic` is wider (letter numbers such as `Ⅻ`, circled
/// letters such as `Ⓐ`, vowel signs), and one such character sent would make Port refuse
/// the whole bulk request with its 19 other entities.
const ENTITY_ID_CLASS: &str = r"[\p{L}0-9@_.+:\\/=-]";

/// The sorted code point ranges of [`ENTITY_ID_CLASS`], compiled once from its text with
/// regex-syntax's Unicode tables. Were it not to compile to a class (a constant: the unit
/// tests would show it), every identifier would be refused locally, never sent wrongly.
fn entity_id_chars() -> &'static [(char, char)] {
    use regex_syntax::hir::{Class, HirKind};
    static RANGES: std::sync::OnceLock<Vec<(char, char)>> = std::sync::OnceLock::new();
    RANGES.get_or_init(|| {
        match regex_syntax::parse(ENTITY_ID_CLASS)
            .as_ref()
            .map(|h| h.kind())
        {
            Ok(HirKind::Class(Class::Unicode(class))) => class
                .ranges()
                .iter()
                .map(|r| (r.start(), r.end()))
                .collect(),
            _ => Vec::new(),
        }
    })
}

fn allowed_in_entity_id(c: char) -> bool {
    entity_id_chars()
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

/// Port's identifier rule for entities and relation targets:
/// `^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$`, at most 1000 characters.
pub(crate) fn valid_entity_identifier(id: &str) -> bool {
    !id.is_empty()
        && id != "."
        && id != ".."
        && id.chars().count() <= 1000
        && id.chars().all(allowed_in_entity_id)
}

/// Port's blueprint identifier rule (no `=`, at most 100 characters).
pub(crate) fn valid_blueprint_identifier(id: &str) -> bool {
    valid_entity_identifier(id) && !id.contains('=') && id.chars().count() <= 100
}

fn check_entity(entity: &Entity) -> Result<(), String> {
    if !valid_blueprint_identifier(&entity.blueprint) {
        return Err(format!(
            "blueprint {:?} is not a valid Port identifier",
            entity.blueprint
        ));
    }
    match &entity.identifier {
        Value::String(id) if !valid_entity_identifier(id) => {
            return Err("identifier has characters Port rejects (allowed: letters, digits and @_.+:\\/=-; at most 1000)".into());
        }
        // A search identifier: Port resolves it to an existing entity.
        Value::String(_) | Value::Object(_) => {}
        other => {
            return Err(format!(
                "identifier must be a string or a search query, got {other}"
            ));
        }
    }
    if let Some(relations) = entity.body.get("relations").and_then(Value::as_object) {
        for (name, target) in relations {
            let targets: Vec<&str> = match target {
                Value::String(s) => vec![s.as_str()],
                Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                _ => continue,
            };
            if let Some(bad) = targets.iter().find(|t| !valid_entity_identifier(t)) {
                return Err(format!(
                    "relation {name} targets {bad:?}, which is not a valid Port identifier"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_batch_is_its_entities_json_in_an_envelope_and_splits_at_entity_boundaries() {
        let mut batch = Batch::default();
        let entities = [
            json!({"identifier": "a", "p": [1, 2]}),
            json!({"identifier": "b"}),
            json!({"identifier": "c,d"}),
        ];
        for e in &entities {
            batch.push(
                e["identifier"].as_str().unwrap().into(),
                &serde_json::to_vec(e).unwrap(),
            );
        }
        let request = batch.into_request();
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body, json!({"entities": entities}));
        let (left, right) = request.split();
        assert_eq!(left.ids, ["a"]);
        assert_eq!(right.ids, ["b", "c,d"]);
        let left: Value = serde_json::from_slice(&left.body).unwrap();
        let right: Value = serde_json::from_slice(&right.body).unwrap();
        assert_eq!(left, json!({"entities": [entities[0]]}));
        assert_eq!(right, json!({"entities": [entities[1], entities[2]]}));
    }

    #[test]
    fn identifiers_follow_ports_rule() {
        assert!(valid_entity_identifier(
            "arn:aws:ec2:eu-west-1:123:instance/i-0abc"
        ));
        assert!(valid_entity_identifier("ünïcode=ok"));
        assert!(valid_entity_identifier("ªʰ漢Ω-a\\b@c_d.e+f:g/h"));
        for bad in ["", ".", "..", "has space", "a,b", "x*", "(p)", "q?"] {
            assert!(!valid_entity_identifier(bad), "{bad}");
        }
        assert!(!valid_blueprint_identifier("a=b"));
    }

    #[test]
    fn identifier_letters_are_ports_letters_not_rusts_alphabetic() {
        // Alphabetic for Rust, but a letter number (Nl), a circled letter (So) and a vowel
        // sign (Mc): not `\p{L}`, so Port refuses them.
        for c in ['Ⅻ', 'Ⓐ', 'ा'] {
            assert!(c.is_alphabetic(), "{c}");
            assert!(!valid_entity_identifier(&format!("i-1{c}")), "{c}");
            assert!(!valid_blueprint_identifier(&format!("bp{c}")), "{c}");
        }
        for c in ['a', 'Z', 'ü', 'ß', 'ª', 'ʰ', '漢', 'Ω'] {
            assert!(valid_entity_identifier(&c.to_string()), "{c}");
        }
    }

    /// Unicode's general category L on its own, from regex-syntax's tables.
    fn unicode_letters() -> Vec<(char, char)> {
        use regex_syntax::hir::{Class, HirKind};
        match regex_syntax::parse(r"\p{L}").map(|h| h.into_kind()) {
            Ok(HirKind::Class(Class::Unicode(class))) => class
                .ranges()
                .iter()
                .map(|r| (r.start(), r.end()))
                .collect(),
            other => panic!("\\p{{L}} is not a class: {other:?}"),
        }
    }

    proptest::proptest! {
        /// A character is allowed exactly when it is a Unicode letter (category L) or one of
        /// the digits and symbols Port lists.
        #[test]
        fn a_character_is_allowed_iff_it_is_a_letter_or_listed(c in proptest::char::any()) {
            let letter = unicode_letters().iter().any(|&(lo, hi)| lo <= c && c <= hi);
            let listed = c.is_ascii_digit() || "@_.+:\\/=-".contains(c);
            proptest::prop_assert_eq!(valid_entity_identifier(&format!("x{c}")), letter || listed);
        }
    }

    #[test]
    fn bulk_response_is_correlated_by_index() {
        let ids = vec!["a".to_string(), "b".into(), "c".into()];
        let r = parse_bulk_response(
            "bp".into(),
            &ids,
            &json!({"entities": [{"index": 0, "identifier": "a"}],
                    "errors": [{"index": 1, "identifier": "unknown", "statusCode": 422, "error": "invalid", "message": "bad"}]}),
        );
        assert_eq!(r.upserted, 1);
        let failed: Vec<_> = r.failures.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(failed, vec!["b", "c"]);
        assert!(r.failures[0].1.contains("bad"));
    }
}
