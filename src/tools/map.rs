//! `map`: what a mapping makes of given raw items, offline.
//!
//! For each item and each resource of the requested kind: the entity it yields, or why it
//! yields none (region not allowed, selector false, selector not boolean, empty identifier,
//! itemsToParse not a list), plus every field that came out `null` and why.

use serde_json::{Value, json};

use crate::aws::kinds;
use crate::mapping::{FieldIssue, Item, Mapping, Outcome};

/// Reads raw items: one JSON value, an array of them, or a stream of values (JSON lines).
pub(crate) fn parse_items(text: &str) -> Result<Vec<Value>, String> {
    let mut values = Vec::new();
    for v in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        values.push(v.map_err(|e| format!("input is not JSON: {e}"))?);
    }
    Ok(match values.as_slice() {
        [Value::Array(items)] => items.clone(),
        _ => values,
    })
}

/// Maps `items` of `kind` with every resource of that kind in `mapping`.
pub(crate) fn map_items(mapping: &Mapping, kind: &str, items: &[Value]) -> Value {
    let regional = kinds::is_regional(kind);
    let mut entities = Vec::new();
    let mut dropped = Vec::new();
    let mut nulls = Vec::new();
    let mut issues: Vec<FieldIssue> = Vec::new();
    let mut outcomes = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let val = Item::json(item);
        let region = item["__ExtraContext"]["Region"].as_str();
        for r in mapping.resources.iter().filter(|r| r.kind == kind) {
            if regional
                && let Some(region) = region
                && !r.region_policy.allows(region)
            {
                dropped.push(json!({"item": i, "resource": r.index,
                    "reason": format!("region {region} is not allowed by selector.regionPolicy")}));
                continue;
            }
            r.map(&val, &mut issues, &mut outcomes);
            for issue in issues.drain(..) {
                nulls.push(json!({"item": i, "resource": r.index, "field": issue.field,
                    "expression": issue.expression, "error": issue.error}));
            }
            for outcome in outcomes.drain(..) {
                match outcome {
                    Outcome::Entity(e) => entities.push(e.body),
                    Outcome::Filtered => dropped.push(
                        json!({"item": i, "resource": r.index, "reason": "the selector is false"}),
                    ),
                    Outcome::Dropped(why) => {
                        dropped.push(json!({"item": i, "resource": r.index, "reason": why}))
                    }
                    Outcome::ItemError(e) => {
                        dropped.push(json!({"item": i, "resource": r.index, "reason": e}))
                    }
                }
            }
        }
    }
    json!({"entities": entities, "dropped": dropped, "null_fields": nulls})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::defaults;

    #[test]
    fn entities_and_reasons() {
        let mut config = defaults::port_app_config();
        config["resources"][2]["selector"]["query"] =
            json!(".Properties.State.Name == \"running\"");
        config["resources"][2]["selector"]["regionPolicy"] = json!({"deny": ["eu-west-1"]});
        let mapping = Mapping::from_json(&config).unwrap();
        let items = parse_items(
            r#"{"Type":"AWS::EC2::Instance","Properties":{"InstanceId":"i-1","State":{"Name":"running"}},"__ExtraContext":{"AccountId":"1","Region":"us-east-1"}}
               {"Type":"AWS::EC2::Instance","Properties":{"InstanceId":"i-2","State":{"Name":"stopped"}},"__ExtraContext":{"AccountId":"1","Region":"us-east-1"}}
               {"Type":"AWS::EC2::Instance","Properties":{"InstanceId":"i-3","State":{"Name":"running"}},"__ExtraContext":{"AccountId":"1","Region":"eu-west-1"}}"#,
        )
        .unwrap();
        let out = map_items(&mapping, "AWS::EC2::Instance", &items);
        assert_eq!(out["entities"].as_array().unwrap().len(), 1);
        assert_eq!(out["entities"][0]["identifier"], "i-1");
        assert_eq!(out["dropped"][0]["reason"], "the selector is false");
        assert!(
            out["dropped"][1]["reason"]
                .as_str()
                .unwrap()
                .contains("regionPolicy")
        );
        assert!(
            out["null_fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["field"] == "properties.instanceType")
        );
        assert_eq!(parse_items("[1, 2]").unwrap().len(), 2);
        assert!(parse_items("{").is_err());
    }
}
