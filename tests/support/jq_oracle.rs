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

/// Evaluates every case with real jq, in order.
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
