//! MemoryDB kinds.

kinds![user];

/// Enrichment calls (one per resource) in flight at once per (account, region) listing of
/// a MemoryDB kind: aws-v3 makes them all at once per batch of 100; here at most this
/// many.
const ENRICH_CONCURRENCY: usize = 8;
