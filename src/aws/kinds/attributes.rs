//! String attribute maps (SQS `GetQueueAttributes`, SNS `GetTopicAttributes`) read the way
//! aws-v3's models read them: only the declared attributes, in the model's order, each
//! string coerced to the declared type as pydantic's lax mode does (`"30"` → `30`,
//! `"true"` → `true`).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::ListCtx;

/// How aws-v3's model types an attribute.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    Str,
    Int,
    Bool,
}

/// Adds to `p` the attributes of `declared` (in its order) that `attributes` holds, typed.
/// Others are left out; so is a value pydantic would reject (aws-v3 would fail the batch
/// on it: here the key is left out with a warning, so one odd value cannot stop a sync).
pub(crate) fn typed(
    ctx: &ListCtx,
    resource: &str,
    attributes: &HashMap<&str, &str>,
    declared: &[(&str, Ty)],
    p: &mut Map<String, Value>,
) {
    for (name, ty) in declared {
        let Some(raw) = attributes.get(name) else {
            continue;
        };
        match coerce(raw, *ty) {
            Some(v) => {
                p.insert((*name).to_string(), v);
            }
            None => {
                tracing::warn!(account = %ctx.account.id, region = %ctx.region, resource, attribute = name, value = raw, "attribute is not of the type aws-v3 declares; left out");
            }
        }
    }
    for name in attributes.keys() {
        if !declared.iter().any(|(n, _)| n == name) {
            tracing::debug!(account = %ctx.account.id, region = %ctx.region, resource, attribute = name, "attribute aws-v3 does not declare; left out");
        }
    }
}

/// An attribute string as pydantic's lax mode reads it into aws-v3's declared type: an
/// integer from its decimal digits, a boolean from `true`/`false` and pydantic's other
/// spellings. `None` when pydantic would reject it.
fn coerce(raw: &str, ty: Ty) -> Option<Value> {
    match ty {
        Ty::Str => Some(json!(raw)),
        Ty::Int => raw
            .trim()
            .replace('_', "")
            .parse::<i64>()
            .ok()
            .map(Value::from),
        Ty::Bool => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" | "t" | "y" => Some(json!(true)),
            "false" | "0" | "no" | "off" | "f" | "n" => Some(json!(false)),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_strings_are_coerced_as_pydantic_does() {
        assert_eq!(coerce("30", Ty::Int), Some(json!(30)));
        assert_eq!(coerce("262144", Ty::Int), Some(json!(262144)));
        assert_eq!(coerce("true", Ty::Bool), Some(json!(true)));
        assert_eq!(coerce("False", Ty::Bool), Some(json!(false)));
        assert_eq!(coerce("1676665337", Ty::Str), Some(json!("1676665337")));
        assert_eq!(coerce("thirty", Ty::Int), None);
        assert_eq!(coerce("3.5", Ty::Int), None);
        assert_eq!(coerce("maybe", Ty::Bool), None);
    }
}
