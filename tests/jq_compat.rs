//! jq compatibility, proven: every JQ expression of a corpus of real Ocean mappings runs
//! through our engine and through libjq 1.7.1 (jq.py, what Ocean uses) on the aws-v3 raw
//! examples and on generated inputs; results are compared under Ocean's rule (first output;
//! an error or no output is `null`).
//!
//! Every expression that disagrees on some input must be listed, with its reason, in
//! `tests/fixtures/jq-known-differences.json` (explained in `docs/jq-compatibility.md`);
//! a listed expression that now agrees everywhere fails the test too, so the list stays
//! true.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use aws_catalog_sync::mapping::jq::{self, Program};
use serde_json::{Map, Value, json};
use support::jq_oracle::{self, JqResult};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// `(file, expression)` for every JQ string of every resource in the corpus.
fn corpus() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(Path::new(FIXTURES).join("ocean-mappings"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let doc: Value = serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for r in doc["resources"].as_array().into_iter().flatten() {
            let mut exprs = Vec::new();
            if let Some(q) = r["selector"]["query"].as_str() {
                exprs.push(q.to_string());
            }
            if let Some(q) = r["port"]["itemsToParse"].as_str() {
                exprs.push(q.to_string());
            }
            leaves(&r["port"]["entity"]["mappings"], &mut exprs);
            out.extend(exprs.into_iter().map(|e| (name.clone(), e)));
        }
    }
    out
}

fn leaves(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Object(m) => m.values().for_each(|v| leaves(v, out)),
        Value::Array(a) => a.iter().for_each(|v| leaves(v, out)),
        _ => {}
    }
}

/// Dotted paths an expression reads (`.a.b.c`), to generate inputs that exercise it.
fn paths(expr: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let ident_start = |c: char| c.is_ascii_alphabetic() || c == '_';
    while i < chars.len() {
        let starts = chars[i] == '.'
            && chars.get(i + 1).is_some_and(|c| ident_start(*c))
            && (i == 0 || !chars[i - 1].is_ascii_alphanumeric() && chars[i - 1] != '_');
        if !starts {
            i += 1;
            continue;
        }
        let mut path = Vec::new();
        while i < chars.len()
            && chars[i] == '.'
            && chars.get(i + 1).is_some_and(|c| ident_start(*c))
        {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            path.push(chars[i + 1..j].iter().collect::<String>());
            i = j;
            // `.a[0].b` / `.a[].b`: keep following the path through the index.
            if i + 1 < chars.len() && chars[i] == '[' {
                let close = chars[i..].iter().position(|c| *c == ']').map(|p| p + i);
                if let Some(close) = close
                    && chars[i + 1..close].iter().all(|c| c.is_ascii_digit())
                {
                    i = close + 1;
                }
            }
        }
        out.push(path);
    }
    out
}

