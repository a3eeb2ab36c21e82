//! The port app config ("mapping") as users write it: camelCase keys, Ocean's defaults.
//!
//! This is the integration's `config` object in Port (`GET /v1/integration/{id}`); the
//! local `resources/port-app-config.yml` is only the seed used when the integration is
//! created. Unknown keys are kept out of the model but do not fail parsing, as Ocean's
//! pydantic models ignore them too.

use serde::Deserialize;
use serde_json::{Map, Value};

/// The whole mapping.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortAppConfig {
    /// `delete_dependents` on deletions (Ocean default: true).
    #[serde(default = "yes")]
    pub delete_dependent_entities: bool,
    /// `create_missing_related_entities` on upserts (Ocean default: true).
    #[serde(default = "yes")]
    pub create_missing_related_entities: bool,
    /// `merge` on upserts (Ocean default: true).
    #[serde(default = "yes")]
    pub enable_merge_entity: bool,
    /// Largest share of owned entities one reconciliation may delete (default 0.9).
    #[serde(default = "default_threshold")]
    pub entity_deletion_threshold: f64,
    /// The resources, in order; the same kind may appear several times.
    #[serde(default)]
    pub resources: Vec<ResourceConfig>,
}

fn yes() -> bool {
    true
}

fn default_threshold() -> f64 {
    0.9
}

/// One `resources[]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceConfig {
    /// `AWS::X::Y`.
    pub kind: String,
    /// Which raw items to keep, and where to look for them.
    pub selector: Selector,
    /// How a raw item becomes an entity.
    pub port: PortSection,
}

/// `selector`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    /// JQ that must yield a boolean.
    pub query: String,
    /// aws-v3: which regions this resource is listed in.
    #[serde(default)]
    pub region_policy: RegionPolicy,
    /// aws-v3: optional enrichment actions (at most 3).
    #[serde(default)]
    pub include_actions: Vec<String>,
    /// aws-v3: accounts at once for this resource. Accounts are listed once for every kind
    /// here, so the run uses the smallest of these and the integration setting.
    #[serde(default)]
    pub max_concurrent_accounts: Option<u32>,
    /// History kinds only: list only items started within this many days. Kept as written
    /// so that a bad value is reported with its kind and field ([`Selector::history_bound`])
    /// instead of failing the whole config's parse.
    #[serde(default)]
    pub max_age_days: Option<Value>,
    /// History kinds only: list at most this many items, the newest, per listing scope.
    #[serde(default)]
    pub max_items: Option<Value>,
    /// Cloud Control types only: call `GetResource` for every listed resource (the name
    /// Port's v1 `aws` integration gave it). A boolean, or `"true"`/`"false"` as v1's
    /// examples write it; read by [`Selector::cloud_control`].
    #[serde(default, rename = "useGetResourceAPI")]
    pub use_get_resource_api: Option<Value>,
    /// Cloud Control types only: the `ResourceModel` a type's `ListResources` requires (e.g.
    /// `{ClusterName: prod}` for `AWS::EKS::Nodegroup`), as an object or a JSON string.
    #[serde(default)]
    pub resource_model: Option<Value>,
}

/// `selector.useGetResourceAPI` and `selector.resourceModel` of a type listed through
/// Cloud Control.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloudControlSelector {
    /// `GetResource` per listed resource.
    pub get_resource: bool,
    /// The `ResourceModel` of `ListResources`, compact JSON of an object.
    pub resource_model: Option<String>,
}

impl CloudControlSelector {
    /// Whether the selector sets either option.
    pub fn is_set(&self) -> bool {
        self.get_resource || self.resource_model.is_some()
    }
}

/// `selector.maxAgeDays` and `selector.maxItems` of a history kind: how much of the
/// retained history a listing reads. Both absent is aws-v3's behaviour (everything).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryBound {
    /// Items started more than this many days before the listing are left out.
    pub max_age_days: Option<u32>,
    /// At most this many items, the newest, per listing scope.
    pub max_items: Option<u32>,
}

impl HistoryBound {
    /// Whether it bounds anything.
    pub fn is_bounded(&self) -> bool {
        self.max_age_days.is_some() || self.max_items.is_some()
    }

    /// The bound of one listing read for several resources: the loosest of theirs, so that
    /// each gets at least its window (`None`, unbounded, when any resource has no bound).
    pub fn loosest<'a>(
        bounds: impl IntoIterator<Item = &'a Option<HistoryBound>>,
    ) -> Option<HistoryBound> {
        let mut out: Option<HistoryBound> = None;
        for b in bounds {
            let b = (*b)?;
            out = Some(match out {
                None => b,
                Some(o) => HistoryBound {
                    max_age_days: o.max_age_days.zip(b.max_age_days).map(|(x, y)| x.max(y)),
                    max_items: o.max_items.zip(b.max_items).map(|(x, y)| x.max(y)),
                },
            });
        }
        out.filter(HistoryBound::is_bounded)
    }
}

impl Selector {
    /// `maxAgeDays` and `maxItems` read; `Ok(None)` when neither is set. A value that is
    /// not a whole number of at least 1 is an error naming the field and what it expects.
    pub fn history_bound(&self) -> Result<Option<HistoryBound>, Vec<(&'static str, String)>> {
        let read = |field: &'static str,
                    v: &Option<Value>|
         -> Result<Option<u32>, (&'static str, String)> {
            match v {
                None | Some(Value::Null) => Ok(None),
                Some(v) => match v.as_u64() {
                    Some(n) if n >= 1 && n <= u64::from(u32::MAX) => Ok(Some(n as u32)),
                    _ => Err((
                        field,
                        format!("{v} is not valid: expected a whole number of at least 1"),
                    )),
                },
            }
        };
        let age = read("selector.maxAgeDays", &self.max_age_days);
        let items = read("selector.maxItems", &self.max_items);
        match (age, items) {
            (Ok(max_age_days), Ok(max_items)) => Ok(Some(HistoryBound {
                max_age_days,
                max_items,
            })
            .filter(HistoryBound::is_bounded)),
            (age, items) => Err(age.err().into_iter().chain(items.err()).collect()),
        }
    }
}

