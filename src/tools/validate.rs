//! `validate`: every problem of a mapping (and the settings), found offline, before a run.
//!
//! Checks, in order: the port app config's shape; every JQ expression compiles; every kind
//! is one this program lists (an unsupported kind would make every run partial); aws-v3's
//! `includeActions` limit, and that every name in it is an action of the kind (aws-v3, and a
//! run here, ignore other names, so the fields the user expects would never come); and, for resources whose blueprint is a constant, that the
//! blueprint exists and has every mapped property and relation, and that every property or
//! relation it requires is mapped (Port rejects the entity otherwise).

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use crate::aws::kinds::{self, cloudcontrol};
use crate::mapping::config::PortAppConfig;
use crate::mapping::jq;
use crate::mapping::{CompileOptions, Mapping, MappingError};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// The run would fail, be partial, or write wrong data.
    Error,
    /// Worth a look; the run works.
    Warning,
}

/// One problem, with where it is and what to do.
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    /// Severity.
    pub(crate) level: Level,
    /// `resources[i] (kind) field` or `settings`.
    pub(crate) place: String,
    /// The expression involved, if any.
    pub(crate) expression: Option<String>,
    /// What is wrong.
    pub(crate) message: String,
    /// What to do about it.
    pub(crate) hint: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        write!(f, "{level:<8}{}: {}", self.place, self.message)?;
        if let Some(e) = &self.expression {
            write!(f, "\n        expression: {e}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n        hint: {h}")?;
        }
        Ok(())
    }
}

fn place(index: usize, kind: &str, field: &str) -> String {
    format!("resources[{index}] ({kind}) {field}")
}

/// Checks a port app config against the kind registry and `blueprints`.
pub(crate) fn mapping(
    config: &Value,
    blueprints: &[Value],
    options: CompileOptions,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let parsed = match PortAppConfig::from_json(config) {
        Ok(p) => p,
        Err(e) => {
            findings.push(Finding {
                level: Level::Error,
                place: "mapping".into(),
                expression: None,
                message: format!("not a valid port app config: {e}"),
                hint: Some("compare with resources/port-app-config.yml: resources[] of {kind, selector.query, port.entity.mappings}".into()),
            });
            return findings;
        }
    };
    if let Err(MappingError::Invalid(problems)) = Mapping::compile(&parsed, options) {
        findings.extend(problems.into_iter().map(|p| {
            // The history bound and the Cloud Control options are values, not expressions.
            let bound = p.field.starts_with("selector.max");
            let cloud = p.field == "selector.useGetResourceAPI" || p.field == "selector.resourceModel";
            Finding {
                level: Level::Error,
                place: place(p.resource, &p.kind, &p.field),
                expression: (!bound && !cloud).then_some(p.expression),
                message: p.message,
                hint: Some(if cloud {
                    "useGetResourceAPI is true or false; resourceModel an object of the type's CloudFormation properties, e.g. {ClusterName: prod}".into()
                } else if bound {
                    "maxAgeDays and maxItems are whole numbers of at least 1 (omit both to list the whole history)".into()
                } else {
                    "every mapping value is a jq expression; a string literal is written '\"text\"' in YAML".into()
                }),
            }
        }));
    }
    let supported: Vec<&str> = kinds::all().map(|k| k.name).collect();
    for (i, r) in parsed.resources.iter().enumerate() {
        let mut kind = kinds::find(&r.kind);
        if let Some(native) = kind
            .filter(|k| cloudcontrol::is_cloud_control(k))
            .and_then(|k| near_native(k.name))
        {
            // A typo of a native kind would go to Cloud Control and fail every run.
            findings.push(Finding {
                level: Level::Error,
                place: place(i, &r.kind, "kind"),
                expression: None,
                message: format!("this is not a native kind: did you mean {native}? As written it would be listed through Cloud Control"),
                hint: Some(format!(
                    "supported kinds: {}; and any other AWS::<service>::<resource> type, through Cloud Control",
                    supported.join(", ")
                )),
            });
            kind = None;
        } else if kind.is_none() {
            findings.push(Finding {
                level: Level::Error,
                place: place(i, &r.kind, "kind"),
                expression: None,
                message: "this kind is not supported: the resource would be skipped and every run would end partial".into(),
                hint: Some(format!(
                    "supported kinds: {}; and any other AWS::<service>::<resource> type, through Cloud Control",
                    supported.join(", ")
                )),
            });
        }
        if r.selector.include_actions.len() > 3 {
            findings.push(Finding {
                level: Level::Error,
                place: place(i, &r.kind, "selector.includeActions"),
                expression: None,
                message: format!(
                    "{} actions listed; aws-v3 accepts at most 3",
                    r.selector.include_actions.len()
                ),
                hint: None,
            });
        }
        if let Some(kind) = kind {
            check_actions(i, r, kind, &mut findings);
            check_history(i, r, kind, &mut findings);
            check_cloud_control(i, r, kind, &mut findings);
        }
        check_blueprint(i, r, blueprints, &mut findings);
    }
    findings
}

