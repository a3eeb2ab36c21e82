//! JQ programs, compiled once with jaq and run per raw item.
//!
//! Ocean evaluates mappings with libjq 1.7 and uses only the **first output** of a program;
//! no output counts as `null`. [`Program::first`] gives exactly that, keeping "no output"
//! and "error" distinguishable so the caller can report misconfigurations.
//!
//! Before compiling, single-quoted string literals are rewritten to double-quoted ones, as
//! Ocean does (`.name == 'x'` works in users' mappings). `$ENV` is available as in jq.

use std::sync::{Arc, LazyLock};

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;
use serde::Deserialize;
use serde_json::Value;

type Filter = jaq_core::Filter<data::JustLut<Val>>;

/// A compiled JQ expression.
#[derive(Clone)]
pub struct Program {
    filter: Arc<Filter>,
    source: Arc<str>,
    /// When the program is a constant string (`'"awsAccount"'`), its value: lets callers
    /// know a resource's blueprint without running anything.
    constant: Option<String>,
    /// Most mapping expressions are a literal or a plain path (`.Properties.InstanceId`):
    /// those are answered straight from the JSON item, without converting it for jaq.
    fast: Option<Fast>,
}

/// Expressions evaluated without jaq, with jq's semantics (proven by the differential test,
/// which goes through [`Program::first_json`]).
#[derive(Debug, Clone)]
enum Fast {
    /// `true`, `false`, `null`, a number, or a string without escapes.
    Literal(Value),
    /// `.a.b.c` (`.` alone is the identity).
    Path(Vec<String>),
    /// `"arn:aws:ec2:" + .Region + ":" + .AccountId`: literals and paths joined by `+`.
    Sum(Vec<Fast>),
}

impl Fast {
    fn detect(code: &str) -> Option<Fast> {
        let parts = split_plus(code)?;
        if parts.len() > 1 {
            let terms: Option<Vec<Fast>> = parts.iter().map(|p| Fast::detect_term(p)).collect();
            return terms.map(Fast::Sum);
        }
        Fast::detect_term(code)
    }

