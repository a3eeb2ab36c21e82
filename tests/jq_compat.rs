//! jq compatibility, proven: every JQ expression of a corpus of real Ocean mappings runs
//! through our engine and through libjq 1.7.1 (jq.py, what Ocean uses) on the aws-v3 raw
//! examples and on generated inputs; results are compared under Ocean's rule (first output;
//! an error or no output is `null`). The oracle is given each expression as the user wrote
//! it and applies Ocean's single-quote rewriting itself, so our rewriting is compared too.
//!
//! Every disagreement must be listed in `tests/fixtures/jq-known-differences.json`
//! (explained in `docs/jq-compatibility.md`) with its expression, the input it shows on and
//! the exact pair of outcomes: a new input or a new outcome for a listed expression fails the
//! test, and so does a listed case that no longer occurs, so the list stays true. The corpus
//! counts are held to floors, so that an extractor or input generator that loses expressions
//! cannot pass by comparing less.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use aws_catalog_sync::mapping::jq::{self, Program};
use serde_json::{Map, Value, json};
use support::jq_oracle::{self, JqResult};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// Floors of the corpus counts (the last run's numbers; raise them when the corpus grows).
/// Mapping files that hold at least one expression (`custom.yml` holds none).
const MIN_FILES: usize = 50;
/// Distinct expressions.
const MIN_EXPRESSIONS: usize = 1_482;
/// Compared with jq (all but the ones that call `now`).
const MIN_COMPARED: usize = 1_481;
/// Compared expressions that our engine compiles.
const MIN_COMPILED: usize = 1_474;
/// Compared expressions with the same outcome as jq on every input.
const MIN_AGREEING: usize = 1_475;
/// (expression, input) pairs evaluated by both.
const MIN_CASES: usize = 19_343;
/// aws-v3 raw examples, inputs of every expression of an AWS mapping.
const MIN_RAW_EXAMPLES: usize = 28;

/// The corpus's folder: the copies under `tests/fixtures` (the tests run from a clone alone).
fn corpus_dir() -> PathBuf {
    let dir = Path::new(FIXTURES).join("ocean-mappings");
    assert!(
        dir.is_dir(),
        "the jq corpus {} is missing: without it nothing would be compared",
        dir.display()
    );
    dir
}

/// `(file, expression)` for every JQ string of every resource in the corpus.
fn corpus() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir())
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

/// Whether `expr` calls `now`, whose value differs between any two runs whatever the engine
/// (so does `mktime`/`todate` of it). A scan of jq's tokens: `now` inside a string
/// (`"unknown"`), inside a longer name (`.acknowledged`, `"servicenowGroup"`), as a field
/// (`.now`), a variable (`$now`) or an object key (`{now: 1}`) is no call; inside a string
/// interpolation (`"\(now)"`) it is.
fn calls_now(expr: &str) -> bool {
    enum Ctx {
        /// Code, with its open brackets; inside an interpolation when not the outermost.
        Code(Vec<char>),
        Str,
    }
    let chars: Vec<char> = expr.chars().collect();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let next_token = |from: usize| chars[from..].iter().copied().find(|c| !c.is_whitespace());
    let mut stack = vec![Ctx::Code(Vec::new())];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let depth = stack.len();
        match stack.last_mut() {
            Some(Ctx::Str) => match c {
                '\\' if chars.get(i + 1) == Some(&'(') => {
                    stack.push(Ctx::Code(Vec::new()));
                    i += 1;
                }
                '\\' => i += 1,
                '"' => {
                    stack.pop();
                }
                _ => {}
            },
            Some(Ctx::Code(open)) => match c {
                '"' => stack.push(Ctx::Str),
                '#' => {
                    while i < chars.len() && chars[i] != '\n' {
                        i += 1;
                    }
                }
                '(' | '[' | '{' => open.push(c),
                ')' if open.is_empty() && depth > 1 => {
                    // The end of a string interpolation.
                    stack.pop();
                }
                ')' | ']' | '}' => {
                    open.pop();
                }
                _ if c.is_ascii_alphabetic() || c == '_' => {
                    let start = i;
                    while i < chars.len() && ident(chars[i]) {
                        i += 1;
                    }
                    let word: String = chars[start..i].iter().collect();
                    let before = chars[..start].iter().rev().find(|c| !c.is_whitespace());
                    let after = next_token(i);
                    let field_or_var = matches!(before, Some('.' | '$'));
                    let in_object = open.last() == Some(&'{');
                    let key = in_object
                        && (after == Some(':') && chars.get(i + 1) != Some(&':')
                            || matches!(before, Some('{' | ','))
                                && matches!(after, Some(',' | '}')));
                    if word == "now" && !field_or_var && !key {
                        return true;
                    }
                    continue;
                }
                _ => {}
            },
            None => break,
        }
        i += 1;
    }
    false
}

