//! Reconciliation: delete the entities this integration owns that no longer exist — and
//! never one that a failed part of the run could have produced.
//!
//! Ocean switches deletion off for the whole run on any error. Here completeness is
//! tracked per (kind, account, region) unit, and a blueprint is reconciled only if every
//! unit of every resource that can produce it completed. A resource whose blueprint is a
//! constant (`'"ec2Instance"'`) can produce only that blueprint; one whose blueprint is
//! computed per item may produce any, so a failure there blocks every blueprint. Some
//! failures block everything: an account that could not be accessed (its entities of
//! every kind are unseen) or an item that could not be mapped (a selector that did not yield
//! a boolean, or an `itemsToParse`, `identifier` or `blueprint` expression that failed).
//!
//! Then, as Ocean: the owned entities are listed through
//! `POST /v1/blueprints/entities/datasource-entities` (our `$datasource` prefix
//! `port-ocean/{type}/` and suffix `/{identifier}/exporter`, last updated `before` the run
//! started, so everything written by this run is excluded), diffed by (blueprint,
//! identifier) against what the run produced (including entities whose upsert failed),
//! checked against `entityDeletionThreshold` (share of the owned entities: those listed plus
//! those this run wrote, since the listing leaves the latter out), relation targets of
//! produced entities are kept when `createMissingRelatedEntities` or
//! `deleteDependentEntities` is on (the whole target blueprint of a search-query relation,
//! whose targets only Port knows), and the rest is
//! bulk-deleted, at most 100 identifiers per request, with `delete_dependents` from the
//! mapping. Port refuses a whole request when one of its entities has dependents (with
//! `deleteDependentEntities: false`): a refused batch is split until the refused entities
//! are alone, those are tried once more after every other deletion (their dependents may
//! have gone by then), and what is still refused counts as failed: the run is partial.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use super::Report;
use crate::mapping::config::HistoryBound;
use crate::mapping::{Entity, Mapping, Resource};
use crate::port::entities::{self, DeleteOptions, EntityRef, MAX_DELETE_IDS};
use crate::port::{Client, PortError};

/// What this run produced, reduced to what reconciliation needs: identity and relation
/// targets, as 64-bit hashes: 8 bytes per entity whatever its size, so a run of a million
/// entities keeps 8 MB here and nothing else proportional to its size. A hash collision can
/// only make an unseen entity look seen, i.e. keep it: never a wrong deletion.
#[derive(Debug, Default)]
pub struct Seen {
    /// Hashes of (blueprint, identifier); sorted and deduplicated by [`Seen::seal`].
    keys: Vec<u64>,
    sealed: bool,
    /// Hashes of relation target identifiers.
    targets: HashSet<u64>,
    /// Blueprints that produced entities relate to through a search query (`"*"` when the
    /// relation's target is unknown), each with the first such relation: Port resolves the
    /// query, so which of their entities are targets is unknown here.
    search_targets: BTreeMap<String, String>,
}

impl Seen {
    /// Records a produced entity (whether or not its upsert succeeds).
    pub(crate) fn add(&mut self, entity: &Entity) {
        let key = match &entity.identifier {
            Value::String(id) => key_hash(&entity.blueprint, id),
            other => key_hash(&entity.blueprint, &other.to_string()),
        };
        self.keys.push(key);
        self.sealed = false;
        if let Some(relations) = entity.body.get("relations").and_then(Value::as_object) {
            for target in relations.values() {
                match target {
                    Value::String(s) => {
                        self.targets.insert(target_hash(s));
                    }
                    Value::Array(items) => self
                        .targets
                        .extend(items.iter().filter_map(Value::as_str).map(target_hash)),
                    _ => {}
                }
            }
        }
    }

