//! JQ programs, compiled once with jaq and run per raw item.
//!
//! Ocean evaluates mappings with libjq 1.7 and uses only the **first output** of a program;
//! no output counts as `null`. [`Program::first`] gives exactly that, keeping "no output"
//! and "error" distinguishable so the caller can report misconfigurations.
//!
//! Before compiling, single quotes that delimit strings are rewritten to double quotes by
//! Ocean's rule (`.name == 'x'` works in users' mappings; see [`ocean_source`]). `env` and
//! `$ENV` are the process environment without this program's secrets ([`super::env`]).
//!
//! No expression can crash or hang the process: it is compiled on a thread with a large
//! stack (jaq's parser recurses once per nesting level), must nest at most [`MAX_DEPTH`]
//! deep (evaluation recurses the same way), and every evaluation runs under the stack and
//! step budgets of [`super::guard`]. A panic inside jaq fails that evaluation only. Errors
//! leave this module without the values they quote ([`super::redact`]).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, LazyLock, OnceLock};

use jaq_core::load::parse::Def;
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;
use serde::Deserialize;
use serde_json::Value;

use super::{env, guard, redact};

type Filter = jaq_core::Filter<data::JustLut<Val>>;

/// A compiled JQ expression.
#[derive(Clone)]
pub struct Program {
    /// jaq's compiled program. Each holds its own copy of jq's standard definitions (about
    /// 100 KiB), so a [`Fast`] program, which jaq never runs, drops it once compiled (the
    /// compile still checks the expression) and compiles again only if ever run through jaq:
    /// the 431 fast expressions of a mapping of every kind kept 48 MiB for nothing.
    filter: Arc<OnceLock<Result<Filter, String>>>,
    /// What is compiled: the expression after Ocean's rewriting (and the `env` stub).
    code: Arc<str>,
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

/// Definitions added after jaq's own so that builtins behave as in jq 1.7 where jaq
/// differs (each one is listed in `docs/jq-compatibility.md`), plus `env` and the guarded
/// `range`.
const PRELUDE: &str = include_str!("prelude.jq");

/// jaq's definitions and the prelude, parsed once, recursive ones guarded.
static DEFS: LazyLock<Vec<Def>> = LazyLock::new(|| {
    let prelude = jaq_core::load::parse(PRELUDE, |p| p.defs()).expect("prelude.jq parses");
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs())
        .chain(prelude);
    guard::guard_defs(defs.collect())
});

/// The user's expression, as the last definition of the prelude module (so that its
/// definitions are guarded like the others); the main program only calls it.
const MAIN: &str = "__mapping_expression";

/// Longest expression accepted, in bytes: far beyond any mapping, and small enough for
/// the compiler thread's stack whatever the nesting.
pub const MAX_SOURCE: usize = 16 * 1024;

/// Deepest expression accepted (levels of the syntax tree): evaluation recurses once per
/// level without passing the guard (about 5 KiB each in a debug build), on threads with
/// as little as 2 MiB of stack. The deepest of the 1,472 corpus expressions has 14.
pub const MAX_DEPTH: usize = 100;

/// Stack of the thread each expression is compiled on. Only the pages used are ever
/// touched; a [`MAX_SOURCE`] expression nested as deep as it can be needs far less.
const COMPILER_STACK: usize = 512 << 20;

/// Added to the compile error of an expression with single quotes.
const SINGLE_QUOTE_HINT: &str = "as in Ocean, a single quote delimits a string only at either \
     end of the expression or next to whitespace, not next to a bracket, `=` or inside \
     a double-quoted string; double quotes always work";

/// Ocean's stub when `allowEnvironmentVariablesJqAccess` is false.
const NO_ENV: &str = "def env: {}; {} as $ENV | ";

impl Program {
    /// Compiles `source` with environment access, as Ocean's default.
    pub fn compile(source: &str) -> Result<Program, String> {
        Program::compile_with(source, true)
    }