/// One step of a path an expression reads.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    /// `.name`, `."name"`, `.["name"]`
    Key(String),
    /// `[0]`, `[-1]`
    Index(i64),
    /// `[]`
    Each,
}

/// Paths an expression reads from its input (`.a.b[0].c`), to generate inputs that exercise
/// it. A heuristic over the text: paths after a pipe are taken as if they read the input too.
fn paths(expr: &str) -> Vec<Vec<Seg>> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let ident_start = |c: char| c.is_ascii_alphabetic() || c == '_';
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    // `"name"` at `at` (without escapes): the name and the index after the closing quote.
    let quoted = |at: usize| -> Option<(String, usize)> {
        if chars.get(at) != Some(&'"') {
            return None;
        }
        let close = chars[at + 1..].iter().position(|c| *c == '"')? + at + 1;
        let name: String = chars[at + 1..close].iter().collect();
        (!name.contains('\\')).then_some((name, close + 1))
    };
    while i < chars.len() {
        let starts = chars[i] == '.'
            && chars
                .get(i + 1)
                .is_some_and(|c| ident_start(*c) || *c == '"')
            && (i == 0 || !ident(chars[i - 1]) && chars[i - 1] != '$');
        if !starts {
            i += 1;
            continue;
        }
        let mut path = Vec::new();
        loop {
            // `.name` or `."name"`
            if chars.get(i) != Some(&'.') {
                break;
            }
            if chars.get(i + 1).is_some_and(|c| ident_start(*c)) {
                let mut j = i + 1;
                while j < chars.len() && ident(chars[j]) {
                    j += 1;
                }
                path.push(Seg::Key(chars[i + 1..j].iter().collect()));
                i = j;
            } else if let Some((name, next)) = quoted(i + 1) {
                path.push(Seg::Key(name));
                i = next;
            } else {
                break;
            }
            // Suffixes: `?`, `[0]`, `[-1]`, `[]`, `["name"]`; a slice ends the path.
            loop {
                match chars.get(i) {
                    Some('?') => i += 1,
                    Some('[') => {
                        let Some(close) = chars[i..].iter().position(|c| *c == ']') else {
                            break;
                        };
                        let close = close + i;
                        let inner: String = chars[i + 1..close].iter().collect();
                        let inner = inner.trim();
                        let seg = if inner.is_empty() {
                            Seg::Each
                        } else if let Ok(n) = inner.parse::<i64>() {
                            Seg::Index(n)
                        } else if let Some((name, end)) = quoted(i + 1)
                            && end == close
                        {
                            Seg::Key(name)
                        } else {
                            break;
                        };
                        path.push(seg);
                        i = close + 1;
                    }
                    _ => break,
                }
            }
        }
        // A path ending in `[]` iterates what is there: the leaf itself (an array of tags,
        // an object…), not an array around it.
        if path.last() == Some(&Seg::Each) {
            path.pop();
        }
        if !path.is_empty() {
            out.push(path);
        }
    }
    out
}

/// Puts `leaf` at `path` in `node`, making objects for keys and arrays for indexes; a value
/// already there stays (the first path that reaches a place decides it).
fn set_path(node: &mut Value, path: &[Seg], leaf: &Value) {
    let Some((seg, rest)) = path.split_first() else {
        return;
    };
    let child = match seg {
        Seg::Key(key) => {
            if !node.is_object() {
                *node = Value::Object(Map::new());
            }
            let map = node.as_object_mut().unwrap();
            map.entry(key.clone()).or_insert(Value::Null)
        }
        Seg::Index(_) | Seg::Each => {
            if !node.is_array() {
                *node = Value::Array(Vec::new());
            }
            let items = node.as_array_mut().unwrap();
            let pos = match seg {
                // `[-k]` is the k-th from the end: the array gets at least k items.
                Seg::Index(n) if *n < 0 => {
                    let from_end = n.unsigned_abs() as usize;
                    if items.len() < from_end {
                        items.resize(from_end, Value::Null);
                    }
                    items.len() - from_end
                }
                Seg::Index(n) => *n as usize,
                _ => 0,
            };
            if items.len() <= pos {
                items.resize(pos + 1, Value::Null);
            }
            &mut items[pos]
        }
    };
    if rest.is_empty() {
        if child.is_null() {
            *child = leaf.clone();
        }
    } else {
        set_path(child, rest, leaf);
    }
}

