//! Misconfiguration reporting: mapping fields that came out `null`.
//!
//! Ocean logs "Unable to find valid data for: …" per batch, at ERROR when the field is
//! required by the blueprint and WARNING otherwise. Here each (resource index, field) is
//! counted over the whole run; its first few occurrences are logged with the expression and
//! jq's error, and [`Misconfigurations::log_summary`] prints one line per field at the end.
//! The identifier and the blueprint are always required (an entity without them is not
//! sent); other fields are required when the blueprint says so (`schema.required`, or a
//! relation with `required: true`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::{FieldIssue, Resource};

/// Examples logged per (resource, field).
const EXAMPLES_PER_FIELD: u64 = 3;

/// Run-wide counts of misconfigured fields.
#[derive(Debug, Default)]
pub struct Misconfigurations {
    /// Required field paths (`properties.x`, `relations.y`) per blueprint.
    required: HashMap<String, BTreeSet<String>>,
    by_field: BTreeMap<(usize, String), Entry>,
}

#[derive(Debug)]
struct Entry {
    kind: String,
    expression: String,
    count: u64,
    required: bool,
}

/// One line of the end-of-run summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSummary {
    /// Resource index.
    pub resource: usize,
    /// Kind.
    pub kind: String,
    /// Field path.
    pub field: String,
    /// Expression.
    pub expression: String,
    /// How many items had it `null`.
    pub count: u64,
    /// Whether the blueprint requires it (logged as an error).
    pub required: bool,
}

impl Misconfigurations {
    /// Starts a count; `blueprints` are the Port blueprint objects known for this run.
    pub fn new(blueprints: &[Value]) -> Misconfigurations {
        Misconfigurations {
            required: required_fields(blueprints),
            by_field: BTreeMap::new(),
        }
    }

    /// Records the issues of one mapped item.
    pub fn record(&mut self, resource: &Resource, issues: &mut Vec<FieldIssue>) {
        for issue in issues.drain(..) {
            let required = issue.field == "identifier"
                || issue.field == "blueprint"
                || resource
                    .constant_blueprint()
                    .and_then(|bp| self.required.get(bp))
                    .is_some_and(|set| set.contains(&issue.field));
            let entry = self
                .by_field
                .entry((resource.index, issue.field.clone()))
                .or_insert_with(|| Entry {
                    kind: resource.kind.clone(),
                    expression: issue.expression.clone(),
                    count: 0,
                    required,
                });
            entry.count += 1;
            if entry.count <= EXAMPLES_PER_FIELD {
                let error = issue.error.as_deref().unwrap_or("no value");
                if required {
                    tracing::error!(kind = %resource.kind, resource_index = resource.index, field = %issue.field,
                        expression = %issue.expression, error, "Unable to find valid data for a required field");
                } else {
                    tracing::warn!(kind = %resource.kind, resource_index = resource.index, field = %issue.field,
                        expression = %issue.expression, error, "Unable to find valid data for field; it is sent as null");
                }
            }
        }
    }

    /// Total misconfigured evaluations.
    pub fn total(&self) -> u64 {
        self.by_field.values().map(|e| e.count).sum()
    }

    /// One line per (resource, field), in resource order.
    pub fn summary(&self) -> Vec<FieldSummary> {
        self.by_field
            .iter()
            .map(|((resource, field), e)| FieldSummary {
                resource: *resource,
                kind: e.kind.clone(),
                field: field.clone(),
                expression: e.expression.clone(),
                count: e.count,
                required: e.required,
            })
            .collect()
    }

    /// Logs the summary: ERROR for required fields, WARNING otherwise.
    pub fn log_summary(&self) {
        for s in self.summary() {
            if s.required {
                tracing::error!(kind = %s.kind, resource_index = s.resource, field = %s.field, expression = %s.expression,
                    items = s.count, "mapping misconfiguration (required field) over the run");
            } else {
                tracing::warn!(kind = %s.kind, resource_index = s.resource, field = %s.field, expression = %s.expression,
                    items = s.count, "mapping misconfiguration over the run");
            }
        }
    }
}

/// `properties.<p>` for `schema.required` and `relations.<r>` for required relations.
pub fn required_fields(blueprints: &[Value]) -> HashMap<String, BTreeSet<String>> {
    let mut out = HashMap::new();
    for bp in blueprints {
        let Some(id) = bp["identifier"].as_str() else {
            continue;
        };
        let mut set = BTreeSet::new();
        for p in bp["schema"]["required"].as_array().into_iter().flatten() {
            if let Some(p) = p.as_str() {
                set.insert(format!("properties.{p}"));
            }
        }
        for (name, rel) in bp["relations"].as_object().into_iter().flatten() {
            if rel["required"].as_bool() == Some(true) {
                set.insert(format!("relations.{name}"));
            }
        }
        out.insert(id.to_string(), set);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::Item;
    use crate::mapping::Mapping;
    use serde_json::json;

    #[test]
    fn required_fields_are_counted_as_errors_and_the_rest_as_warnings() {
        let blueprints = [json!({
            "identifier": "ec2Instance",
            "schema": {"properties": {"state": {}, "arn": {}}, "required": ["state"]},
            "relations": {"account": {"target": "awsAccount", "required": true}, "vpc": {"target": "vpc", "required": false}}
        })];
        let mapping = Mapping::from_json(&json!({"resources": [{
            "kind": "AWS::EC2::Instance", "selector": {"query": "true"},
            "port": {"entity": {"mappings": {
                "identifier": ".id", "blueprint": "\"ec2Instance\"",
                "properties": {"state": ".state", "arn": ".arn"},
                "relations": {"account": ".account", "vpc": ".vpc"}
            }}}
        }]}))
        .unwrap();
        let mut m = Misconfigurations::new(&blueprints);
        let r = &mapping.resources[0];
        for item in [json!({"id": "a"}), json!({"id": "b", "state": "x"})] {
            let (mut issues, mut out) = (Vec::new(), Vec::new());
            r.map(&Item::json(&item), &mut issues, &mut out);
            m.record(r, &mut issues);
        }
        let summary: Vec<(String, u64, bool)> = m
            .summary()
            .into_iter()
            .map(|s| (s.field, s.count, s.required))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("properties.arn".into(), 2, false),
                ("properties.state".into(), 1, true),
                ("relations.account".into(), 2, true),
                ("relations.vpc".into(), 2, false),
            ]
        );
        assert_eq!(m.total(), 7);
    }
}
