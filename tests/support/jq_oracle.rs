//! The jq oracle: runs (program, input) pairs through libjq 1.7.1 (jq.py in the test venv,
//! the binding Ocean uses) via `jq_oracle.py`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// What jq did with one case.
#[derive(Debug, Clone, PartialEq)]
pub enum JqResult {
    /// The program does not compile.
    CompileError(String),
    /// The first output was an error.
    Error(String),
    /// No output.
    Empty,
    /// The first output.
    Value(Value),
}

const SCRIPT: &str = include_str!("jq_oracle.py");

/// Evaluates every case with real jq, in order. Each program is given as the user wrote it:
/// the oracle applies Ocean's single-quote rewriting itself, so the engine's own rewriting
/// is compared with Ocean's rather than fed to jq.
pub fn evaluate(cases: &[(String, Value)]) -> Vec<JqResult> {
    let venv = super::moto::venv(true).expect("the test venv (with jq.py) is available");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("jq_oracle.py");
    std::fs::write(&script, SCRIPT).unwrap();
    let mut child = Command::new(venv.join("bin").join("python"))
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the jq oracle starts");
    let mut stdin = child.stdin.take().unwrap();
    let lines: Vec<String> = cases
        .iter()
        .map(|(program, input)| json!({"program": program, "input": input}).to_string())
        .collect();
    let writer = std::thread::spawn(move || {
        for line in lines {
            writeln!(stdin, "{line}").unwrap();
        }
    });
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut out = Vec::with_capacity(cases.len());
    for line in stdout.lines() {
        let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
        out.push(if let Some(e) = v.get("compile_error") {
            JqResult::CompileError(e.as_str().unwrap_or_default().to_string())
        } else if let Some(e) = v.get("error") {
            JqResult::Error(e.as_str().unwrap_or_default().to_string())
        } else if v.get("empty").is_some() {
            JqResult::Empty
        } else {
            JqResult::Value(v["value"].clone())
        });
    }
    writer.join().unwrap();
    assert!(child.wait().unwrap().success(), "the jq oracle failed");
    assert_eq!(out.len(), cases.len(), "one oracle answer per case");
    out
}

/// Ocean's single-quote rewriting (the `rewrite` mode of `jq_oracle.py`) of each program.
pub fn ocean_rewrite(programs: &[String]) -> Vec<String> {
    let venv = super::moto::venv(true).expect("the test venv (with jq.py) is available");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("jq_oracle.py");
    std::fs::write(&script, SCRIPT).unwrap();
    let input: String = programs
        .iter()
        .map(|p| Value::from(p.as_str()).to_string() + "\n")
        .collect();
    let mut child = Command::new(venv.join("bin").join("python"))
        .arg(&script)
        .arg("rewrite")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the jq oracle starts");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(output.status.success(), "the jq oracle failed");
    let out: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(out.len(), programs.len(), "one rewriting per program");
    out
}

/// Ocean's mapping semantics on top of libjq (the `map` mode of `jq_oracle.py`): for each
/// `(resource config, raw item, allow_env)`, the outcomes Ocean produces, as
/// `{"entity": …}`, `{"filtered": true}`, `{"dropped": reason}` or `{"selector_error": true}`.
pub fn ocean_map(cases: &[(Value, Value, bool)]) -> Vec<Vec<Value>> {
    let venv = super::moto::venv(true).expect("the test venv (with jq.py) is available");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("jq_oracle.py");
    std::fs::write(&script, SCRIPT).unwrap();
    let input: String = cases
        .iter()
        .map(|(resource, item, allow_env)| {
            json!({"resource": resource, "item": item, "allow_env": allow_env}).to_string() + "\n"
        })
        .collect();
    let mut child = Command::new(venv.join("bin").join("python"))
        .arg(&script)
        .arg("map")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the jq oracle starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the jq oracle failed");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["outcomes"].as_array().unwrap().clone()
        })
        .collect()
}