/// Inputs for one expression, labelled: `{}`, and its paths filled with each kind of value.
fn generated_inputs(expr: &str) -> Vec<(String, Value)> {
    let leaves = [
        ("string", json!("sample-value")),
        ("integer", json!(42)),
        ("float", json!(3.5)),
        ("null", json!(null)),
        ("boolean", json!(true)),
        (
            "tag-array",
            json!([{"Key": "Name", "Value": "web", "key": "team", "value": "core", "name": "n1", "id": 1},
               {"Key": "Env", "Value": "prod", "key": "tier", "value": "gold", "name": "n2", "id": 2}]),
        ),
        ("unicode", json!("héllo wörld ✓ 日本 🚀")),
        (
            "object",
            json!({"name": "nested", "id": "7", "key": "K-1", "url": "https://example.com/a/b/c"}),
        ),
        ("iso-date", json!("2024-03-15T08:30:00Z")),
        ("url", json!("https://example.com/org/repo/path")),
    ];
    let paths = paths(expr);
    let mut inputs = vec![("generated/empty-object".to_string(), json!({}))];
    for (kind, leaf) in &leaves {
        let mut root = json!({});
        for p in &paths {
            set_path(&mut root, p, leaf);
        }
        inputs.push((format!("generated/{kind}"), root));
    }
    inputs
}

/// The aws-v3 raw examples, labelled `aws-v3-raw/<file>`.
fn aws_raw_examples() -> Vec<(String, Value)> {
    let mut files: Vec<_> = std::fs::read_dir(Path::new(FIXTURES).join("aws-v3-raw"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            (
                format!("aws-v3-raw/{}", p.file_name().unwrap().to_string_lossy()),
                serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap(),
            )
        })
        .collect()
}

/// What one engine did with one case, as pinned in `jq-known-differences.json`: error
/// messages are not compared (each engine words its own; Ocean turns both into `null`).
fn outcome_json(kind: &str, value: Option<&Value>) -> Value {
    match value {
        Some(v) => json!({ "value": v }),
        None => json!({ kind: true }),
    }
}

fn jq_outcome(r: &JqResult) -> Value {
    match r {
        JqResult::CompileError(_) => outcome_json("compile_error", None),
        JqResult::Error(_) => outcome_json("error", None),
        JqResult::Empty => outcome_json("empty", None),
        JqResult::Value(v) => outcome_json("value", Some(v)),
    }
}

/// One disagreement: (expression, input label, jq's outcome, ours).
type Disagreement = (String, String, Value, Value);