    /// Compiles `source`; `allow_env: false` makes `env` and `$ENV` empty objects. The
    /// error is a one-line description with the offending token.
    ///
    /// Costs a thread start (tens of microseconds): expressions are compiled once per run.
    pub fn compile_with(source: &str, allow_env: bool) -> Result<Program, String> {
        if source.len() > MAX_SOURCE {
            return Err(format!(
                "the expression is {} bytes long; at most {MAX_SOURCE} are accepted",
                source.len()
            ));
        }
        let user = rewrite_single_quotes(source);
        let code = if allow_env {
            user.clone()
        } else {
            format!("{NO_ENV}{user}")
        };
        let filter = compile_on_thread(&code).map_err(|e| {
            if source.contains('\'') {
                // The rewriting is Ocean's, which surprises: say why the quotes did not work.
                format!("{e} ({SINGLE_QUOTE_HINT})")
            } else {
                e
            }
        })?;
        let fast = Fast::detect(&user);
        let compiled = OnceLock::new();
        if fast.is_none() {
            let _ = compiled.set(Ok(filter));
        }
        Ok(Program {
            filter: Arc::new(compiled),
            code: code.into(),
            constant: constant_string(user.trim()),
            fast,
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
        self.fast
            .as_ref()
            .map(|f| f.eval(input).map_err(|e| redact::error(&e, &self.source)))
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
        // A literal (a selector's `true`) is itself whatever the input: no jaq program.
        if let Some(Fast::Literal(v)) = &self.fast {
            return Ok(Some(to_val(v)));
        }
        let (result, spent) = self.run(input, guard::INLINE);
        if !spent {
            return result;
        }
        // Too much for the caller's thread: once more, on a thread with room to spare.
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("jq-heavy".into())
                .stack_size(guard::DEDICATED_STACK)
                .spawn_scoped(scope, || self.run(input, guard::DEDICATED).0)
                .map_err(|e| format!("cannot start a thread for a long JQ evaluation: {e}"))?
                .join()
                .unwrap_or_else(|_| Err(JAQ_PANICKED.into()))
        })
    }

    /// One evaluation within `limits`, and whether it ran out of them.
    fn run(&self, input: &Val, limits: guard::Limits) -> (Result<Option<Val>, String>, bool) {
        let filter = match self.filter.get_or_init(|| compile_on_thread(&self.code)) {
            Ok(filter) => filter,
            Err(e) => return (Err(e.clone()), false),
        };
        let budget = guard::Budget::enter(limits);
        let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new([env::current()]));
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let mut out = filter.id.run((ctx, input.clone())).map(unwrap_valr);
            match out.next() {
                None => Ok(None),
                Some(Ok(v)) => Ok(Some(v)),
                Some(Err(e)) => Err(e.to_string()),
            }
        }));
        let result = match outcome {
            Ok(result) => result.map_err(|e| redact::error(&e, &self.source)),
            Err(_) => Err(JAQ_PANICKED.into()),
        };
        (result, budget.spent())
    }
}

/// The error when jaq panics (a bug in jaq): only that evaluation fails.
const JAQ_PANICKED: &str = "jq failed on this input (a bug in the jq engine, jaq)";

/// [`compile_filter`] on a thread of its own, with the stack a deeply nested expression needs.
fn compile_on_thread(code: &str) -> Result<Filter, String> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("jq-compile".into())
            .stack_size(COMPILER_STACK)
            .spawn_scoped(scope, || compile_filter(code))
            .map_err(|e| format!("cannot start the thread that compiles JQ: {e}"))?
            .join()
            .unwrap_or_else(|_| Err("the JQ compiler failed on this expression".into()))
    })
}

/// Parses, guards and compiles `code` (on the compiler thread).
fn compile_filter(code: &str) -> Result<Filter, String> {
    let brackets = bracket_depth(code);
    if brackets > MAX_DEPTH {
        return Err(format!(
            "the expression nests {brackets} brackets deep; at most {MAX_DEPTH} levels are accepted"
        ));
    }
    let arena = Arena::default();
    // The loader's errors name the offending token; the term itself is parsed again
    // below, to become a definition.
    Loader::new(std::iter::empty())
        .load(&arena, File { code, path: () })
        .map_err(load_errors)?;
    let mut body = jaq_core::load::parse(code, |p| p.term())
        .ok_or("syntax error: not a single JQ expression")?;
    let depth = guard::depth(&mut body);
    if depth > MAX_DEPTH {
        return Err(format!(
            "the expression nests {depth} levels deep; at most {MAX_DEPTH} are accepted"
        ));
    }
    let main = guard::guard_defs(vec![Def {
        name: MAIN,
        args: Vec::new(),
        body,
    }]);
    let modules = Loader::new(DEFS.iter().cloned().chain(main))
        .load(
            &arena,
            File {
                code: MAIN,
                path: (),
            },
        )
        .map_err(load_errors)?;
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs())
        .chain([guard::native(), guard::nesting_native()]);
    Compiler::default()
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
        })
}