impl Selector {
    /// `useGetResourceAPI` and `resourceModel` read. A value of the wrong type is an error
    /// naming the field and what it expects.
    pub fn cloud_control(&self) -> Result<CloudControlSelector, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let get_resource = match &self.use_get_resource_api {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
            Some(v) => {
                errors.push((
                    "selector.useGetResourceAPI",
                    format!("{v} is not valid: expected true or false"),
                ));
                false
            }
        };
        let expected = "expected an object of the type's CloudFormation properties (or that object as a JSON string)";
        let resource_model = match &self.resource_model {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(Value::Object(m.clone()).to_string()),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(m)) => Some(Value::Object(m).to_string()),
                _ => {
                    errors.push((
                        "selector.resourceModel",
                        format!("{s:?} is not valid: {expected}"),
                    ));
                    None
                }
            },
            Some(v) => {
                errors.push((
                    "selector.resourceModel",
                    format!("{v} is not valid: {expected}"),
                ));
                None
            }
        };
        // Cloud Control's own limit on the parameter.
        if let Some(m) = &resource_model
            && m.len() > 16_384
        {
            errors.push((
                "selector.resourceModel",
                format!(
                    "is {} characters of JSON: Cloud Control takes at most 16384",
                    m.len()
                ),
            ));
        }
        if errors.is_empty() {
            Ok(CloudControlSelector {
                get_resource,
                resource_model,
            })
        } else {
            Err(errors)
        }
    }
}

/// `selector.regionPolicy` (aws-v3 semantics: deny wins; an allow list excludes the rest).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct RegionPolicy {
    /// Regions to list in.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Regions never to list in.
    #[serde(default)]
    pub deny: Vec<String>,
}

impl RegionPolicy {
    /// aws-v3's `is_region_allowed`, exact string match.
    pub fn allows(&self, region: &str) -> bool {
        let allowed = |list: &[String]| list.iter().any(|r| r == region);
        if allowed(&self.deny) {
            return false;
        }
        self.allow.is_empty() || allowed(&self.allow)
    }
}

/// `port`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortSection {
    /// `port.entity`.
    pub entity: EntitySection,
    /// JQ yielding an array: each element becomes its own item (`{…parent, item: element}`).
    #[serde(default)]
    pub items_to_parse: Option<String>,
    /// Key the element is put under (default `item`).
    #[serde(default = "default_items_name")]
    pub items_to_parse_name: String,
    /// Remove the parsed array from the parent copy each element gets (default true).
    #[serde(default = "yes")]
    pub items_to_parse_top_level_transform: bool,
}

fn default_items_name() -> String {
    "item".into()
}

/// `port.entity`.
#[derive(Debug, Clone, Deserialize)]
pub struct EntitySection {
    /// The field expressions.
    pub mappings: Mappings,
}

/// `port.entity.mappings`: every value is a JQ expression, except that `identifier`,
/// `team` and relation values may also be search queries (objects whose leaves are JQ).
#[derive(Debug, Clone, Deserialize)]
pub struct Mappings {
    /// Entity identifier: JQ, or a search query.
    pub identifier: Value,
    /// Target blueprint (usually a string literal such as `'"ec2Instance"'`).
    pub blueprint: String,
    /// Entity title.
    #[serde(default)]
    pub title: Option<Value>,
    /// Entity icon.
    #[serde(default)]
    pub icon: Option<Value>,
    /// Owning team(s).
    #[serde(default)]
    pub team: Option<Value>,
    /// Property name → JQ.
    #[serde(default)]
    pub properties: Map<String, Value>,
    /// Relation name → JQ or search query.
    #[serde(default)]
    pub relations: Map<String, Value>,
}

impl PortAppConfig {
    /// Parses the integration's `config` object.
    pub fn from_json(v: &Value) -> Result<PortAppConfig, String> {
        PortAppConfig::deserialize(v).map_err(|e| e.to_string())
    }

    /// Parses a YAML document (the embedded default, or a user's file).
    pub fn from_yaml(text: &str) -> Result<PortAppConfig, String> {
        serde_yaml::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_policy_follows_aws_v3() {
        let p = |allow: &[&str], deny: &[&str]| RegionPolicy {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            deny: deny.iter().map(|s| s.to_string()).collect(),
        };
        assert!(p(&[], &[]).allows("us-east-1"));
        assert!(!p(&["us-east-1"], &["us-east-1"]).allows("us-east-1"));
        assert!(p(&["us-east-1"], &[]).allows("us-east-1"));
        assert!(!p(&["us-east-1"], &[]).allows("eu-west-1"));
        assert!(p(&[], &["us-east-1"]).allows("eu-west-1"));
        assert!(!p(&["a"], &["b"]).allows("c"));
    }

    #[test]
    fn defaults_are_oceans() {
        let c = PortAppConfig::from_yaml("resources: []").unwrap();
        assert!(c.delete_dependent_entities && c.create_missing_related_entities);
        assert!(c.enable_merge_entity);
        assert_eq!(c.entity_deletion_threshold, 0.9);
    }
}
