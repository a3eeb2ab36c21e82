//! From raw items to Port entities, with Ocean's semantics.
//!
//! The port app config ([`config::PortAppConfig`]) is compiled once per run
//! ([`Mapping::compile`]): every JQ expression of every resource, with all problems reported
//! together (resource index, kind, field, expression) before anything is written. Then, per
//! raw item and resource ([`Resource::map`]):
//!
//! 1. the selector runs first and must yield a JSON boolean (anything else is an error for
//!    that item, which Ocean counts as a kind error);
//! 2. each field takes the **first output** of its expression; an expression that errors or
//!    yields nothing gives `null`, and the field is recorded as a misconfiguration;
//! 3. the entity is sent only if `identifier` and `blueprint` are non-empty;
//! 4. the entity JSON holds only the keys present in the mapping.
//!
//! Not yet here (they slot into [`Resource`]): `itemsToParse`, search-query identifiers and
//! relations, and a jq-compatibility prelude.

pub mod config;
pub mod jq;

use std::collections::BTreeMap;
use std::fmt;

use jaq_json::Val;
use serde_json::{Map, Value};

use config::{PortAppConfig, RegionPolicy};
use jq::Program;

/// A mapping that cannot be used; nothing has been written when this is returned.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The config object does not have the port app config's shape.
    #[error("the mapping is not a valid port app config: {0}")]
    Shape(String),
    /// Some expressions do not compile (all of them are listed).
    #[error("{} problem(s) in the mapping:\n{}", .0.len(), list(.0))]
    Invalid(Vec<Problem>),
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One problem found while compiling the mapping.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Index in `resources[]`.
    pub resource: usize,
    /// The resource's kind.
    pub kind: String,
    /// Field path, e.g. `mappings.properties.arn` or `selector.query`.
    pub field: String,
    /// The expression as written.
    pub expression: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "resources[{}] ({}) {}: {} in `{}`",
            self.resource, self.kind, self.field, self.message, self.expression
        )
    }
}

/// A compiled mapping.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The flags that go to Port with every upsert/delete.
    pub delete_dependent_entities: bool,
    /// `create_missing_related_entities` query parameter.
    pub create_missing_related_entities: bool,
    /// `merge` query parameter.
    pub enable_merge_entity: bool,
    /// Deletion threshold (used by reconciliation).
    pub entity_deletion_threshold: f64,
    /// Compiled resources, in config order.
    pub resources: Vec<Resource>,
}

/// One compiled `resources[]` entry.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Index in `resources[]` (Ocean's `kind-index`).
    pub index: usize,
    /// `AWS::X::Y`.
    pub kind: String,
    /// Where to list.
    pub region_policy: RegionPolicy,
    selector: Program,
    identifier: Program,
    blueprint: Program,
    /// Optional fields, in mapping order: `title`, `icon`, `team`.
    top: Vec<(&'static str, Program)>,
    properties: Vec<(String, Program)>,
    relations: Vec<(String, Program)>,
}

/// A Port entity produced by the mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// Target blueprint.
    pub blueprint: String,
    /// Entity identifier.
    pub identifier: String,
    /// The JSON body sent to Port.
    pub body: Value,
}

/// What became of one raw item for one resource.
#[derive(Debug)]
pub enum Outcome {
    /// Mapped.
    Entity(Entity),
    /// The selector said `false`.
    Filtered,
    /// Mapped, but identifier or blueprint was empty: not sent.
    Dropped(&'static str),
    /// The selector did not yield a boolean (an error, like Ocean's).
    SelectorError(String),
}

/// A field that came out `null` because its expression failed or yielded nothing.
#[derive(Debug, Clone)]
pub struct FieldIssue {
    /// `identifier`, `title`, `properties.arn`, `relations.account`, …
    pub field: String,
    /// The expression.
    pub expression: String,
    /// jq's error, or `None` when it yielded nothing / `null`.
    pub error: Option<String>,
}

impl Mapping {
    /// Parses and compiles a port app config object.
    pub fn from_json(config: &Value) -> Result<Mapping, MappingError> {
        let parsed = PortAppConfig::from_json(config).map_err(MappingError::Shape)?;
        Mapping::compile(&parsed)
    }