    /// Records that `blueprint`'s `relation`, which targets `target` (`None`: unknown),
    /// was a search query in a produced entity.
    pub(crate) fn add_search_relation(
        &mut self,
        blueprint: &str,
        relation: &str,
        target: Option<&str>,
    ) {
        self.search_targets
            .entry(target.unwrap_or("*").to_string())
            .or_insert_with(|| format!("{blueprint}.{relation}"));
    }

    /// Sorts and deduplicates the keys (then [`Seen::contains`] can search them).
    fn seal(&mut self) {
        if !self.sealed {
            self.keys.sort_unstable();
            self.keys.dedup();
            self.keys.shrink_to_fit();
            self.sealed = true;
        }
    }

    fn contains(&self, blueprint: &str, identifier: &str) -> bool {
        debug_assert!(self.sealed);
        self.keys
            .binary_search(&key_hash(blueprint, identifier))
            .is_ok()
    }

    fn is_target(&self, identifier: &str) -> bool {
        self.targets.contains(&target_hash(identifier))
    }

    /// Distinct entities recorded.
    pub fn len(&mut self) -> usize {
        self.seal();
        self.keys.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Heap bytes held (for the engine benchmark).
    pub fn heap_bytes(&self) -> usize {
        self.keys.capacity() * 8 + self.targets.capacity() * 9
    }
}

/// A fixed-key hasher: the same text hashes the same in every run and process.
fn hasher() -> std::hash::DefaultHasher {
    std::hash::DefaultHasher::new()
}

fn key_hash(blueprint: &str, identifier: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = hasher();
    // `str`'s Hash ends each string with a 0xff byte, so ("ab","c") ≠ ("a","bc").
    blueprint.hash(&mut h);
    identifier.hash(&mut h);
    h.finish()
}

fn target_hash(identifier: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = hasher();
    identifier.hash(&mut h);
    h.finish()
}

/// What reconciliation decided.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    /// Identifiers to delete (deleted, unless a dry run), per blueprint.
    pub(crate) deletions: BTreeMap<String, Vec<String>>,
    /// Entities actually deleted, per blueprint.
    pub(crate) deleted: BTreeMap<String, u64>,
    /// Entities whose deletion failed (refused by Port, or Port unreachable), per blueprint.
    pub(crate) failed: BTreeMap<String, u64>,
    /// Deletion stopped early for a shutdown signal.
    pub(crate) cancelled: bool,
    /// Why some or all deletions were not done.
    pub(crate) skipped: Vec<String>,
}

/// Why deletion is off for the whole run, if it is.
fn run_level_block(report: &Report) -> Option<String> {
    if !report.failed_accounts.is_empty() {
        let ids: Vec<&str> = report
            .failed_accounts
            .iter()
            .map(|a| a.id.as_str())
            .collect();
        return Some(format!(
            "account(s) {} could not be accessed",
            ids.join(", ")
        ));
    }
    if report.mapping_errors > 0 {
        // The first error says which expression failed (a selector, itemsToParse,
        // identifier or blueprint), so the line is not a guess among them.
        return Some(format!(
            "{} item(s) could not be mapped (the first: {})",
            report.mapping_errors,
            report
                .first_mapping_error
                .as_deref()
                .unwrap_or("not recorded")
        ));
    }
    None
}

