//! The consuming half of a resync: pages of raw items in, entities out to Port.
//!
//! Each page is mapped with every resource of its kind whose region policy allows the
//! page's region. A kind is listed once for all its resources, with the union of their
//! `includeActions`; a resource that asked for fewer maps a copy of each item without the
//! keys of the actions it did not ask for (made only for such resources), so it sees what
//! aws-v3 would have given it. Entities go straight to the [`Loader`] (which back-pressures when its
//! bulk requests are all in flight) and only their identity is kept, in [`Seen`], for
//! reconciliation. Nothing else grows with the number of items, which is what keeps a
//! run's memory flat (the engine benchmark, `cargo perf engine` in the harness, checks it).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::Report;
use super::reconcile::Seen;
use crate::aws::kinds;
use crate::mapping::config::RegionPolicy;
use crate::mapping::{Item, Mapping, Misconfigurations, Outcome, Resource};
use crate::port::loader::{Loader, UpsertOptions};
use crate::port::{Client, examples};

/// Mapping errors logged in full per run; the rest are counted.
const LOGGED_MAPPING_ERRORS: u32 = 5;

/// How the engine writes.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Sent as `ocean_info_resync_id` with every upsert.
    pub resync_id: String,
    /// Count what would be written, write nothing.
    pub dry_run: bool,
    /// Bulk requests in flight at once.
    pub max_in_flight: usize,
    /// Keep the first raw items of each kind and send them to Port as examples.
    pub send_examples: bool,
}

/// Maps and loads pages as they arrive.
pub struct Engine<'m> {
    client: Arc<Client>,
    mapping: &'m Mapping,
    /// Per resource of the mapping, in order: the `Properties` keys to remove from its
    /// kind's items before it maps them (empty unless its kind's resources ask for
    /// different optional actions).
    strip: Vec<Vec<&'static str>>,
    loader: Loader,
    misconfigs: Misconfigurations,
    options: EngineOptions,
    issues: Vec<crate::mapping::FieldIssue>,
    outcomes: Vec<Outcome>,
    samples: BTreeMap<String, Vec<Value>>,
    mapping_errors_logged: u32,
    seen: Seen,
    /// Target blueprint of each (blueprint, relation), from the blueprints read at the
    /// start, for search-query relations.
    relation_targets: BTreeMap<(String, String), String>,
    items_per_kind: BTreeMap<String, u64>,
    filtered: u64,
    dropped: u64,
    mapping_errors: u64,
    first_mapping_error: Option<String>,
}

impl<'m> Engine<'m> {
    /// An engine writing through `client`; `blueprints` (Port blueprint objects) tell which
    /// `null` fields are errors (required) rather than warnings.
    pub fn new(
        client: Arc<Client>,
        mapping: &'m Mapping,
        blueprints: &[Value],
        options: EngineOptions,
    ) -> Engine<'m> {
        let loader = Loader::new(
            client.clone(),
            UpsertOptions {
                merge: mapping.enable_merge_entity,
                create_missing_related_entities: mapping.create_missing_related_entities,
                resync_id: options.resync_id.clone(),
                dry_run: options.dry_run,
            },
            options.max_in_flight,
        );
        Engine {
            client,
            mapping,
            strip: keys_to_strip(mapping),
            loader,
            misconfigs: Misconfigurations::new(blueprints),
            options,
            issues: Vec::new(),
            outcomes: Vec::new(),
            samples: BTreeMap::new(),
            mapping_errors_logged: 0,
            seen: Seen::default(),
            relation_targets: relation_targets(blueprints),
            items_per_kind: BTreeMap::new(),
            filtered: 0,
            dropped: 0,
            mapping_errors: 0,
            first_mapping_error: None,
        }
    }

    /// Maps one page of raw items of `kind` listed in `region` (`None` for account-scoped
    /// kinds; a `&str` converts) and queues the entities; waits while the loader is
    /// saturated.
    pub async fn page<'r>(
        &mut self,
        kind: &str,
        region: impl Into<Option<&'r str>>,
        items: &[Value],
    ) {
        let region: Option<&str> = region.into();
        *self.items_per_kind.entry(kind.to_string()).or_default() += items.len() as u64;
        if self.options.send_examples {
            let taken = self.samples.entry(kind.to_string()).or_default();
            let room = examples::PER_KIND.saturating_sub(taken.len());
            taken.extend(items.iter().take(room).cloned());
        }
        let mapping = self.mapping;
        let resources: Vec<(&Resource, &[&str])> = mapping
            .resources
            .iter()
            .zip(&self.strip)
            .filter(|(r, _)| r.kind == kind)
            .filter(|(r, _)| {
                region.is_none_or(|region| page_allowed(kind, &r.region_policy, region))
            })
            .map(|(r, strip)| (r, strip.as_slice()))
            .collect();
        for raw in items {
            let shared = Item::json(raw);
            for &(resource, strip) in &resources {
                let own;
                let own_item;
                let item = if strip.is_empty() {
                    &shared
                } else {
                    own = without_properties(raw, strip);
                    own_item = Item::json(&own);
                    &own_item
                };
                resource.map(item, &mut self.issues, &mut self.outcomes);
                self.misconfigs.record(resource, &mut self.issues);
                for outcome in self.outcomes.drain(..) {
                    match outcome {
                        Outcome::Entity(entity) => {
                            note_search_relations(&self.relation_targets, &mut self.seen, &entity);
                            self.seen.add(&entity);
                            self.loader.push(entity).await;
                        }
                        Outcome::Filtered => self.filtered += 1,
                        Outcome::Dropped(why) => {
                            self.dropped += 1;
                            tracing::debug!(
                                kind,
                                resource_index = resource.index,
                                reason = why,
                                "item not sent"
                            );
                        }
                        Outcome::ItemError(e) => {
                            self.mapping_errors += 1;
                            if self.first_mapping_error.is_none() {
                                self.first_mapping_error =
                                    Some(format!("resources[{}] ({kind}): {e}", resource.index));
                            }
                            if self.mapping_errors_logged < LOGGED_MAPPING_ERRORS {
                                self.mapping_errors_logged += 1;
                                tracing::error!(kind, resource_index = resource.index, error = %e, "mapping error: the item's entities are unknown, so nothing it produced before will be deleted; the run is partial");
                            }
                        }
                    }
                }
            }
        }
    }

    /// Flushes the loader, sends the examples, adds the counts to `report` and hands back
    /// what reconciliation needs.
    pub async fn finish(self, report: &mut Report) -> Seen {
        report.entities = self.loader.finish().await;
        if !self.options.dry_run {
            for (kind, items) in &self.samples {
                examples::send(&self.client, kind, items).await;
            }
        }
        for (kind, n) in self.items_per_kind {
            *report.items_per_kind.entry(kind).or_default() += n;
        }
        report.filtered += self.filtered;
        report.dropped += self.dropped;
        report.mapping_errors += self.mapping_errors;
        if report.first_mapping_error.is_none() {
            report.first_mapping_error = self.first_mapping_error;
        }
        self.misconfigs.log_summary();
        report.misconfigured_fields += self.misconfigs.total();
        self.seen
    }
}