    fn detect_term(code: &str) -> Option<Fast> {
        let code = code.trim();
        if code == "." {
            return Some(Fast::Path(Vec::new()));
        }
        if let Some(s) = constant_string(code) {
            return Some(Fast::Literal(Value::String(s)));
        }
        if matches!(code, "true" | "false" | "null")
            || (!code.is_empty()
                && code.bytes().all(|b| b.is_ascii_digit())
                && !code.starts_with('0'))
        {
            return serde_json::from_str(code).ok().map(Fast::Literal);
        }
        let rest = code.strip_prefix('.')?;
        let segments: Vec<String> = rest.split('.').map(str::to_string).collect();
        let ident = |s: &String| {
            s.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        segments.iter().all(ident).then_some(Fast::Path(segments))
    }

    fn eval(&self, input: &Value) -> Result<Option<Value>, String> {
        match self {
            Fast::Literal(v) => Ok(Some(v.clone())),
            Fast::Path(segments) => {
                let mut node = input;
                for seg in segments {
                    node = match node {
                        Value::Object(map) => map.get(seg).unwrap_or(&Value::Null),
                        Value::Null => &Value::Null,
                        other => {
                            let kind = match other {
                                Value::Bool(_) => "boolean",
                                Value::Number(_) => "number",
                                Value::String(_) => "string",
                                _ => "array",
                            };
                            return Err(format!("Cannot index {kind} with \"{seg}\""));
                        }
                    };
                }
                Ok(Some(node.clone()))
            }
            Fast::Sum(terms) => {
                let mut acc = Value::Null;
                for term in terms {
                    let next = term.eval(input)?.unwrap_or(Value::Null);
                    acc = add(acc, next)?;
                }
                Ok(Some(acc))
            }
        }
    }
}

/// jq's `+`: `null` is the identity; strings concatenate, numbers add, arrays concatenate,
/// objects merge (right wins); anything else is an error.
fn add(a: Value, b: Value) -> Result<Value, String> {
    Ok(match (a, b) {
        (Value::Null, b) => b,
        (a, Value::Null) => a,
        (Value::String(mut a), Value::String(b)) => {
            a.push_str(&b);
            Value::String(a)
        }
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) if x.checked_add(y).is_some() => Value::from(x + y),
            _ => {
                serde_json::Number::from_f64(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0))
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        },
        (Value::Array(mut a), Value::Array(b)) => {
            a.extend(b);
            Value::Array(a)
        }
        (Value::Object(mut a), Value::Object(b)) => {
            a.extend(b);
            Value::Object(a)
        }
        (a, b) => {
            return Err(format!(
                "{} and {} cannot be added",
                type_name(&a),
                type_name(&b)
            ));
        }
    })
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Splits `a + b + c` on the `+` signs outside string literals; `None` when the code has
/// anything a plain sum of terms does not (other operators are caught later, as the terms
/// then fail to be literals or paths).
fn split_plus(code: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let (mut start, mut in_string, mut escaped) = (0, false, false);
    for (i, c) in code.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '+' if !in_string => {
                parts.push(&code[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if in_string {
        return None;
    }
    parts.push(&code[start..]);
    Some(parts)
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Program({:?})", self.source)
    }
}

/// `$ENV`, read once: the environment does not change during a run.
static ENV: LazyLock<Val> = LazyLock::new(|| {
    let map: serde_json::Map<String, Value> = std::env::vars()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    to_val(&Value::Object(map))
});

/// Definitions prepended to every program so that builtins behave as in jq 1.7 where jaq
/// differs (each one is listed in `docs/jq-compatibility.md`).
const PRELUDE: &str = include_str!("prelude.jq");

/// Ocean's stub when `allowEnvironmentVariablesJqAccess` is false.
const NO_ENV: &str = "def env: {}; {} as $ENV | ";

impl Program {
    /// Compiles `source` with environment access, as Ocean's default.
    pub fn compile(source: &str) -> Result<Program, String> {
        Program::compile_with(source, true)
    }

    /// Compiles `source`; `allow_env: false` makes `env` and `$ENV` empty objects. The
    /// error is a one-line description with the offending token.
    pub fn compile_with(source: &str, allow_env: bool) -> Result<Program, String> {
        let user = rewrite_single_quotes(source);
        let code = if allow_env {
            format!("{PRELUDE}\n{user}")
        } else {
            format!("{PRELUDE}\n{NO_ENV}{user}")
        };
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let arena = Arena::default();
        let modules = Loader::new(defs)
            .load(
                &arena,
                File {
                    code: code.as_str(),
                    path: (),
                },
            )
            .map_err(|errs| {
                let mut parts = Vec::new();
                for (_, e) in errs {
                    match e {
                        jaq_core::load::Error::Io(v) => {
                            parts.extend(v.into_iter().map(|(_, m)| m));
                        }
                        jaq_core::load::Error::Lex(v) => parts
                            .extend(v.into_iter().map(|(exp, at)| {
                                format!("expected {} {}", exp.as_str(), near(at))
                            })),
                        jaq_core::load::Error::Parse(v) => parts
                            .extend(v.into_iter().map(|(exp, at)| {
                                format!("expected {} {}", exp.as_str(), near(at))
                            })),
                    }
                }
                format!("syntax error: {}", parts.join("; "))
            })?;
        let filter = Compiler::default()
            .with_funs(funs)
            .with_global_vars(["$ENV"])
            .compile(modules)
            .map_err(|errs| {
                let names: Vec<String> = errs
                    .into_iter()
                    .flat_map(|(_, v)| v)
                    .map(|(name, undef)| format!("undefined {} {name}", undef.as_str()))
                    .collect();
                names.join("; ")
            })?;
        Ok(Program {
            filter: Arc::new(filter),
            constant: constant_string(user.trim()),
            fast: Fast::detect(&user),
            source: source.into(),
        })
    }

    /// The expression as the user wrote it.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The value of a constant string program such as `'"ec2Instance"'`.
    pub fn constant(&self) -> Option<&str> {
        self.constant.as_deref()
    }

    /// Like [`Program::first`] on a JSON item, answered without jaq when the expression
    /// is a literal or a plain path; `None` when jaq is needed.
    pub fn first_fast(&self, input: &Value) -> Option<Result<Option<Value>, String>> {
        self.fast.as_ref().map(|f| f.eval(input))
    }

    /// First output on a JSON item, as JSON: the fast path when there is one, else jaq.
    pub fn first_json(&self, input: &Value) -> Result<Option<Value>, String> {
        match self.first_fast(input) {
            Some(r) => r,
            None => self.first(&to_val(input)).map(|o| o.map(|v| to_json(&v))),
        }
    }

    /// First output of the program on `input`: `Ok(None)` when it yields nothing,
    /// `Err` with jq's message when the first thing it yields is an error.
    pub fn first(&self, input: &Val) -> Result<Option<Val>, String> {
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([ENV.clone()]));
        let mut out = self.filter.id.run((ctx, input.clone())).map(unwrap_valr);
        match out.next() {
            None => Ok(None),
            Some(Ok(v)) => Ok(Some(v)),
            Some(Err(e)) => Err(e.to_string()),
        }
    }
}

fn near(at: &str) -> String {
    let snippet: String = at.chars().take(20).collect();
    if snippet.is_empty() {
        "at end of input".into()
    } else {
        format!("near {snippet:?}")
    }
}

/// `"abc"` (a bare string literal without interpolation) → `abc`.
pub fn constant_string(code: &str) -> Option<String> {
    if code.len() >= 2 && code.starts_with('"') && code.ends_with('"') {
        let inner = &code[1..code.len() - 1];
        if !inner.contains(['"', '\\']) {
            return Some(inner.to_string());
        }
    }
    None
}

/// The program text jq sees once Ocean has preprocessed a mapping expression: single-quoted
/// strings become double-quoted ones (quotes inside double-quoted strings are left alone).
pub fn ocean_source(src: &str) -> String {
    rewrite_single_quotes(src)
}

fn rewrite_single_quotes(src: &str) -> String {
    if !src.contains('\'') {
        return src.to_string();
    }
    let mut out = String::with_capacity(src.len());
    let mut in_double = false;
    let mut escaped = false;
    for c in src.chars() {
        match c {
            _ if escaped => {
                escaped = false;
                out.push(c);
            }
            '\\' => {
                escaped = true;
                out.push(c);
            }
            '"' => {
                in_double = !in_double;
                out.push(c);
            }
            '\'' if !in_double => out.push('"'),
            _ => out.push(c),
        }
    }
    out
}

/// JSON → jaq value.
pub fn to_val(v: &Value) -> Val {
    // serde_json::Value's Deserializer is infallible for Val (every JSON value has a Val).
    Val::deserialize(v).unwrap_or(Val::Null)
}

/// jaq value → JSON. Non-string object keys are printed as JSON, byte strings as text.
pub fn to_json(v: &Val) -> Value {
    match v {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Num(n) => num_to_json(n),
        Val::TStr(b) | Val::BStr(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        Val::Arr(items) => Value::Array(items.iter().map(to_json).collect()),
        Val::Obj(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Val::TStr(b) | Val::BStr(b) => String::from_utf8_lossy(b).into_owned(),
                        other => other.to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
    }
}

fn num_to_json(n: &jaq_json::Num) -> Value {
    match n {
        jaq_json::Num::Int(i) => Value::from(*i as i64),
        jaq_json::Num::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            // jq prints NaN as null and infinities as the largest doubles.
            .unwrap_or(Value::Null),
        other => serde_json::from_str(&other.to_string()).unwrap_or(Value::Null),
    }
}

/// JSON truthiness as jq and Ocean see it: only `null` and `false` are false… except that
/// Ocean's "identifier and blueprint must be truthy" is Python truthiness, where `""`, `0`
/// and `[]` are false too. This is the Python one.
pub fn python_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(src: &str, input: Value) -> Result<Option<Value>, String> {
        Program::compile(src)
            .unwrap()
            .first(&to_val(&input))
            .map(|o| o.map(|v| to_json(&v)))
    }

    #[test]
    fn first_output_only_and_empty_is_none() {
        assert_eq!(run(".[]", json!([1, 2])).unwrap(), Some(json!(1)));
        assert_eq!(run("empty", json!(null)).unwrap(), None);
        assert!(run("error(\"x\")", json!(null)).is_err());
    }

    #[test]
    fn string_plus_null_is_the_string() {
        // The default aws-v3 EC2 `arn` mapping relies on this.
        let out = run(
            r#""arn:aws:ec2:" + .__Region + ":" + .__AccountId + ":instance/" + .Properties.InstanceId"#,
            json!({"Properties": {"InstanceId": "i-1"}}),
        )
        .unwrap();
        assert_eq!(out, Some(json!("arn:aws:ec2:::instance/i-1")));
    }

    #[test]
    fn single_quotes_and_constants() {
        let p = Program::compile("'\"ec2Instance\"'".trim_matches('\'')).unwrap();
        assert_eq!(p.constant(), Some("ec2Instance"));
        assert_eq!(
            run(".a == 'x'", json!({"a": "x"})).unwrap(),
            Some(json!(true))
        );
        assert_eq!(
            run(r#"."it's""#, json!({"it's": 1})).unwrap(),
            Some(json!(1))
        );
    }

    #[test]
    fn compile_errors_are_descriptive() {
        let e = Program::compile(".a | ").unwrap_err();
        assert!(e.contains("syntax error"), "{e}");
        let e = Program::compile("nosuchfn(1)").unwrap_err();
        assert!(e.contains("nosuchfn"), "{e}");
    }

    #[test]
    fn numbers_round_trip() {
        assert_eq!(run(".", json!(12)).unwrap(), Some(json!(12)));
        assert_eq!(run(".", json!(1.5)).unwrap(), Some(json!(1.5)));
        assert_eq!(
            run(".a", json!({"a": [true, null, "s"]})).unwrap(),
            Some(json!([true, null, "s"]))
        );
    }
}