/// Blueprints that a failed unit could have produced, with the reason; `"*"` when any
/// blueprint could be affected.
fn blocked_blueprints(report: &Report, mapping: &Mapping) -> BTreeMap<String, String> {
    let mut failed: BTreeMap<String, String> = BTreeMap::new();
    for u in &report.failed_units {
        failed.entry(u.kind.clone()).or_insert_with(|| {
            format!(
                "{} failed in account {} region {}: {}",
                u.kind, u.account, u.region, u.reason
            )
        });
    }
    for k in &report.unsupported_kinds {
        failed
            .entry(k.clone())
            .or_insert_with(|| format!("{k} is not supported, so it was not listed"));
    }
    let mut blocked = BTreeMap::new();
    for r in &mapping.resources {
        // Entities written through a search identifier cannot be matched with the listing.
        if r.has_search_identifier() {
            let key = r.constant_blueprint().unwrap_or("*").to_string();
            blocked.entry(key).or_insert_with(|| {
                format!(
                    "resources[{}] ({}) uses a search-query identifier",
                    r.index, r.kind
                )
            });
        }
        // A bounded history listing did not look for the entities outside its window:
        // they are not stale, and which ones they are cannot be told from the listing.
        if let Some(reason) = bounded_history(r, mapping) {
            let key = r.constant_blueprint().unwrap_or("*").to_string();
            blocked.entry(key).or_insert(reason);
        }
        let reason = failed.get(&r.kind).or_else(|| failed.get("*"));
        if let Some(reason) = reason {
            let key = r.constant_blueprint().unwrap_or("*").to_string();
            blocked.entry(key).or_insert_with(|| reason.clone());
        }
    }
    blocked
}

/// Why `r`'s blueprint is not reconciled when its kind is a history kind whose listing
/// `selector.maxAgeDays`/`maxItems` bounded (the loosest bound of the kind's resources, as
/// the listing reads it); `None` when the listing read the whole history.
fn bounded_history(r: &Resource, mapping: &Mapping) -> Option<String> {
    crate::aws::kinds::find(&r.kind)?.history_time()?;
    let bound = HistoryBound::loosest(
        mapping
            .resources
            .iter()
            .filter(|o| o.kind == r.kind)
            .map(|o| &o.history),
    )?;
    let mut window = Vec::new();
    if let Some(days) = bound.max_age_days {
        window.push(format!("maxAgeDays {days}"));
    }
    if let Some(n) = bound.max_items {
        window.push(format!("maxItems {n}"));
    }
    Some(format!(
        "resources[{}] ({}) lists a bounded history ({}): entities outside the window were not looked for",
        r.index,
        r.kind,
        window.join(", ")
    ))
}

/// Lists owned entities, decides, and deletes (unless `dry_run`).
// Each argument is a distinct input of the one call site in `resync::run`.
pub(crate) async fn reconcile(
    client: &Client,
    mapping: &Mapping,
    report: &Report,
    seen: Seen,
    started_at: &str,
    dry_run: bool,
    control: &DeleteControl,
) -> Result<Plan, PortError> {
    let mut plan = Plan::default();
    if let Some(why) = run_level_block(report) {
        let msg = format!("no entity deleted: {why}");
        tracing::warn!("{msg}");
        plan.skipped.push(msg);
        return Ok(plan);
    }
    let owned = entities::list_owned(client, started_at).await?;
    decide(&mut plan, &owned, seen, report, mapping);
    if !dry_run && !plan.deletions.is_empty() {
        delete(client, mapping, report, control, &mut plan).await;
    }
    Ok(plan)
}

