//! The layering of `src/` (see the module map in `src/lib.rs`): each top-level module may
//! name only the modules below it, so the import graph is a DAG and every concern has one
//! home. A `crate::<module>` path in a file of a module not allowed to see it fails here,
//! with the file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Top-level module → the top-level modules it may use. Anything not listed may not be used.
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    const LEAVES: &[&str] = &[];
    BTreeMap::from([
        // Leaves: used by every layer, use none.
        ("metrics", LEAVES),
        ("pagination", LEAVES),
        ("logging", LEAVES),
        ("config", LEAVES),
        // The mapping engine is pure: JQ and the port app config.
        ("mapping", &["config"][..]),
        // The two edges, side by side and blind to each other.
        ("aws", &["config", "mapping", "metrics", "pagination"][..]),
        ("port", &["config", "mapping", "metrics", "pagination"][..]),
        // Orchestration over both edges.
        (
            "resync",
            &["aws", "config", "mapping", "metrics", "pagination", "port"][..],
        ),
        // What runs resyncs and serves actions (which, like a resync, orchestrate both
        // edges), and offline tools.
        (
            "daemon",
            &["aws", "config", "metrics", "port", "resync"][..],
        ),
        ("tools", &["aws", "config", "mapping", "port"][..]),
        // The command line, on top of everything.
        (
            "cli",
            &[
                "aws", "config", "daemon", "logging", "mapping", "metrics", "port", "resync",
                "tools",
            ][..],
        ),
    ])
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::x` paths named in `line`, and `use crate::{x, y}` groups.
fn named_modules(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push(name);
            }
        } else {
            out.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    out
}

#[test]
fn each_layer_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let allowed = allowed();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        // lib.rs and main.rs sit above every layer.
        let Some(may_use) = allowed.get(top.as_str()) else {
            continue;
        };
        checked += 1;
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for module in named_modules(code) {
                // Constants of the crate root (e.g. VERSION) belong to no layer.
                if module == top || module.chars().next().is_some_and(char::is_uppercase) {
                    continue;
                }
                if !may_use.contains(&module.as_str()) {
                    violations.push(format!(
                        "{}:{}: `{top}` uses `crate::{module}`",
                        rel.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        checked > 20,
        "the layer map covers the source tree ({checked} files)"
    );
    assert!(
        violations.is_empty(),
        "layers must only look down (tests/layers.rs has the map):\n{}",
        violations.join("\n")
    );
}

#[test]
fn every_top_level_module_has_a_place_in_the_layer_map() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let allowed = allowed();
    let missing: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';'))
        .filter(|m| !allowed.contains_key(m))
        .collect();
    assert!(missing.is_empty(), "modules without a layer: {missing:?}");
}