    /// Compiles every expression, collecting every problem.
    pub fn compile(config: &PortAppConfig) -> Result<Mapping, MappingError> {
        let mut problems = Vec::new();
        let mut resources = Vec::new();
        for (index, rc) in config.resources.iter().enumerate() {
            let compile = |problems: &mut Vec<Problem>, field: String, expr: &str| {
                Program::compile(expr)
                    .map_err(|message| {
                        problems.push(Problem {
                            resource: index,
                            kind: rc.kind.clone(),
                            field,
                            expression: expr.to_string(),
                            message,
                        })
                    })
                    .ok()
            };
            let m = &rc.port.entity.mappings;
            let selector = compile(&mut problems, "selector.query".into(), &rc.selector.query);
            let identifier = match &m.identifier {
                Value::String(s) => compile(&mut problems, "mappings.identifier".into(), s),
                other => {
                    problems.push(Problem {
                        resource: index,
                        kind: rc.kind.clone(),
                        field: "mappings.identifier".into(),
                        expression: other.to_string(),
                        message: "search-query identifiers are not supported yet; use a JQ string"
                            .into(),
                    });
                    None
                }
            };
            let blueprint = compile(&mut problems, "mappings.blueprint".into(), &m.blueprint);
            let mut top = Vec::new();
            for (name, expr) in [("title", &m.title), ("icon", &m.icon)] {
                if let Some(expr) = expr
                    && let Some(p) = compile(&mut problems, format!("mappings.{name}"), expr)
                {
                    top.push((name, p));
                }
            }
            match &m.team {
                None | Some(Value::Null) => {}
                Some(Value::String(expr)) => {
                    if let Some(p) = compile(&mut problems, "mappings.team".into(), expr) {
                        top.push(("team", p));
                    }
                }
                Some(other) => problems.push(Problem {
                    resource: index,
                    kind: rc.kind.clone(),
                    field: "mappings.team".into(),
                    expression: other.to_string(),
                    message: "search-query teams are not supported yet; use a JQ string".into(),
                }),
            }
            let named = |problems: &mut Vec<Problem>,
                         section: &str,
                         entries: &Map<String, Value>| {
                let mut out = Vec::new();
                for (name, expr) in entries {
                    let field = format!("mappings.{section}.{name}");
                    match expr {
                        Value::String(s) => {
                            if let Some(p) = compile(problems, field, s) {
                                out.push((name.clone(), p));
                            }
                        }
                        other => problems.push(Problem {
                            resource: index,
                            kind: rc.kind.clone(),
                            field,
                            expression: other.to_string(),
                            message: "expected a JQ expression string (search queries are not supported yet)".into(),
                        }),
                    }
                }
                out
            };
            let properties = named(&mut problems, "properties", &m.properties);
            let relations = named(&mut problems, "relations", &m.relations);
            if rc.port.items_to_parse.is_some() {
                problems.push(Problem {
                    resource: index,
                    kind: rc.kind.clone(),
                    field: "port.itemsToParse".into(),
                    expression: rc.port.items_to_parse.clone().unwrap_or_default(),
                    message: "itemsToParse is not supported yet".into(),
                });
            }
            if let (Some(selector), Some(identifier), Some(blueprint)) =
                (selector, identifier, blueprint)
            {
                resources.push(Resource {
                    index,
                    kind: rc.kind.clone(),
                    region_policy: rc.selector.region_policy.clone(),
                    selector,
                    identifier,
                    blueprint,
                    top,
                    properties,
                    relations,
                });
            }
        }
        if !problems.is_empty() {
            return Err(MappingError::Invalid(problems));
        }
        Ok(Mapping {
            delete_dependent_entities: config.delete_dependent_entities,
            create_missing_related_entities: config.create_missing_related_entities,
            enable_merge_entity: config.enable_merge_entity,
            entity_deletion_threshold: config.entity_deletion_threshold,
            resources,
        })
    }
}

impl Resource {
    /// The blueprint this resource always produces, when its expression is a constant.
    pub fn constant_blueprint(&self) -> Option<&str> {
        self.blueprint.constant()
    }

