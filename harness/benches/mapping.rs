//! Mapping engine benchmark: EC2 raw items through the default mapping (every expression a
//! literal, a path or a sum of them: the fast path) and through a mapping whose expressions
//! need jaq (tag lookups, `from_entries`, comparisons), one thread.
//!
//! Prints entities per second on one core and heap allocations per entity (a counting
//! global allocator wraps the system one). Run: `cargo bench --bench mapping [-- N]`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use aws_catalog_sync::mapping::{Item, Mapping, Outcome};
use aws_catalog_sync::port::defaults;
use aws_catalog_sync_harness::bench::synthetic;
use serde_json::{Value, json};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let default = Mapping::from_json(&defaults::port_app_config()).expect("default mapping");
    let jaq_heavy = Mapping::from_json(&json!({"resources": [{
        "kind": "AWS::EC2::Instance",
        "selector": {"query": ".Properties.State.Name != \"terminated\""},
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.InstanceId",
            "title": ".Properties.Tags[]? | select(.Key == \"Name\") | .Value",
            "blueprint": "\"ec2Instance\"",
            "properties": {
                "instanceType": ".Properties.InstanceType",
                "state": ".Properties.State.Name",
                "tags": ".Properties.Tags | from_entries",
                "environment": "[.Properties.Tags[] | select(.Key == \"Environment\") | .Value] | first",
                "isBurstable": ".Properties.InstanceType | startswith(\"t\")",
                "arn": "\"arn:aws:ec2:\" + .__ExtraContext.Region + \":\" + .__ExtraContext.AccountId + \":instance/\" + .Properties.InstanceId"
            },
            "relations": {"account": ".__ExtraContext.AccountId"}
        }}}
    }]}))
    .expect("jaq-heavy mapping");
    let items: Vec<Value> = (0..n).map(synthetic::ec2_item).collect();

    let mut issues = Vec::new();
    let mut out = Vec::new();
    let mut run = |label: &str, mapping: &Mapping, serialize: bool| {
        let ec2 = &mapping.resources[0];
        let (a0, b0) = (
            ALLOCS.load(Ordering::Relaxed),
            BYTES.load(Ordering::Relaxed),
        );
        let started = Instant::now();
        let mut entities = 0usize;
        let mut bytes = 0usize;
        for raw in &items {
            ec2.map(&Item::json(raw), &mut issues, &mut out);
            issues.clear();
            for o in out.drain(..) {
                if let Outcome::Entity(e) = o {
                    entities += 1;
                    if serialize {
                        bytes += serde_json::to_vec(&e.body).map(|b| b.len()).unwrap_or(0);
                    }
                }
            }
        }
        let secs = started.elapsed().as_secs_f64();
        let allocs = ALLOCS.load(Ordering::Relaxed) - a0;
        let alloc_bytes = BYTES.load(Ordering::Relaxed) - b0;
        println!(
            "{label}: {n} items -> {entities} entities in {secs:.3} s = {:.0} entities/s on one core; {:.1} allocations ({:.0} bytes) per entity{}",
            entities as f64 / secs,
            allocs as f64 / entities as f64,
            alloc_bytes as f64 / entities as f64,
            if serialize {
                format!(
                    "; {:.0} bytes of JSON per entity",
                    bytes as f64 / entities as f64
                )
            } else {
                String::new()
            }
        );
    };
    let ec2_first = |m: &Mapping| {
        let mut m = m.clone();
        m.resources.retain(|r| r.kind == "AWS::EC2::Instance");
        m
    };
    let (default, jaq_heavy) = (ec2_first(&default), ec2_first(&jaq_heavy));
    run("warm-up                         ", &default, false);
    run("default mapping                 ", &default, false);
    run("default mapping + serialize body", &default, true);
    run("jaq-heavy mapping               ", &jaq_heavy, false);
    run("jaq-heavy mapping + serialize   ", &jaq_heavy, true);
}
