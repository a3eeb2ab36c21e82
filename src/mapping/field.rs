//! One mapping field: a JQ expression, or a search query whose leaves are JQ.
//!
//! Ocean evaluates a mapping value recursively: a string is a JQ program (first output,
//! `null` on error or no output), an object maps each key, a list maps each element. That
//! is how search-query identifiers, relations and teams work
//! (`{combinator: '"and"', rules: [{property: '"$identifier"', operator: '"="', value: .x}]}`).

use serde_json::{Map, Value};

use super::jq::Program;
use super::{FieldIssue, Item};

/// A compiled mapping value.
#[derive(Debug, Clone)]
pub enum Field {
    /// A JQ expression.
    Jq(Program),
    /// A search query or other object: each value evaluated.
    Object(Vec<(String, Field)>),
    /// A list: each element evaluated.
    List(Vec<Field>),
    /// An explicit `null` in the mapping.
    Null,
}

/// An expression of one resource that does not compile.
#[derive(Debug, Clone)]
pub struct ExpressionError {
    /// Field path, e.g. `mappings.properties.arn`.
    pub field: String,
    /// The expression as written.
    pub expression: String,
    /// What is wrong.
    pub message: String,
}

impl Field {
    /// Compiles a mapping value found at `path`; compile errors go to `problems`.
    pub fn compile(
        value: &Value,
        path: &str,
        allow_env: bool,
        problems: &mut Vec<ExpressionError>,
    ) -> Option<Field> {
        let jq = |src: &str, problems: &mut Vec<ExpressionError>| match Program::compile_with(
            src, allow_env,
        ) {
            Ok(p) => Some(Field::Jq(p)),
            Err(message) => {
                problems.push(ExpressionError {
                    field: path.to_string(),
                    expression: src.to_string(),
                    message,
                });
                None
            }
        };
        match value {
            Value::String(s) => jq(s, problems),
            // pydantic coerces scalars to the `str` the field is declared as.
            Value::Number(n) => jq(&n.to_string(), problems),
            Value::Bool(b) => jq(&b.to_string(), problems),
            Value::Null => Some(Field::Null),
            Value::Object(map) => {
                let mut fields = Vec::with_capacity(map.len());
                let mut ok = true;
                for (k, v) in map {
                    match Field::compile(v, &format!("{path}.{k}"), allow_env, problems) {
                        Some(f) => fields.push((k.clone(), f)),
                        None => ok = false,
                    }
                }
                ok.then_some(Field::Object(fields))
            }
            Value::Array(items) => {
                let mut fields = Vec::with_capacity(items.len());
                let mut ok = true;
                for (i, v) in items.iter().enumerate() {
                    match Field::compile(v, &format!("{path}[{i}]"), allow_env, problems) {
                        Some(f) => fields.push(f),
                        None => ok = false,
                    }
                }
                ok.then_some(Field::List(fields))
            }
        }
    }

    /// The JQ program, when this field is a plain expression.
    pub fn program(&self) -> Option<&Program> {
        match self {
            Field::Jq(p) => Some(p),
            _ => None,
        }
    }

    /// Evaluates the field on `input`; `null` results are pushed onto `issues` with the
    /// field path (`path` is built lazily: only failures pay for it).
    pub fn eval(
        &self,
        input: &Item,
        path: &dyn Fn() -> String,
        issues: &mut Vec<FieldIssue>,
    ) -> Value {
        match self {
            Field::Null => Value::Null,
            Field::Jq(p) => {
                let (value, error) = match input.first(p) {
                    Ok(Some(v)) => (v, None),
                    Ok(None) => (Value::Null, None),
                    Err(e) => (Value::Null, Some(e)),
                };
                if value.is_null() {
                    issues.push(FieldIssue {
                        field: path(),
                        expression: p.source().to_string(),
                        error,
                    });
                }
                value
            }
            Field::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, f)| {
                        (
                            k.clone(),
                            f.eval(input, &|| format!("{}.{k}", path()), issues),
                        )
                    })
                    .collect::<Map<String, Value>>(),
            ),
            Field::List(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, f)| f.eval(input, &|| format!("{}[{i}]", path()), issues))
                    .collect(),
            ),
        }
    }
}
