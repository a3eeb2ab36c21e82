//! From raw items to Port entities, with Ocean's semantics.
//!
//! The port app config ([`config::PortAppConfig`]) is compiled once per run
//! ([`Mapping::compile`]): every JQ expression of every resource, with all problems reported
//! together (resource index, kind, field, expression) before anything is written. Then, per
//! raw item and resource ([`Resource::map`]):
//!
//! 1. `itemsToParse`, when set, turns the item into one item per element of the array it
//!    yields (`{…parent, item: element}`; with `itemsToParseTopLevelTransform`, the default,
//!    the array itself is removed from the parent copy first); a non-array skips the item;
//! 2. the selector runs first and must yield a JSON boolean (anything else is an error for
//!    that item, which Ocean counts as a kind error);
//! 3. each field takes the **first output** of its expression; an expression that errors or
//!    yields nothing gives `null`, and the field is recorded as a misconfiguration;
//!    `identifier`, `team` and relations may be search queries, evaluated leaf by leaf;
//! 4. the entity is sent only if `identifier` and `blueprint` are non-empty;
//! 5. the entity JSON holds only the keys present in the mapping.
//!
//! JQ runs on jaq with a small prelude that restores jq 1.7 behaviour where jaq differs
//! (see `docs/jq-compatibility.md`), under stack and step budgets (`guard`) so that no
//! expression can crash or hang a run. `env` and `$ENV` are the environment without this
//! program's secrets ([`env`]); with `allowEnvironmentVariablesJqAccess: false` they are
//! empty objects, as in Ocean. Errors and values are logged summarised (`redact`).

pub mod config;
pub mod env;
mod field;
mod guard;
pub mod jq;
mod misconfig;
mod redact;

use std::fmt;

use jaq_json::Val;
use serde_json::{Map, Value};

use config::{PortAppConfig, RegionPolicy};
use field::ExpressionError;
pub use field::Field;
use jq::Program;
pub use misconfig::Misconfigurations;

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

/// Compilation switches that come from settings rather than the mapping.
#[derive(Debug, Clone, Copy)]
pub struct CompileOptions {
    /// `allowEnvironmentVariablesJqAccess` (Ocean default: true).
    pub allow_env: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions { allow_env: true }
    }
}

/// A compiled mapping.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// `delete_dependents` on deletions.
    pub delete_dependent_entities: bool,
    /// `create_missing_related_entities` query parameter.
    pub create_missing_related_entities: bool,
    /// `merge` query parameter.
    pub enable_merge_entity: bool,
    /// Deletion threshold (used by reconciliation).
    pub entity_deletion_threshold: f64,
    /// The smallest `selector.maxConcurrentAccounts` of the resources, when any sets it
    /// (aws-v3 treats `0` as its default, 5).
    pub max_concurrent_accounts: Option<usize>,
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
    /// `selector.includeActions`: optional enrichment actions, by aws-v3 class name.
    pub include_actions: Vec<String>,
    /// `selector.maxAgeDays`/`maxItems`: `Some` when the resource bounds its (history)
    /// kind's listing. Reconciliation does not delete its blueprint's entities then: those
    /// outside the window were not looked for ([`crate::resync`]'s deletion rule).
    pub history: Option<config::HistoryBound>,
    /// `selector.useGetResourceAPI`/`resourceModel`, for a type listed through Cloud
    /// Control (`aws::kinds` says which).
    pub cloud_control: config::CloudControlSelector,
    selector: Program,
    items: Option<ItemsToParse>,
    identifier: Field,
    blueprint: Program,
    /// Optional top-level fields in mapping order: `title`, `icon`, `team`.
    top: Vec<(&'static str, Field)>,
    properties: Vec<(String, Field)>,
    relations: Vec<(String, Field)>,
}

/// `itemsToParse` and its options, compiled.
#[derive(Debug, Clone)]
struct ItemsToParse {
    program: Program,
    name: String,
    /// `del(<path>) // {}` of the parent, with the top-level transform.
    strip: Option<Program>,
}