    /// Maps one raw item. Fields that come out `null` are pushed onto `issues`.
    pub fn map(&self, item: &Val, issues: &mut Vec<FieldIssue>) -> Outcome {
        match self.selector.first(item) {
            Ok(Some(Val::Bool(true))) => {}
            Ok(Some(Val::Bool(false))) => return Outcome::Filtered,
            Ok(Some(other)) => {
                return Outcome::SelectorError(format!(
                    "selector `{}` yielded {}, not a boolean",
                    self.selector.source(),
                    jq::to_json(&other)
                ));
            }
            Ok(None) => {
                return Outcome::SelectorError(format!(
                    "selector `{}` yielded nothing, not a boolean",
                    self.selector.source()
                ));
            }
            Err(e) => {
                return Outcome::SelectorError(format!(
                    "selector `{}` failed: {e}",
                    self.selector.source()
                ));
            }
        }
        let mut eval = |field: &dyn Fn() -> String, p: &Program| -> Value {
            match p.first(item) {
                Ok(Some(v)) => {
                    let json = jq::to_json(&v);
                    if json.is_null() {
                        issues.push(FieldIssue {
                            field: field(),
                            expression: p.source().to_string(),
                            error: None,
                        });
                    }
                    json
                }
                Ok(None) => {
                    issues.push(FieldIssue {
                        field: field(),
                        expression: p.source().to_string(),
                        error: None,
                    });
                    Value::Null
                }
                Err(e) => {
                    issues.push(FieldIssue {
                        field: field(),
                        expression: p.source().to_string(),
                        error: Some(e),
                    });
                    Value::Null
                }
            }
        };
        let identifier = eval(&|| "identifier".into(), &self.identifier);
        let blueprint = eval(&|| "blueprint".into(), &self.blueprint);
        let mut body = Map::new();
        for (name, p) in &self.top {
            body.insert((*name).to_string(), eval(&|| (*name).to_string(), p));
        }
        if !self.properties.is_empty() {
            let props: Map<String, Value> = self
                .properties
                .iter()
                .map(|(name, p)| (name.clone(), eval(&|| format!("properties.{name}"), p)))
                .collect();
            body.insert("properties".into(), Value::Object(props));
        }
        if !self.relations.is_empty() {
            let rels: Map<String, Value> = self
                .relations
                .iter()
                .map(|(name, p)| (name.clone(), eval(&|| format!("relations.{name}"), p)))
                .collect();
            body.insert("relations".into(), Value::Object(rels));
        }
        if !jq::python_truthy(&identifier) {
            return Outcome::Dropped("identifier is empty, null or missing");
        }
        if !jq::python_truthy(&blueprint) {
            return Outcome::Dropped("blueprint is empty, null or missing");
        }
        let (Value::String(identifier), Value::String(blueprint)) = (identifier, blueprint) else {
            return Outcome::Dropped("identifier and blueprint must be strings");
        };
        body.insert("identifier".into(), Value::String(identifier.clone()));
        body.insert("blueprint".into(), Value::String(blueprint.clone()));
        Outcome::Entity(Entity {
            blueprint,
            identifier,
            body: Value::Object(body),
        })
    }
}

/// Counts misconfigured fields per (resource, field) over a run and logs the first few
/// examples of each, so a broken expression is visible without flooding the log.
#[derive(Debug, Default)]
pub struct Misconfigurations {
    by_field: BTreeMap<(usize, String), (String, String, u64)>,
}

/// Examples logged per (resource, field).
const EXAMPLES_PER_FIELD: u64 = 3;

impl Misconfigurations {
    /// Records the issues of one mapped item.
    pub fn record(&mut self, resource: &Resource, issues: &mut Vec<FieldIssue>) {
        for issue in issues.drain(..) {
            let entry = self
                .by_field
                .entry((resource.index, issue.field.clone()))
                .or_insert_with(|| (resource.kind.clone(), issue.expression.clone(), 0));
            entry.2 += 1;
            if entry.2 <= EXAMPLES_PER_FIELD {
                tracing::warn!(
                    kind = %resource.kind,
                    resource_index = resource.index,
                    field = %issue.field,
                    expression = %issue.expression,
                    error = issue.error.as_deref().unwrap_or("no value"),
                    "Unable to find valid data for field; it is sent as null"
                );
            }
        }
    }