/// How deep `(`, `[`, `{`, strings and their `\\(…)` interpolations nest in `code`:
/// a cheap bound checked before the parser, which recurses once per level.
fn bracket_depth(code: &str) -> usize {
    // What is open: a bracket, a string, or an interpolation inside a string.
    #[derive(PartialEq)]
    enum Open {
        Bracket,
        Str,
        Interpolation,
    }
    let mut open: Vec<Open> = Vec::new();
    let mut deepest = 0;
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        let in_string = open.last() == Some(&Open::Str);
        match c {
            '\\' if in_string => {
                // An escape: `\(` opens an interpolation, anything else is one character.
                let escaped = chars.next();
                if escaped == Some('(') {
                    open.push(Open::Interpolation);
                }
            }
            '"' if in_string => {
                open.pop();
            }
            _ if in_string => {}
            '"' => open.push(Open::Str),
            '(' | '[' | '{' => open.push(Open::Bracket),
            ')' | ']' | '}' => {
                open.pop();
            }
            _ => {}
        }
        deepest = deepest.max(open.len());
    }
    deepest
}

fn load_errors<P>(errs: jaq_core::load::Errors<&str, P>) -> String {
    let mut parts = Vec::new();
    for (_, e) in errs {
        match e {
            jaq_core::load::Error::Io(v) => {
                parts.extend(v.into_iter().map(|(_, m)| m));
            }
            jaq_core::load::Error::Lex(v) => parts.extend(
                v.into_iter()
                    .map(|(exp, at)| format!("expected {} {}", exp.as_str(), near(at))),
            ),
            jaq_core::load::Error::Parse(v) => parts.extend(
                v.into_iter()
                    .map(|(exp, at)| format!("expected {} {}", exp.as_str(), near(at))),
            ),
        }
    }
    format!("syntax error: {}", parts.join("; "))
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

/// The program text jq sees once Ocean has preprocessed a mapping expression: single quotes
/// that delimit strings become double quotes.
pub fn ocean_source(src: &str) -> String {
    rewrite_single_quotes(src)
}

/// Ocean 0.48's rewriting (`_format_filter`, the same rule as Port's UI), which judges a
/// single quote by its neighbours, not by reading strings:
/// - an opening one, at the start or after whitespace, not followed by whitespace or `"`;
/// - a closing one, not after whitespace or `"`, followed by whitespace or the end.
///
/// Anything else stays: `startswith('x')` and `.a=='x'` keep their quotes and fail to
/// compile, as they do in Ocean (where every item then gets `null`); a quote inside a
/// double-quoted string is rewritten like any other. Ocean applies it as one regex
/// substitution, so a whitespace character taken by a closing quote cannot also open the
/// next string (`'a' 'b'` → `"a" 'b"`). Following it exactly keeps what compiles here what
/// compiles in Ocean (`tests/jq_compat.rs` compares the two on every short string).
fn rewrite_single_quotes(src: &str) -> String {
    if !src.contains('\'') {
        return src.to_string();
    }
    // Python's `\s`: Unicode whitespace plus the ASCII separators U+001C..U+001F.
    let space = |c: Option<&char>| {
        c.is_some_and(|c| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(c))
    };
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let opens_at = |q: usize| {
            chars.get(q) == Some(&'\'')
                && !space(chars.get(q + 1))
                && chars.get(q + 1) != Some(&'"')
        };
        if i == 0 && opens_at(0) {
            out.push('"');
            i += 1;
        } else if space(Some(&c)) && opens_at(i + 1) {
            out.push(c);
            out.push('"');
            i += 2;
        } else if c == '\''
            && !(i > 0 && (space(chars.get(i - 1)) || chars[i - 1] == '"'))
            && (i + 1 == chars.len() || space(chars.get(i + 1)))
        {
            out.push('"');
            // The whitespace after it belongs to this match.
            out.extend(chars.get(i + 1));
            i += 2;
        } else {
            out.push(c);
            i += 1;
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

    /// A fast program (a path or literal) keeps no compiled jaq program, which holds a copy
    /// of jq's standard definitions each: compiled to check it, then dropped, and compiled
    /// again only when something runs it through jaq, with the same answer.
    #[test]
    fn fast_programs_keep_no_jaq_program_until_jaq_runs_them() {
        let fast = Program::compile(".Properties.Name").unwrap();
        assert!(fast.fast.is_some());
        assert!(fast.filter.get().is_none(), "kept a compiled program");
        let input = json!({"Properties": {"Name": "zinc"}});
        assert_eq!(fast.first_json(&input).unwrap(), Some(json!("zinc")));
        assert!(fast.filter.get().is_none(), "the fast path compiled jaq");
        let through_jaq = fast.first(&to_val(&input)).unwrap().map(|v| to_json(&v));
        assert_eq!(through_jaq, Some(json!("zinc")));
        assert!(fast.filter.get().is_some());

        let literal = Program::compile("true").unwrap();
        assert_eq!(
            literal.first(&to_val(&input)).unwrap(),
            Some(to_val(&json!(true)))
        );
        assert!(literal.filter.get().is_none(), "a literal compiled jaq");

        let slow = Program::compile(".Properties.Name | ascii_downcase").unwrap();
        assert!(slow.fast.is_none() && slow.filter.get().is_some());
        // A bad expression still fails at compile time, fast-looking or not.
        assert!(Program::compile(".Properties.").is_err());
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
    fn single_quotes_are_rewritten_by_oceans_rule() {
        for (src, jq_sees) in [
            (".a == 'x'", r#".a == "x""#),
            (
                "if .s == 'on' then 'up' else 'down' end",
                r#"if .s == "on" then "up" else "down" end"#,
            ),
            (".a // ''", r#".a // """#),
            ("'x'", r#""x""#),
            // Next to a bracket or `=`, a quote is not a delimiter: left as it is.
            ("startswith('t3')", "startswith('t3')"),
            ("select(.k == 'N')", r#"select(.k == "N')"#),
            (".a=='x'", r#".a=='x""#),
            (".a + ' / ' + .b", ".a + ' / ' + .b"),
            // Strings are not read: an apostrophe stays, a quoted word does not.
            (r#""it's""#, r#""it's""#),
            (r#""is 'big' here""#, r#""is "big" here""#),
            // The whitespace a closing quote takes cannot open the next string.
            ("'a' 'b'", r#""a" 'b""#),
            ("'\u{a0}", "\"\u{a0}"),
            ("'\u{1c}", "\"\u{1c}"),
        ] {
            assert_eq!(ocean_source(src), jq_sees, "{src}");
        }
        let e = Program::compile("startswith('t3')").unwrap_err();
        assert!(e.contains(SINGLE_QUOTE_HINT), "{e}");
        assert!(Program::compile(r#""\(.a) is 'big' here""#).is_err());
        let e = Program::compile(".a | ").unwrap_err();
        assert!(!e.contains(SINGLE_QUOTE_HINT), "{e}");
    }

    #[test]
    fn compile_errors_are_descriptive() {
        let e = Program::compile(".a | ").unwrap_err();
        assert!(e.contains("syntax error"), "{e}");
        let e = Program::compile("nosuchfn(1)").unwrap_err();
        assert!(e.contains("nosuchfn"), "{e}");
    }

    #[test]
    fn endless_recursion_is_an_error_not_a_crash() {
        let e = run("def f(g): g | f(g + 1); f(.)", json!(0)).unwrap_err();
        assert!(e.contains("steps") || e.contains("recursion"), "{e}");
        for src in [
            "def f: 1 + f; f",
            "def f: [f]; f",
            "def f: {a: f}; f",
            "1 + __mapping_expression",
            "def f: def g: 1 + f; g; f",
        ] {
            let e = run(src, json!(0)).unwrap_err();
            assert!(e.starts_with("recursion too deep"), "{src}: {e}");
        }
    }

    #[test]
    fn endless_loops_stop() {
        for src in [
            "until(false; .)",
            "def f: f; f",
            "last(range(1e18))",
            "[limit(1e9; repeat(1))] | length",
            "[range(infinite)] | length",
            "last(recurse(. + 1))",
            "def f: try error(1) catch f; f",
            // Each step nests the value one level deeper; freeing it must not crash.
            "def f: [.] | f; f",
            "reduce range(1e9) as $i (null; [.])",
            "def f: .a | f; path(f)",
        ] {
            let e = run(src, json!(null)).unwrap_err();
            assert!(
                e.contains(&format!("after {} steps", guard::DEDICATED.steps)),
                "{src}: {e}"
            );
        }
    }

    #[test]
    fn bounded_recursion_and_loops_still_work() {
        let ok = |src: &str, input: Value, want: Value| {
            assert_eq!(run(src, input).unwrap(), Some(want), "{src}");
        };
        ok(
            "def f: if . == 0 then 0 else (. - 1 | f) + 1 end; 20 | f",
            json!(null),
            json!(20),
        );
        ok("[range(100000)] | length", json!(null), json!(100000));
        ok("[range(0; 10; 3)]", json!(null), json!([0, 3, 6, 9]));
        ok("[range(1, 2; 4)]", json!(null), json!([1, 2, 3, 2, 3]));
        ok("last(until(. >= 100000; . + 1))", json!(0), json!(100000));
        let mut deep = json!("leaf");
        for _ in 0..100 {
            deep = json!({"a": [deep]});
        }
        ok("[recurse | strings] | length", deep.clone(), json!(1));
        ok("[paths] | length", deep.clone(), json!(200));
        ok("[tostream] | length", deep, json!(201));
        // The guard is a path and an update target like the identity.
        let dig = "def f: if type == \"object\" then .a | f else . end;";
        ok(
            &format!("{dig} [path(f)]"),
            json!({"a": {"a": 1}}),
            json!([["a", "a"]]),
        );
        ok(
            &format!("{dig} f |= 2"),
            json!({"a": {"a": 1}}),
            json!({"a": {"a": 2}}),
        );
        // Past the inline budget, on a thread of its own; budgets are per evaluation.
        ok("[range(150000)] | length", json!(null), json!(150000));
        ok("[range(150000)] | length", json!(null), json!(150000));
        // A program that catches the guard's error still gets the full budget.
        ok(
            "try ([range(3000)] | length) catch 0",
            json!(null),
            json!(3000),
        );
        ok(
            "def f: if . == 0 then 0 else (. - 1 | f) + 1 end; 200 | f",
            json!(null),
            json!(200),
        );
    }

    #[test]
    fn expressions_that_nest_too_deep_or_are_too_long_are_refused() {
        let deep = format!("{}1{}", "[".repeat(8_000), "]".repeat(8_000));
        let e = Program::compile(&deep).unwrap_err();
        assert!(e.contains("nests"), "{e}");
        let chain = vec!["1"; MAX_DEPTH + 1].join(" + ");
        let e = Program::compile(&chain).unwrap_err();
        assert!(e.contains("nests"), "{e}");
        assert!(Program::compile(&vec!["1"; MAX_DEPTH / 2].join(" + ")).is_ok());
        let e = Program::compile(&" ".repeat(MAX_SOURCE + 1)).unwrap_err();
        assert!(e.contains("bytes long"), "{e}");
        for prefix in ["-", "try ", "-(", "def f: "] {
            let src = prefix.repeat(MAX_SOURCE / prefix.len());
            assert!(Program::compile(&src).is_err());
        }
        let e = Program::compile(&"-".repeat(MAX_SOURCE)).unwrap_err();
        assert!(e.contains("syntax error"), "{e}");
    }

    #[test]
    fn bracket_depth_counts_strings_and_interpolations() {
        assert_eq!(bracket_depth(".a"), 0);
        assert_eq!(bracket_depth("[.a, {b: (1)}]"), 3);
        assert_eq!(bracket_depth(r#""a(b[c{""#), 1, "brackets inside a string");
        assert_eq!(bracket_depth(r#""\"(" | ."#), 1, "an escaped quote");
        assert_eq!(bracket_depth(r#""x\(.a | "y\([1])")""#), 5);
    }

    #[test]
    fn env_is_the_filtered_environment() {
        assert_eq!(run("env == $ENV", json!(null)).unwrap(), Some(json!(true)));
        assert_eq!(
            run("$ENV | has(\"PATH\")", json!(null)).unwrap(),
            Some(json!(std::env::var_os("PATH").is_some()))
        );
    }

    #[test]
    fn errors_do_not_quote_the_data() {
        let e = run(".a | .x", json!({"a": "secret-value-123"})).unwrap_err();
        assert_eq!(e, "cannot index string (16 chars) with \"x\"");
        let p = Program::compile(".a.x").unwrap();
        let e = p.first_json(&json!({"a": "secret"})).unwrap_err();
        assert!(!e.contains("secret"), "{e}");
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