/// A raw item as the mapping sees it: its JSON, converted for jaq only when an expression
/// needs jaq (literals and plain paths are read from the JSON directly).
pub struct Item<'a> {
    json: Option<&'a Value>,
    val: std::cell::OnceCell<Val>,
}

impl<'a> Item<'a> {
    /// An item listed from AWS.
    pub fn json(value: &'a Value) -> Item<'a> {
        Item {
            json: Some(value),
            val: std::cell::OnceCell::new(),
        }
    }

    /// An item that only exists as a jaq value (an itemsToParse child).
    pub fn val(value: Val) -> Item<'static> {
        Item {
            json: None,
            val: std::cell::OnceCell::from(value),
        }
    }

    fn as_val(&self) -> &Val {
        self.val
            .get_or_init(|| self.json.map(jq::to_val).unwrap_or(Val::Null))
    }

    /// First output of `program` on this item, as JSON.
    pub fn first(&self, program: &Program) -> Result<Option<Value>, String> {
        if let Some(json) = self.json
            && let Some(result) = program.first_fast(json)
        {
            return result;
        }
        program
            .first(self.as_val())
            .map(|o| o.map(|v| jq::to_json(&v)))
    }
}

/// A Port entity produced by the mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// Target blueprint.
    pub blueprint: String,
    /// Entity identifier: a string, or a search query Port resolves.
    pub identifier: Value,
    /// The JSON body sent to Port.
    pub body: Value,
}