/// Which stale entities go: owned but not seen, in blueprints no failure blocks, under the
/// deletion threshold, relation targets of produced entities kept. Sets `plan.deletions`
/// (left empty when nothing may go) and says in `plan.skipped` why anything was kept.
fn decide(
    plan: &mut Plan,
    owned: &BTreeSet<EntityRef>,
    mut seen: Seen,
    report: &Report,
    mapping: &Mapping,
) {
    seen.seal();
    let mut stale: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in owned {
        if !seen.contains(&e.blueprint, &e.identifier) {
            stale
                .entry(e.blueprint.clone())
                .or_default()
                .push(e.identifier.clone());
        }
    }
    let mut blocked = blocked_blueprints(report, mapping);
    // Rule 5 (relation targets of produced entities are kept) for relations Port resolves
    // from a search query: any entity of the target blueprint may be one, so none goes.
    if mapping.create_missing_related_entities || mapping.delete_dependent_entities {
        for (target, relation) in &seen.search_targets {
            blocked.entry(target.clone()).or_insert_with(|| {
                format!("{relation} relates to it through a search query, so any of its entities may be a target of this run's entities")
            });
        }
    }
    let all_blocked = blocked.get("*").cloned();
    let mut allowed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (bp, ids) in stale {
        let reason = all_blocked.as_ref().or(blocked.get(&bp));
        match reason {
            Some(why) => {
                let msg = format!(
                    "blueprint {bp} not reconciled ({} entities would have been deleted): {why}",
                    ids.len()
                );
                tracing::warn!(blueprint = %bp, would_delete = ids.len(), reason = %why, "blueprint not reconciled: a part of the run that could produce it failed");
                plan.skipped.push(msg);
            }
            None => {
                allowed.insert(bp, ids);
            }
        }
    }
    let to_delete: usize = allowed.values().map(Vec::len).sum();
    if to_delete == 0 {
        return;
    }
    // The listing leaves out what this run wrote (updated after it started), so the owned
    // population is the listing plus what the run produced. (Ocean divides by the listing
    // alone, which works there because it skips re-writing unchanged entities.)
    let listed_and_produced = owned
        .iter()
        .filter(|e| seen.contains(&e.blueprint, &e.identifier))
        .count();
    let produced_now = seen.len() - listed_and_produced;
    let population = owned.len() + produced_now;
    let rate = to_delete as f64 / population.max(1) as f64;
    if rate > mapping.entity_deletion_threshold {
        let msg = format!(
            "no entity deleted: {to_delete} of {population} owned entities ({:.0}%) would go, above entityDeletionThreshold {}",
            rate * 100.0,
            mapping.entity_deletion_threshold
        );
        tracing::warn!(
            to_delete,
            owned = population,
            rate,
            threshold = mapping.entity_deletion_threshold,
            "{msg}"
        );
        plan.skipped.push(msg);
        return;
    }
    // Relation targets of produced entities stay: with createMissingRelatedEntities they
    // are needed, and with deleteDependentEntities deleting one would take the entities
    // this run just wrote with it.
    if mapping.create_missing_related_entities || mapping.delete_dependent_entities {
        for (bp, ids) in allowed.iter_mut() {
            let before = ids.len();
            ids.retain(|id| !seen.is_target(id));
            if ids.len() < before {
                tracing::info!(blueprint = %bp, kept = before - ids.len(), "stale entities kept: produced entities relate to them");
            }
        }
    }
    allowed.retain(|_, ids| !ids.is_empty());
    plan.deletions = allowed;
}

/// Deletes `plan.deletions`, at most [`MAX_DELETE_IDS`] per request; refused entities are
/// tried once more at the end.
async fn delete(
    client: &Client,
    mapping: &Mapping,
    report: &Report,
    control: &DeleteControl,
    plan: &mut Plan,
) {
    let deleter = Deleter {
        client,
        options: DeleteOptions {
            delete_dependents: mapping.delete_dependent_entities,
            run_id: &report.run_id,
        },
        progress: &control.progress,
        cancel: &control.cancel,
    };
    // Refused entities (Port's `has_dependents`, when a stale entity still has dependents)
    // are tried once more after every other deletion: their dependents may have been stale
    // too and are gone by then (Ocean deletes one by one, dependents first).
    let mut refused: Vec<Refused> = Vec::new();
    // Taken out while `delete` updates the rest of the plan, put back after (no copy).
    let deletions = std::mem::take(&mut plan.deletions);
    for (bp, ids) in &deletions {
        for chunk in ids.chunks(MAX_DELETE_IDS) {
            deleter.delete(bp, chunk.to_vec(), plan, &mut refused).await;
        }
        let deleted = plan.deleted.get(bp).copied().unwrap_or(0);
        tracing::info!(blueprint = %bp, deleted, "stale entities deleted");
    }
    plan.deletions = deletions;
    let mut final_refusals = Vec::new();
    for r in std::mem::take(&mut refused) {
        deleter
            .delete(
                &r.entity.blueprint,
                vec![r.entity.identifier],
                plan,
                &mut final_refusals,
            )
            .await;
    }
    for Refused { entity, reason } in final_refusals {
        tracing::error!(blueprint = %entity.blueprint, identifier = %entity.identifier, error = %reason, "stale entity not deleted; the run is partial");
        crate::metrics::entities_delete_failed(&entity.blueprint, 1);
        *plan.failed.entry(entity.blueprint).or_default() += 1;
    }
}