/// The native kind `name` is one edit away from, ignoring case (`AWS::S3::Buckets`,
/// `AWS::Ec2::Instance`): no CloudFormation type is that close to one.
fn near_native(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    kinds::all()
        .map(|k| k.name)
        .find(|k| edits(&name, &k.to_ascii_lowercase()) <= 1)
}

/// Levenshtein distance.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Every `includeActions` name is one of the kind's actions.
fn check_actions(
    i: usize,
    r: &crate::mapping::config::ResourceConfig,
    kind: &kinds::Kind,
    findings: &mut Vec<Finding>,
) {
    let unknown: Vec<&str> = kind.unaccepted(&r.selector.include_actions).collect();
    if unknown.is_empty() {
        return;
    }
    findings.push(Finding {
        level: Level::Error,
        place: place(i, &r.kind, "selector.includeActions"),
        expression: None,
        message: format!(
            "{} is not an action of {}: it would be ignored and what it adds never listed",
            unknown.join(", "),
            kind.name
        ),
        hint: Some(kind.describe_actions()),
    });
}

/// `maxAgeDays`/`maxItems` only on a history kind: on another kind it would be ignored at
/// run time, and the user who wrote it expects a bounded listing (an error, as an
/// `includeActions` name the kind does not have).
fn check_history(
    i: usize,
    r: &crate::mapping::config::ResourceConfig,
    kind: &kinds::Kind,
    findings: &mut Vec<Finding>,
) {
    if kind.history_time().is_some() {
        return;
    }
    for (field, set) in [
        ("selector.maxAgeDays", &r.selector.max_age_days),
        ("selector.maxItems", &r.selector.max_items),
    ] {
        if set.as_ref().is_some_and(|v| !v.is_null()) {
            let history: Vec<&str> = kinds::all()
                .filter(|k| k.history_time().is_some())
                .map(|k| k.name)
                .collect();
            findings.push(Finding {
                level: Level::Error,
                place: place(i, &r.kind, field),
                expression: None,
                message: format!(
                    "{} takes no history bound (not a bounded history kind): it would be ignored and the whole listing read",
                    kind.name
                ),
                hint: Some(format!("it bounds only {}", history.join(", "))),
            });
        }
    }
}

/// A Cloud Control type's listing can be run as written (it has a list handler, and the
/// `resourceModel` its listing requires); a native kind sets no Cloud Control option, which
/// it would ignore.
fn check_cloud_control(
    i: usize,
    r: &crate::mapping::config::ResourceConfig,
    kind: &kinds::Kind,
    findings: &mut Vec<Finding>,
) {
    let Ok(selector) = r.selector.cloud_control() else {
        // Reported with the mapping's compile problems.
        return;
    };
    if cloudcontrol::is_cloud_control(kind) {
        for (field, message) in cloudcontrol::problems(kind.name, &selector) {
            findings.push(Finding {
                level: Level::Error,
                place: place(i, &r.kind, field),
                expression: None,
                message,
                hint: Some("`aws-catalog-sync kinds` lists the native kinds; any other type is listed through Cloud Control".into()),
            });
        }
    } else if selector.is_set() {
        findings.push(Finding {
            level: Level::Error,
            place: place(i, &r.kind, if selector.get_resource { "selector.useGetResourceAPI" } else { "selector.resourceModel" }),
            expression: None,
            message: format!(
                "{} is a native kind, listed through its service's API: Cloud Control options would be ignored",
                kind.name
            ),
            hint: Some(kind.describe_actions()),
        });
    }
}