    /// `(resource index, kind, field, expression, count)` for the run summary.
    pub fn summary(&self) -> Vec<(usize, &str, &str, &str, u64)> {
        self.by_field
            .iter()
            .map(|((idx, field), (kind, expr, n))| {
                (*idx, kind.as_str(), field.as_str(), expr.as_str(), *n)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping(yaml: &str) -> Result<Mapping, MappingError> {
        Mapping::compile(&PortAppConfig::from_yaml(yaml).unwrap())
    }

    const EC2: &str = r#"
resources:
  - kind: AWS::EC2::Instance
    selector:
      query: .Properties.State.Name != "terminated"
    port:
      entity:
        mappings:
          identifier: .Properties.InstanceId
          title: .Properties.Tags[]? | select(.Key == "Name") | .Value
          blueprint: '"ec2Instance"'
          properties:
            state: .Properties.State.Name
            missing: .Properties.Nope
            broken: .Properties.InstanceId | tonumber
          relations:
            account: .__ExtraContext.AccountId
"#;

    fn item(state: &str) -> Val {
        jq::to_val(&json!({
            "Type": "AWS::EC2::Instance",
            "Properties": {"InstanceId": "i-1", "State": {"Name": state}, "Tags": [{"Key": "Name", "Value": "web"}]},
            "__ExtraContext": {"AccountId": "111111111111", "Region": "us-east-1"}
        }))
    }

    #[test]
    fn maps_with_first_output_and_null_on_error() {
        let m = mapping(EC2).unwrap();
        let mut issues = Vec::new();
        let Outcome::Entity(e) = m.resources[0].map(&item("running"), &mut issues) else {
            panic!("not mapped");
        };
        assert_eq!(
            e.body,
            json!({
                "title": "web",
                "properties": {"state": "running", "missing": null, "broken": null},
                "relations": {"account": "111111111111"},
                "identifier": "i-1",
                "blueprint": "ec2Instance"
            })
        );
        let fields: Vec<_> = issues.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(fields, vec!["properties.missing", "properties.broken"]);
        assert!(issues[1].error.is_some());
        assert_eq!(m.resources[0].constant_blueprint(), Some("ec2Instance"));
    }

    #[test]
    fn selector_false_filters_and_non_boolean_is_an_error() {
        let m = mapping(EC2).unwrap();
        assert!(matches!(
            m.resources[0].map(&item("terminated"), &mut Vec::new()),
            Outcome::Filtered
        ));
        let m = mapping(&EC2.replace(
            r#".Properties.State.Name != "terminated""#,
            ".Properties.State",
        ))
        .unwrap();
        assert!(matches!(
            m.resources[0].map(&item("x"), &mut Vec::new()),
            Outcome::SelectorError(_)
        ));
    }

    #[test]
    fn empty_identifier_drops_the_entity() {
        let m = mapping(&EC2.replace(
            "identifier: .Properties.InstanceId",
            "identifier: .Properties.Nope",
        ))
        .unwrap();
        assert!(matches!(
            m.resources[0].map(&item("running"), &mut Vec::new()),
            Outcome::Dropped(_)
        ));
    }

    #[test]
    fn every_broken_expression_is_reported_with_its_place() {
        let err = mapping(
            &EC2.replace(".Properties.State.Name\n", ".Properties.State.Name |\n")
                .replace("'\"ec2Instance\"'", "nosuch(1)"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("2 problem(s)"), "{err}");
        assert!(
            err.contains("resources[0] (AWS::EC2::Instance) mappings.properties.state"),
            "{err}"
        );
        assert!(err.contains("mappings.blueprint"), "{err}");
    }
}
