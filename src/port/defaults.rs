//! Our default Port resources, embedded in the binary: the seed mapping used when the
//! integration does not exist yet, and the blueprints it targets.

use serde_json::Value;

/// `resources/port-app-config.yml`.
pub const PORT_APP_CONFIG_YAML: &str = include_str!("../../resources/port-app-config.yml");

/// `resources/blueprints.json`.
pub const BLUEPRINTS_JSON: &str = include_str!("../../resources/blueprints.json");

/// `resources/actions.json`: the self-service actions the daemon serves.
pub const ACTIONS_JSON: &str = include_str!("../../resources/actions.json");

/// The action definition with this identifier (its webhook URL still the placeholder).
pub fn action(identifier: &str) -> Option<Value> {
    let actions: Vec<Value> = serde_json::from_str(ACTIONS_JSON).ok()?;
    actions.into_iter().find(|a| a["identifier"] == identifier)
}

/// The `awsAccount` blueprint, which the account actions target.
pub fn account_blueprint() -> Value {
    blueprints()
        .into_iter()
        .find(|b| b["identifier"] == "awsAccount")
        .expect("resources/blueprints.json has awsAccount")
}

/// The default mapping as the JSON object stored in the integration's `config`.
pub fn port_app_config() -> Value {
    serde_yaml::from_str(PORT_APP_CONFIG_YAML).expect("resources/port-app-config.yml is valid YAML")
}

/// The default blueprints.
pub fn blueprints() -> Vec<Value> {
    serde_json::from_str(BLUEPRINTS_JSON).expect("resources/blueprints.json is a JSON array")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::Mapping;

    #[test]
    fn default_mapping_compiles_and_targets_default_blueprints() {
        let mapping = Mapping::from_json(&port_app_config()).unwrap();
        let ids: Vec<String> = blueprints()
            .iter()
            .map(|b| b["identifier"].as_str().unwrap().to_string())
            .collect();
        for r in &mapping.resources {
            let bp = r.constant_blueprint().unwrap();
            assert!(ids.iter().any(|i| i == bp), "{bp} has no default blueprint");
        }
        // That each default resource's kind is in the kind registry is checked a layer up,
        // by `tools::validate`'s `the_default_mapping_is_clean`.
        // The actions are valid JSON and target a default blueprint.
        let actions: Vec<Value> = serde_json::from_str(ACTIONS_JSON).unwrap();
        for a in &actions {
            let bp = a["trigger"]["blueprintIdentifier"].as_str().unwrap();
            assert!(ids.iter().any(|i| i == bp), "{bp}");
            assert!(action(a["identifier"].as_str().unwrap()).is_some());
        }
        assert_eq!(account_blueprint()["identifier"], "awsAccount");
        // Each default blueprint is what a default resource (of a registered kind) fills.
        for id in &ids {
            assert!(
                mapping
                    .resources
                    .iter()
                    .any(|r| r.constant_blueprint() == Some(id.as_str())),
                "default blueprint {id} is not mapped by the default mapping"
            );
        }
    }
}