/// The known differences: `[{expression, reason, cases: [{input, jq, ours}]}]`.
fn known_differences() -> Vec<Disagreement> {
    let path = Path::new(FIXTURES).join("jq-known-differences.json");
    let known: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for k in &known {
        let expr = k["expression"]
            .as_str()
            .expect("each entry has an expression");
        assert!(
            k["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "`{expr}` has no reason"
        );
        let cases = k["cases"].as_array().filter(|c| !c.is_empty());
        for c in cases.unwrap_or_else(|| panic!("`{expr}` lists no cases")) {
            out.push((
                expr.to_string(),
                c["input"]
                    .as_str()
                    .expect("a case names its input")
                    .to_string(),
                c["jq"].clone(),
                c["ours"].clone(),
            ));
        }
    }
    out
}

fn same_case(a: &Disagreement, b: &Disagreement) -> bool {
    a.0 == b.0 && a.1 == b.1 && support::same_json(&a.2, &b.2) && support::same_json(&a.3, &b.3)
}

/// Hand-written cases for each difference the docs list that the corpus does not show: they
/// are compared like the corpus's, so a documented difference that goes away fails the test.
const PROBES: &[(&str, &str)] = &[
    // object indexed with a number (malformed input: an object where an array belongs)
    (
        ".partitions[0].replicas | length",
        r#"{"partitions": {"replicas": [1, 2]}}"#,
    ),
];

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

    // The cases: (expression, input label, input).
    let mut cases: Vec<(String, String, Value)> = Vec::new();
    let time_dependent: BTreeSet<&str> = expressions
        .keys()
        .map(String::as_str)
        .filter(|e| calls_now(e))
        .collect();
    for (expr, files) in &expressions {
        if time_dependent.contains(expr.as_str()) {
            continue;
        }
        let mut inputs = generated_inputs(expr);
        if files.iter().any(|f| f.starts_with("aws")) {
            inputs.extend(raw.iter().cloned());
        }
        cases.extend(inputs.into_iter().map(|(l, i)| (expr.clone(), l, i)));
    }
    let corpus_cases = cases.len();
    for (n, (expr, input)) in PROBES.iter().enumerate() {
        cases.push((
            expr.to_string(),
            format!("probe/{n}"),
            serde_json::from_str(input).unwrap(),
        ));
    }
    // The expression as written: the oracle rewrites single quotes the way Ocean does.
    let oracle_cases: Vec<(String, Value)> = cases
        .iter()
        .map(|(e, _, i)| (e.clone(), i.clone()))
        .collect();
    let theirs = jq_oracle::evaluate(&oracle_cases);

    let mut ours_compiled: BTreeMap<&str, Result<Program, String>> = BTreeMap::new();
    let mut disagreements: Vec<Disagreement> = Vec::new();
    let mut jq_compiles = BTreeSet::new();
    for ((expr, label, input), jq_result) in cases.iter().zip(&theirs) {
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
        // `first_json` is what the mapping uses: the literal/path fast path when the
        // expression has one, jaq otherwise.
        let ours = match program {
            Err(_) => outcome_json("compile_error", None),
            Ok(p) => match p.first_json(input) {
                Ok(Some(v)) => outcome_json("value", Some(&v)),
                Ok(None) => outcome_json("empty", None),
                Err(_) => outcome_json("error", None),
            },
        };
        let agree = match (program, jq_result) {
            // jq cannot compile it: Ocean gets null for every item; ours must not compile
            // either (a compile error at load time is the better failure).
            (Err(_), JqResult::CompileError(_)) => true,
            (Ok(_), JqResult::CompileError(_)) | (Err(_), _) => false,
            (Ok(_), _) => {
                support::same_json(&ours.get("value").cloned().unwrap_or_default(), &expected)
            }
        };
        if !agree {
            disagreements.push((expr.clone(), label.clone(), jq_outcome(jq_result), ours));
        }
    }

    let known = known_differences();
    let differing: BTreeSet<&str> = disagreements
        .iter()
        .filter(|d| !d.1.starts_with("probe/"))
        .map(|d| d.0.as_str())
        .collect();
    let probes: BTreeSet<&str> = PROBES.iter().map(|p| p.0).collect();
    let compared = expressions.len() - time_dependent.len();
    let ours_ok = expressions
        .keys()
        .filter(|e| ours_compiled.get(e.as_str()).is_some_and(|p| p.is_ok()))
        .count();
    let agreeing = expressions
        .keys()
        .filter(|e| !time_dependent.contains(e.as_str()) && !differing.contains(e.as_str()))
        .count();
    let files = corpus.iter().map(|(f, _)| f).collect::<BTreeSet<_>>().len();
    println!(
        "jq differential: {} expressions ({} occurrences in {files} files; {} calling `now` not compared), {corpus_cases} cases (+{} probes); compile: ours {ours_ok}, jq {}; agree with jq on every input: {agreeing} of {compared}; {} differing cases",
        expressions.len(),
        corpus.len(),
        time_dependent.len(),
        PROBES.len(),
        jq_compiles
            .iter()
            .filter(|e| expressions.contains_key(**e))
            .count(),
        disagreements.len(),
    );

    let mut failures = Vec::new();
    for (what, got, floor) in [
        ("mapping files with expressions", files, MIN_FILES),
        ("distinct expressions", expressions.len(), MIN_EXPRESSIONS),
        ("expressions compared", compared, MIN_COMPARED),
        ("compared expressions we compile", ours_ok, MIN_COMPILED),
        (
            "expressions agreeing on every input",
            agreeing,
            MIN_AGREEING,
        ),
        ("cases", corpus_cases, MIN_CASES),
        ("aws-v3 raw examples", raw.len(), MIN_RAW_EXAMPLES),
    ] {
        if got < floor {
            failures.push(format!(
                "only {got} {what}, fewer than the {floor} expected"
            ));
        }
    }
    let unexplained: Vec<&Disagreement> = disagreements
        .iter()
        .filter(|d| !known.iter().any(|k| same_case(k, d)))
        .collect();
    if !unexplained.is_empty() {
        let listing: Vec<String> = unexplained
            .iter()
            .map(|(e, input, jq, ours)| {
                json!({"expression": e, "input": input, "jq": jq, "ours": ours}).to_string()
            })
            .collect();
        failures.push(format!(
            "{} case(s) differ from jq 1.7 and are not in jq-known-differences.json:\n  {}",
            unexplained.len(),
            listing.join("\n  ")
        ));
    }
    let stale: Vec<String> = known
        .iter()
        .filter(|k| !disagreements.iter().any(|d| same_case(k, d)))
        .map(|(e, input, jq, ours)| {
            let why = if !expressions.contains_key(e) && !probes.contains(e.as_str()) {
                "the expression is not in the corpus"
            } else {
                "it no longer differs this way"
            };
            format!("`{e}` on {input}: jq {jq}, ours {ours} ({why})")
        })
        .collect();
    if !stale.is_empty() {
        failures.push(format!(
            "listed in jq-known-differences.json but not seen:\n  {}",
            stale.join("\n  ")
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Our single-quote rewriting is Ocean's, on every string of up to 7 characters over the
/// characters that decide it, and on shorter ones with the whitespace Python and Rust might
/// see differently.
#[test]
fn single_quotes_are_rewritten_as_ocean_rewrites_them() {
    fn all_strings(alphabet: &[char], max_len: usize) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..max_len {
            last = last
                .iter()
                .flat_map(|s| {
                    alphabet.iter().map(move |c| {
                        let mut s = s.clone();
                        s.push(*c);
                        s
                    })
                })
                .collect();
            out.extend(last.iter().cloned());
        }
        out
    }
    let mut programs = all_strings(&['\'', '"', ' ', 'a', '\\', '('], 7);
    programs.extend(all_strings(
        &[
            '\'', '"', '\t', '\n', '\u{a0}', '\u{1c}', '\u{85}', '\u{2028}', 'x',
        ],
        4,
    ));
    let theirs = jq_oracle::ocean_rewrite(&programs);
    let wrong: Vec<String> = programs
        .iter()
        .zip(&theirs)
        .filter(|(p, t)| jq::ocean_source(p) != **t)
        .map(|(p, t)| format!("{p:?}: Ocean {t:?}, ours {:?}", jq::ocean_source(p)))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} programs get their single quotes rewritten unlike Ocean, e.g.:\n  {}",
        wrong.len(),
        programs.len(),
        wrong[..wrong.len().min(10)].join("\n  ")
    );
}

#[test]
fn only_real_calls_of_now_are_time_dependent() {
    for calls in [
        "now",
        "now | todate",
        "(now - (.created | fromdate)) / 86400 | floor",
        "if .lastChange then (.lastChange/1000) else now end | strftime(\"%Y\")",
        "now|gmtime|mktime",
        "\"at \\(now)\"",
        "\"at \\(.a + (now | tostring))\"",
        "[now]",
        "{a: now}",
        "{now: now}",
    ] {
        assert!(calls_now(calls), "{calls}");
    }
    for no_call in [
        "\"unknown\"",
        "(.skill_name // \"unknown\")",
        ".acknowledged",
        "\"servicenowGroup\"",
        ".now",
        ".a.now | tostring",
        "$now",
        ". as $now | $now",
        "{now: .x}",
        "{now}",
        "\"now\"",
        "\"\\\"now\"",
        "\"\\(.a) now\"",
        ".x # now",
        "snow_now_",
        ".date | strptime(\"%Y-%m-%d\") | mktime",
    ] {
        assert!(!calls_now(no_call), "{no_call}");
    }
}

#[test]
fn generated_inputs_follow_the_paths_an_expression_reads() {
    let key = |k: &str| Seg::Key(k.to_string());
    assert_eq!(
        paths(r#".Properties.Tags[0].Value + (.__ExtraContext.AccountId | tostring)"#),
        vec![
            vec![key("Properties"), key("Tags"), Seg::Index(0), key("Value")],
            vec![key("__ExtraContext"), key("AccountId")]
        ]
    );
    assert_eq!(
        paths(r#".a[]?.b, .c[-1], .d[:10], .e[], .f."g.h", .i["j"], $v.x"#),
        vec![
            vec![key("a"), Seg::Each, key("b")],
            vec![key("c"), Seg::Index(-1)],
            vec![key("d")],
            vec![key("e")],
            vec![key("f"), key("g.h")],
            vec![key("i"), key("j")],
        ]
    );
    let inputs = generated_inputs(".a.b");
    assert_eq!(
        inputs[1],
        (
            "generated/string".to_string(),
            json!({"a": {"b": "sample-value"}})
        )
    );
    // An index is an index into an array, not a key.
    let inputs = generated_inputs(".partitions[0].replicas | length");
    assert_eq!(inputs[2].1, json!({"partitions": [{"replicas": 42}]}));
    let inputs = generated_inputs(".a[1].b, .a[0].c, .t[-2], .e[].f");
    assert_eq!(
        inputs[1].1,
        json!({
            "a": [{"c": "sample-value"}, {"b": "sample-value"}],
            "t": ["sample-value", null],
            "e": [{"f": "sample-value"}],
        })
    );
}