impl Entity {
    /// The identifier as text (search queries as compact JSON), for logs and keys.
    pub fn identifier_text(&self) -> String {
        match &self.identifier {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// What became of one raw item for one resource.
#[derive(Debug)]
pub enum Outcome {
    /// Mapped.
    Entity(Entity),
    /// The selector said `false`.
    Filtered,
    /// Not sent: identifier or blueprint empty, or itemsToParse did not yield a list.
    Dropped(&'static str),
    /// The item's entities are unknown: the selector did not yield a boolean (an error, like
    /// Ocean's), or `itemsToParse`, `identifier` or `blueprint` failed with a jq error. The
    /// run is partial and nothing this item could have produced before may be deleted.
    ItemError(String),
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
    /// Parses and compiles a port app config object with default options.
    pub fn from_json(config: &Value) -> Result<Mapping, MappingError> {
        Mapping::from_json_with(config, CompileOptions::default())
    }

    /// Parses and compiles a port app config object.
    pub fn from_json_with(
        config: &Value,
        options: CompileOptions,
    ) -> Result<Mapping, MappingError> {
        let parsed = PortAppConfig::from_json(config).map_err(MappingError::Shape)?;
        Mapping::compile(&parsed, options)
    }

    /// Compiles every expression, collecting every problem.
    pub fn compile(
        config: &PortAppConfig,
        options: CompileOptions,
    ) -> Result<Mapping, MappingError> {
        let mut problems = Vec::new();
        let mut resources = Vec::new();
        for (index, rc) in config.resources.iter().enumerate() {
            let mut raw: Vec<ExpressionError> = Vec::new();
            let allow_env = options.allow_env;
            let program = |raw: &mut Vec<ExpressionError>, path: &str, src: &str| {
                Program::compile_with(src, allow_env)
                    .map_err(|message| {
                        raw.push(ExpressionError {
                            field: path.to_string(),
                            expression: src.to_string(),
                            message,
                        })
                    })
                    .ok()
            };
            let field = |raw: &mut Vec<ExpressionError>, path: &str, v: &Value| {
                Field::compile(v, path, allow_env, raw)
            };
            let m = &rc.port.entity.mappings;
            let selector = program(&mut raw, "selector.query", &rc.selector.query);
            let history = match rc.selector.history_bound() {
                Ok(bound) => bound,
                Err(bad) => {
                    raw.extend(bad.into_iter().map(|(field, message)| ExpressionError {
                        field: field.into(),
                        expression: String::new(),
                        message,
                    }));
                    None
                }
            };
            let cloud_control = match rc.selector.cloud_control() {
                Ok(cc) => cc,
                Err(bad) => {
                    raw.extend(bad.into_iter().map(|(field, message)| ExpressionError {
                        field: field.into(),
                        expression: String::new(),
                        message,
                    }));
                    Default::default()
                }
            };
            let identifier = field(&mut raw, "mappings.identifier", &m.identifier);
            let blueprint = program(&mut raw, "mappings.blueprint", &m.blueprint);
            let mut top = Vec::new();
            for (name, value) in [("title", &m.title), ("icon", &m.icon), ("team", &m.team)] {
                if let Some(v) = value
                    && let Some(f) = field(&mut raw, &format!("mappings.{name}"), v)
                {
                    top.push((name, f));
                }
            }
            let mut properties = Vec::new();
            for (name, v) in &m.properties {
                let path = format!("mappings.properties.{name}");
                if v.is_object() || v.is_array() {
                    raw.push(ExpressionError {
                        field: path,
                        expression: v.to_string(),
                        message: "a property takes a JQ expression".into(),
                    });
                } else if let Some(f) = field(&mut raw, &path, v) {
                    properties.push((name.clone(), f));
                }
            }
            let mut relations = Vec::new();
            for (name, v) in &m.relations {
                if let Some(f) = field(&mut raw, &format!("mappings.relations.{name}"), v) {
                    relations.push((name.clone(), f));
                }
            }
            let items = match &rc.port.items_to_parse {
                None => None,
                Some(src) => {
                    let prog = program(&mut raw, "port.itemsToParse", src);
                    let strip = if rc.port.items_to_parse_top_level_transform {
                        let target = strip_target(src);
                        let code = format!("del({target}) // {{}}");
                        match Program::compile_with(&code, allow_env) {
                            Ok(p) => Some(p),
                            Err(e) => {
                                raw.push(ExpressionError {
                                    field: "port.itemsToParseTopLevelTransform".into(),
                                    expression: src.clone(),
                                    message: format!("cannot remove `{target}` from the parent ({e}); set itemsToParseTopLevelTransform: false"),
                                });
                                None
                            }
                        }
                    } else {
                        None
                    };
                    prog.map(|program| ItemsToParse {
                        program,
                        name: rc.port.items_to_parse_name.clone(),
                        strip,
                    })
                }
            };
            if raw.is_empty()
                && let (Some(selector), Some(identifier), Some(blueprint)) =
                    (selector, identifier, blueprint)
            {
                resources.push(Resource {
                    index,
                    kind: rc.kind.clone(),
                    region_policy: rc.selector.region_policy.clone(),
                    include_actions: rc.selector.include_actions.clone(),
                    history,
                    cloud_control,
                    selector,
                    items,
                    identifier,
                    blueprint,
                    top,
                    properties,
                    relations,
                });
            }
            problems.extend(raw.into_iter().map(|e| Problem {
                resource: index,
                kind: rc.kind.clone(),
                field: e.field,
                expression: e.expression,
                message: e.message,
            }));
        }
        if !problems.is_empty() {
            return Err(MappingError::Invalid(problems));
        }
        Ok(Mapping {
            delete_dependent_entities: config.delete_dependent_entities,
            create_missing_related_entities: config.create_missing_related_entities,
            enable_merge_entity: config.enable_merge_entity,
            entity_deletion_threshold: config.entity_deletion_threshold,
            max_concurrent_accounts: config
                .resources
                .iter()
                .filter_map(|r| r.selector.max_concurrent_accounts)
                .map(|n| if n == 0 { 5 } else { n as usize })
                .min(),
            resources,
        })
    }
}

/// What Ocean removes from the parent before fanning out: the expression up to its first
/// `|`, or `.` for a `map(…)` expression.
fn strip_target(items_to_parse: &str) -> String {
    let src = items_to_parse.trim();
    if src.starts_with("map(") {
        ".".into()
    } else {
        src.split('|').next().unwrap_or(".").trim().to_string()
    }
}

impl Resource {
    /// The blueprint this resource always produces, when its expression is a constant.
    pub fn constant_blueprint(&self) -> Option<&str> {
        self.blueprint.constant()
    }

    /// Whether the identifier is a search query (Port resolves it; the listing returns the
    /// real identifier, which this run cannot match).
    pub fn has_search_identifier(&self) -> bool {
        !matches!(self.identifier, Field::Jq(_))
    }

    /// Property names this resource maps.
    pub fn property_names(&self) -> impl Iterator<Item = &str> {
        self.properties.iter().map(|(n, _)| n.as_str())
    }

    /// Relation names this resource maps.
    pub fn relation_names(&self) -> impl Iterator<Item = &str> {
        self.relations.iter().map(|(n, _)| n.as_str())
    }

    /// Maps one raw item (several with itemsToParse) into `out`; fields that come out
    /// `null` are pushed onto `issues`.
    pub fn map(&self, item: &Item, issues: &mut Vec<FieldIssue>, out: &mut Vec<Outcome>) {
        let Some(items) = &self.items else {
            out.push(self.map_one(item, issues));
            return;
        };
        let parent = item.as_val();
        let elements = match items.program.first(parent) {
            Ok(Some(Val::Arr(elements))) => elements,
            Ok(other) => {
                tracing::warn!(kind = %self.kind, resource_index = self.index, expression = items.program.source(),
                    got = %other.map(|v| redact::value(&jq::to_json(&v))).unwrap_or_else(|| "nothing".into()),
                    "itemsToParse did not yield a list; item skipped");
                out.push(Outcome::Dropped("itemsToParse did not yield a list"));
                return;
            }
            // Unlike a non-list (Ocean skips those), an error means the item's shape is not
            // what the mapping expects: the entities it produced before cannot be matched.
            Err(e) => {
                out.push(Outcome::ItemError(format!(
                    "itemsToParse `{}` failed: {e}",
                    items.program.source()
                )));
                return;
            }
        };
        let base = match &items.strip {
            Some(strip) => strip
                .first(parent)
                .ok()
                .flatten()
                .unwrap_or_else(|| parent.clone()),
            None => parent.clone(),
        };
        let name = Val::from(items.name.clone());
        for element in elements.iter() {
            let child = match (&base, items.strip.is_some()) {
                // `{…(parent without the array), item: element}`: the element wins.
                (Val::Obj(parent), true) => {
                    let mut map = (**parent).clone();
                    map.insert(name.clone(), element.clone());
                    Val::Obj(jaq_json::Rc::new(map))
                }
                // Ocean's `{"item": element, **parent}`: a parent key of that name wins.
                (Val::Obj(parent), false) => {
                    let mut map = jaq_json::Map::default();
                    map.insert(name.clone(), element.clone());
                    for (k, v) in parent.iter() {
                        map.insert(k.clone(), v.clone());
                    }
                    Val::Obj(jaq_json::Rc::new(map))
                }
                _ => {
                    let mut map = jaq_json::Map::default();
                    map.insert(name.clone(), element.clone());
                    Val::Obj(jaq_json::Rc::new(map))
                }
            };
            out.push(self.map_one(&Item::val(child), issues));
        }
    }

    fn map_one(&self, item: &Item, issues: &mut Vec<FieldIssue>) -> Outcome {
        match item.first(&self.selector) {
            Ok(Some(Value::Bool(true))) => {}
            Ok(Some(Value::Bool(false))) => return Outcome::Filtered,
            Ok(Some(other)) => {
                return Outcome::ItemError(format!(
                    "selector `{}` yielded {}, not a boolean",
                    self.selector.source(),
                    redact::value(&other),
                ));
            }
            Ok(None) => {
                return Outcome::ItemError(format!(
                    "selector `{}` yielded nothing, not a boolean",
                    self.selector.source()
                ));
            }
            Err(e) => {
                return Outcome::ItemError(format!(
                    "selector `{}` failed: {e}",
                    self.selector.source()
                ));
            }
        }
        let before = issues.len();
        let identifier = self.identifier.eval(item, &|| "identifier".into(), issues);
        let blueprint =
            Field::Jq(self.blueprint.clone()).eval(item, &|| "blueprint".into(), issues);
        // A jq *error* in the identity (not a null value) means the item's shape changed:
        // the entity it produced before can no longer be matched, so it must count as an
        // error (which blocks deletion) rather than a quiet drop that would delete it.
        if let Some(failed) = issues[before..].iter().find(|i| i.error.is_some()) {
            return Outcome::ItemError(format!(
                "{} `{}` failed: {}",
                failed.field,
                failed.expression,
                failed.error.as_deref().unwrap_or_default()
            ));
        }
        let mut body = Map::new();
        body.insert("identifier".into(), identifier.clone());
        body.insert("blueprint".into(), blueprint.clone());
        for (name, f) in &self.top {
            body.insert(
                (*name).to_string(),
                f.eval(item, &|| (*name).to_string(), issues),
            );
        }
        if !self.properties.is_empty() {
            let props: Map<String, Value> = self
                .properties
                .iter()
                .map(|(name, f)| {
                    (
                        name.clone(),
                        f.eval(item, &|| format!("properties.{name}"), issues),
                    )
                })
                .collect();
            body.insert("properties".into(), Value::Object(props));
        }
        if !self.relations.is_empty() {
            let rels: Map<String, Value> = self
                .relations
                .iter()
                .map(|(name, f)| {
                    (
                        name.clone(),
                        f.eval(item, &|| format!("relations.{name}"), issues),
                    )
                })
                .collect();
            body.insert("relations".into(), Value::Object(rels));
        }
        if !jq::python_truthy(&identifier) {
            return Outcome::Dropped("identifier is empty, null or missing");
        }
        let blueprint = match blueprint {
            Value::String(b) if !b.is_empty() => b,
            Value::Null => return Outcome::Dropped("blueprint is empty, null or missing"),
            _ => return Outcome::Dropped("blueprint must be a non-empty string"),
        };
        Outcome::Entity(Entity {
            blueprint,
            identifier,
            body: Value::Object(body),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping(yaml: &str) -> Result<Mapping, MappingError> {
        Mapping::compile(
            &PortAppConfig::from_yaml(yaml).unwrap(),
            CompileOptions::default(),
        )
    }

    fn map1(r: &Resource, item: &Value, issues: &mut Vec<FieldIssue>) -> Outcome {
        let mut out = Vec::new();
        r.map(&Item::json(item), issues, &mut out);
        assert_eq!(out.len(), 1);
        out.pop().unwrap()
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

    fn item(state: &str) -> Value {
        json!({
            "Type": "AWS::EC2::Instance",
            "Properties": {"InstanceId": "i-1", "State": {"Name": state}, "Tags": [{"Key": "Name", "Value": "web"}]},
            "__ExtraContext": {"AccountId": "111111111111", "Region": "us-east-1"}
        })
    }

    #[test]
    fn maps_with_first_output_and_null_on_error() {
        let m = mapping(EC2).unwrap();
        let mut issues = Vec::new();
        let Outcome::Entity(e) = map1(&m.resources[0], &item("running"), &mut issues) else {
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
            map1(&m.resources[0], &item("terminated"), &mut Vec::new()),
            Outcome::Filtered
        ));
        let m = mapping(&EC2.replace(
            r#".Properties.State.Name != "terminated""#,
            ".Properties.State",
        ))
        .unwrap();
        assert!(matches!(
            map1(&m.resources[0], &item("x"), &mut Vec::new()),
            Outcome::ItemError(_)
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
            map1(&m.resources[0], &item("running"), &mut Vec::new()),
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

    #[test]
    fn an_identifier_that_errors_is_an_error_not_a_quiet_drop() {
        // `.Properties.State.Name` is a string here, so indexing it errors: the item's
        // shape changed, and dropping it quietly would let reconciliation delete its entity.
        let m = mapping(&EC2.replace(
            "identifier: .Properties.InstanceId",
            "identifier: .Properties.State.Name.x",
        ))
        .unwrap();
        assert!(matches!(
            map1(&m.resources[0], &item("running"), &mut Vec::new()),
            Outcome::ItemError(_)
        ));
    }
}