fn set_path(root: &mut Value, path: &[String], leaf: &Value) {
    let mut node = root;
    for (k, seg) in path.iter().enumerate() {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let map = node.as_object_mut().unwrap();
        if k == path.len() - 1 {
            map.entry(seg.clone()).or_insert_with(|| leaf.clone());
            return;
        }
        node = map
            .entry(seg.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Inputs for one expression: its paths filled with each kind of value.
fn generated_inputs(expr: &str) -> Vec<Value> {
    let leaves = [
        json!("sample-value"),
        json!(42),
        json!(3.5),
        json!(null),
        json!(true),
        json!([{"Key": "Name", "Value": "web", "key": "team", "value": "core", "name": "n1", "id": 1},
               {"Key": "Env", "Value": "prod", "key": "tier", "value": "gold", "name": "n2", "id": 2}]),
        json!("héllo wörld ✓ 日本 🚀"),
        json!({"name": "nested", "id": "7", "key": "K-1", "url": "https://example.com/a/b/c"}),
        json!("2024-03-15T08:30:00Z"),
        json!("https://example.com/org/repo/path"),
    ];
    let paths = paths(expr);
    let mut inputs = vec![json!({})];
    for leaf in &leaves {
        let mut root = json!({});
        for p in &paths {
            set_path(&mut root, p, leaf);
        }
        inputs.push(root);
    }
    inputs
}

fn aws_raw_examples() -> Vec<Value> {
    let mut files: Vec<_> = std::fs::read_dir(Path::new(FIXTURES).join("aws-v3-raw"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

#[test]
fn every_corpus_expression_means_what_it_means_in_jq() {
    let corpus = corpus();
    let raw = aws_raw_examples();
    let mut expressions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, expr) in &corpus {
        expressions
            .entry(expr.clone())
            .or_default()
            .insert(file.clone());
    }

    // Build the cases: (expression, input).
    let mut cases: Vec<(String, Value)> = Vec::new();
    // `now` differs between any two runs, whatever the engine: not comparable.
    let time_dependent: Vec<&String> = expressions.keys().filter(|e| e.contains("now")).collect();
    for (expr, files) in &expressions {
        if time_dependent.contains(&expr) {
            continue;
        }
        let mut inputs = generated_inputs(expr);
        if files.iter().any(|f| f.starts_with("aws")) {
            inputs.extend(raw.iter().cloned());
        }
        cases.extend(inputs.into_iter().map(|i| (expr.clone(), i)));
    }
    let oracle_cases: Vec<(String, Value)> = cases
        .iter()
        .map(|(e, i)| (jq::ocean_source(e), i.clone()))
        .collect();
    let theirs = jq_oracle::evaluate(&oracle_cases);

    let mut ours_compiled: BTreeMap<&str, Result<Program, String>> = BTreeMap::new();
    let mut disagreements: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut jq_compiles = BTreeSet::new();
    for ((expr, input), jq_result) in cases.iter().zip(&theirs) {
        let program = ours_compiled
            .entry(expr.as_str())
            .or_insert_with(|| Program::compile(expr));
        if !matches!(jq_result, JqResult::CompileError(_)) {
            jq_compiles.insert(expr.as_str());
        }
        let expected = match jq_result {
            JqResult::Value(v) => v.clone(),
            _ => Value::Null,
        };
        let (got, detail) = match program {
            Err(e) => (None, format!("ours does not compile: {e}")),
            // `first_json` is what the mapping uses: the literal/path fast path when the
            // expression has one, jaq otherwise.
            Ok(p) => match p.first_json(input) {
                Ok(Some(v)) => (Some(v), String::new()),
                Ok(None) => (Some(Value::Null), String::new()),
                Err(e) => (Some(Value::Null), format!("ours errors: {e}")),
            },
        };
        let agree = match (&got, jq_result) {
            // jq cannot compile it: Ocean gets null for every item; ours must not compile
            // either (a compile error at load time is the better failure).
            (None, JqResult::CompileError(_)) => true,
            (Some(_), JqResult::CompileError(_)) => false,
            (None, _) => false,
            (Some(g), _) => support::same_json(g, &expected),
        };
        if !agree {
            let entry = disagreements.entry(expr.as_str()).or_default();
            if entry.len() < 2 {
                entry.push(format!(
                    "input {} → jq {:?}, ours {} {}",
                    truncate(&input.to_string()),
                    jq_result,
                    got.map(|g| truncate(&g.to_string())).unwrap_or_default(),
                    detail
                ));
            }
        }
    }

    let known: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(Path::new(FIXTURES).join("jq-known-differences.json")).unwrap(),
    )
    .unwrap();
    let known: BTreeMap<String, String> = known
        .iter()
        .map(|k| {
            (
                k["expression"].as_str().unwrap().to_string(),
                k["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();

    let ours_ok = ours_compiled.values().filter(|p| p.is_ok()).count();
    let compared = expressions.len() - time_dependent.len();
    let agreeing = compared - disagreements.len();
    println!(
        "jq differential: {} expressions ({} occurrences in {} files; {} time-dependent ones not compared), {} cases; compile: ours {}, jq {}; agree with jq on every input: {} of {}",
        expressions.len(),
        corpus.len(),
        corpus.iter().map(|(f, _)| f).collect::<BTreeSet<_>>().len(),
        time_dependent.len(),
        cases.len(),
        ours_ok,
        jq_compiles.len(),
        agreeing,
        compared
    );
    let unexplained: Vec<String> = disagreements
        .iter()
        .filter(|(e, _)| !known.contains_key(**e))
        .map(|(e, why)| format!("`{e}`\n      {}", why.join("\n      ")))
        .collect();
    let stale: Vec<&String> = known
        .keys()
        .filter(|k| expressions.contains_key(*k) && !disagreements.contains_key(k.as_str()))
        .collect();
    assert!(
        unexplained.is_empty(),
        "{} expression(s) differ from jq 1.7 and are not in jq-known-differences.json:\n  {}",
        unexplained.len(),
        unexplained.join("\n  ")
    );
    assert!(
        stale.is_empty(),
        "listed as different but now agree: {stale:?}"
    );
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s.to_string()
    }
}

#[test]
fn generated_inputs_follow_the_paths_an_expression_reads() {
    assert_eq!(
        paths(r#".Properties.Tags[0].Value + (.__ExtraContext.AccountId | tostring)"#),
        vec![
            vec!["Properties".to_string(), "Tags".into(), "Value".into()],
            vec!["__ExtraContext".to_string(), "AccountId".into()]
        ]
    );
    let inputs = generated_inputs(".a.b");
    assert_eq!(inputs[1], json!({"a": {"b": "sample-value"}}));
}