/// Records the relations of `entity` that are search queries, with their target blueprint
/// when its schema was read (else the target is unknown).
fn note_search_relations(
    relation_targets: &BTreeMap<(String, String), String>,
    seen: &mut Seen,
    entity: &crate::mapping::Entity,
) {
    let Some(relations) = entity.body.get("relations").and_then(Value::as_object) else {
        return;
    };
    for (name, _) in relations.iter().filter(|(_, v)| v.is_object()) {
        let target = relation_targets
            .get(&(entity.blueprint.clone(), name.clone()))
            .map(String::as_str);
        seen.add_search_relation(&entity.blueprint, name, target);
    }
}

/// `(blueprint, relation)` → target blueprint, from Port blueprint objects.
fn relation_targets(blueprints: &[Value]) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for bp in blueprints {
        let Some(id) = bp["identifier"].as_str() else {
            continue;
        };
        for (name, def) in bp["relations"].as_object().into_iter().flatten() {
            if let Some(target) = def["target"].as_str() {
                out.insert((id.to_string(), name.clone()), target.to_string());
            }
        }
    }
    out
}

/// Only regional kinds' pages are filtered by region. A global kind (S3 buckets) is listed
/// through one region but lives everywhere: aws-v3's policy only picks the endpoint, it
/// does not filter buckets.
fn page_allowed(kind: &str, policy: &RegionPolicy, region: &str) -> bool {
    !kinds::is_regional(kind) || policy.allows(region)
}

/// For each resource of `mapping`, the keys its kind's listing adds for other resources'
/// `includeActions` and not for its own ([`kinds::Kind::extra_keys`]).
fn keys_to_strip(mapping: &Mapping) -> Vec<Vec<&'static str>> {
    mapping
        .resources
        .iter()
        .map(|r| {
            let Some(kind) = kinds::find(&r.kind) else {
                return Vec::new();
            };
            let listed = kind.union(
                mapping
                    .resources
                    .iter()
                    .filter(|other| other.kind == r.kind)
                    .map(|other| other.include_actions.as_slice()),
            );
            kind.extra_keys(&listed, &kind.requested(&r.include_actions))
        })
        .collect()
}

/// A copy of `raw` without the `Properties` keys `keys`, the other keys in their order.
fn without_properties(raw: &Value, keys: &[&str]) -> Value {
    let mut own = raw.clone();
    if let Some(Value::Object(properties)) = own.get_mut("Properties") {
        for key in keys {
            properties.shift_remove(*key);
        }
    }
    own
}