fn check_blueprint(
    i: usize,
    r: &crate::mapping::config::ResourceConfig,
    blueprints: &[Value],
    findings: &mut Vec<Finding>,
) {
    let m = &r.port.entity.mappings;
    let Some(bp_id) = jq::constant_string(jq::ocean_source(&m.blueprint).trim()) else {
        findings.push(Finding {
            level: Level::Warning,
            place: place(i, &r.kind, "mappings.blueprint"),
            expression: Some(m.blueprint.clone()),
            message: "the blueprint is computed per item, so it cannot be checked here".into(),
            hint: None,
        });
        return;
    };
    let Some(bp) = blueprints
        .iter()
        .find(|b| b["identifier"] == bp_id.as_str())
    else {
        findings.push(Finding {
            level: Level::Error,
            place: place(i, &r.kind, "mappings.blueprint"),
            expression: Some(m.blueprint.clone()),
            message: format!("blueprint {bp_id:?} does not exist: Port would reject every entity"),
            hint: Some("create the blueprint in Port (or let OCEAN__INITIALIZE_PORT_RESOURCES create the defaults), or fix the identifier".into()),
        });
        return;
    };
    let schema_props: BTreeSet<&str> = bp["schema"]["properties"]
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let bp_relations: BTreeSet<&str> = bp["relations"]
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for (name, expr) in &m.properties {
        if !schema_props.contains(name.as_str()) {
            findings.push(Finding {
                level: Level::Error,
                place: place(i, &r.kind, &format!("mappings.properties.{name}")),
                expression: expr.as_str().map(str::to_string),
                message: format!(
                    "blueprint {bp_id:?} has no property {name:?}: Port would reject every entity"
                ),
                hint: Some(format!(
                    "its properties: {}",
                    schema_props.iter().copied().collect::<Vec<_>>().join(", ")
                )),
            });
        }
    }
    for (name, expr) in &m.relations {
        if !bp_relations.contains(name.as_str()) {
            findings.push(Finding {
                level: Level::Error,
                place: place(i, &r.kind, &format!("mappings.relations.{name}")),
                expression: Some(
                    expr.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| expr.to_string()),
                ),
                message: format!(
                    "blueprint {bp_id:?} has no relation {name:?}: Port would reject every entity"
                ),
                hint: Some(format!(
                    "its relations: {}",
                    bp_relations.iter().copied().collect::<Vec<_>>().join(", ")
                )),
            });
        }
    }
    for req in bp["schema"]["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !m.properties.contains_key(req) {
            findings.push(Finding {
                level: Level::Error,
                place: place(i, &r.kind, "mappings.properties"),
                expression: None,
                message: format!(
                    "blueprint {bp_id:?} requires property {req:?}, which is not mapped"
                ),
                hint: None,
            });
        }
    }
    for (name, rel) in bp["relations"].as_object().into_iter().flatten() {
        if rel["required"].as_bool() == Some(true) && !m.relations.contains_key(name) {
            findings.push(Finding {
                level: Level::Error,
                place: place(i, &r.kind, "mappings.relations"),
                expression: None,
                message: format!(
                    "blueprint {bp_id:?} requires relation {name:?}, which is not mapped"
                ),
                hint: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::defaults;
    use serde_json::json;

    #[test]
    fn a_kind_one_edit_from_a_native_one_is_a_typo_and_real_types_are_not() {
        assert_eq!(near_native("AWS::S3::Buckets"), Some("AWS::S3::Bucket"));
        assert_eq!(
            near_native("AWS::Ec2::Instance"),
            Some("AWS::EC2::Instance")
        );
        assert_eq!(near_native("AWS::SQS::Queues"), Some("AWS::SQS::Queue"));
        for real in [
            "AWS::EMR::Cluster",
            "AWS::Kinesis::Stream",
            "AWS::SNS::TopicPolicy",
            "AWS::ECR::PublicRepository",
            "AWS::DAX::Cluster",
        ] {
            assert_eq!(near_native(real), None, "{real}");
        }
        assert_eq!(edits("kitten", "sitting"), 3);
        assert_eq!(edits("", "ab"), 2);
    }
    #[test]
    fn the_default_mapping_is_clean() {
        let f = mapping(
            &defaults::port_app_config(),
            &defaults::blueprints(),
            CompileOptions::default(),
        );
        assert!(f.is_empty(), "{f:#?}");
    }

    #[test]
    fn every_kind_of_problem_is_found_with_its_place() {
        let mut config = defaults::port_app_config();
        let r = &mut config["resources"];
        r[2]["port"]["entity"]["mappings"]["properties"]["state"] =
            json!(".Properties.State.Name |");
        r[2]["port"]["entity"]["mappings"]["properties"]["colour"] = json!(".x");
        r[1]["port"]["entity"]["mappings"]["relations"]["owner"] = json!(".y");
        r[3]["port"]["entity"]["mappings"]["blueprint"] = json!("\"nope\"");
        r[0]["kind"] = json!("AWS::NoSuchKind");
        let f = mapping(&config, &defaults::blueprints(), CompileOptions::default());
        let text: Vec<String> = f.iter().map(|f| f.to_string()).collect();
        let has = |needle: &str| text.iter().any(|t| t.contains(needle));
        assert!(
            has("resources[2] (AWS::EC2::Instance) mappings.properties.state: syntax error"),
            "{text:#?}"
        );
        assert!(has("no property \"colour\""), "{text:#?}");
        assert!(
            has("resources[1] (AWS::S3::Bucket) mappings.relations.owner"),
            "{text:#?}"
        );
        assert!(has("blueprint \"nope\" does not exist"), "{text:#?}");
        assert!(has("resources[0] (AWS::NoSuchKind) kind"), "{text:#?}");
        assert_eq!(f.len(), 5, "{text:#?}");
    }
}