/// What the caller keeps of a deletion: its progress, and the flag that stops it.
#[derive(Debug)]
pub(crate) struct DeleteControl {
    /// What reached Port so far.
    pub(crate) progress: DeleteProgress,
    /// Turns true at a shutdown signal or the run's deadline.
    pub(crate) cancel: tokio::sync::watch::Receiver<bool>,
}

/// Deletion progress, shared with the caller so that a run cancelled mid-deletion still
/// reports what reached Port: deletes Port confirmed, exactly, and those in flight when the
/// run stopped (they may have completed at Port).
#[derive(Debug, Default)]
pub(crate) struct DeleteProgress {
    deleted: AtomicU64,
    in_flight: AtomicU64,
}

impl DeleteProgress {
    /// Entities Port confirmed deleted.
    pub(crate) fn deleted(&self) -> u64 {
        self.deleted.load(Ordering::SeqCst)
    }

    /// Entities in delete requests that have not been answered (yet).
    pub(crate) fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::SeqCst)
    }
}

/// An entity Port refused to delete, and why.
struct Refused {
    entity: EntityRef,
    reason: String,
}

/// Sends bulk deletes, splitting a refused batch until the refused entities are isolated.
struct Deleter<'a> {
    client: &'a Client,
    options: DeleteOptions<'a>,
    progress: &'a DeleteProgress,
    cancel: &'a tokio::sync::watch::Receiver<bool>,
}

impl Deleter<'_> {
    /// Deletes `ids` of `bp`; entities Port refuses alone go to `refused` with the reason,
    /// batches that fail otherwise (Port down after the retries) count as failed in `plan`.
    async fn delete(
        &self,
        bp: &str,
        ids: Vec<String>,
        plan: &mut Plan,
        refused: &mut Vec<Refused>,
    ) {
        let mut batches = vec![ids];
        while let Some(batch) = batches.pop() {
            // A shutdown stops deletion before the next request, not after the run's end.
            if *self.cancel.borrow() {
                plan.cancelled = true;
                return;
            }
            let n = batch.len() as u64;
            self.progress.in_flight.fetch_add(n, Ordering::SeqCst);
            let sent = entities::delete_bulk(self.client, bp, &batch, self.options).await;
            self.progress.in_flight.fetch_sub(n, Ordering::SeqCst);
            match sent {
                Ok(done) => {
                    self.progress.deleted.fetch_add(done, Ordering::SeqCst);
                    *plan.deleted.entry(bp.to_string()).or_default() += done;
                    crate::metrics::entities_deleted(bp, done);
                }
                // Port refused the request (one entity with dependents refuses all of it):
                // split until the refused entities are alone.
                Err(e) if e.is_refusal() && batch.len() > 1 => {
                    let mut first = batch;
                    let second = first.split_off(first.len() / 2);
                    batches.push(second);
                    batches.push(first);
                }
                Err(e) if e.is_refusal() => {
                    let identifier = batch.into_iter().next().unwrap_or_default();
                    refused.push(Refused {
                        entity: EntityRef {
                            blueprint: bp.to_string(),
                            identifier,
                        },
                        reason: e.to_string(),
                    });
                }
                Err(e) => {
                    tracing::error!(blueprint = %bp, entities = n, error = %e, "bulk delete failed; the run is partial");
                    *plan.failed.entry(bp.to_string()).or_default() += n;
                    crate::metrics::entities_delete_failed(bp, n);
                }
            }
        }
    }
}
