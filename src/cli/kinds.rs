//! `kinds`: the kinds this program lists natively, with the `includeActions` each accepts
//! and the IAM actions each needs, and how any other `AWS::X::Y` type is listed (Cloud
//! Control). Read from the registry, so it cannot go stale.

use serde_json::{Value, json};

use super::exit;
use crate::aws::kinds::{self, Action, Kind, Regions, Scope, cloudcontrol};

/// Prints the kinds, as text or (`json`) one JSON document.
pub(super) fn run(json: bool) -> u8 {
    if json {
        println!("{}", document());
    } else {
        print!("{}", text());
    }
    exit::COMPLETE
}

fn scope(kind: &Kind) -> String {
    match kind.scope {
        Scope::Account => "account".into(),
        Scope::Organization => "organization".into(),
        Scope::Global => "global".into(),
        Scope::Regional(Regions::All) => "regional".into(),
        Scope::Regional(Regions::Only(list)) => format!("regional ({} regions)", list.len()),
    }
}

fn actions(list: &[Action]) -> Value {
    list.iter()
        .map(|a| json!({"name": a.name, "iam": a.iam}))
        .collect()
}

fn document() -> Value {
    let native: Vec<Value> = kinds::all()
        .map(|k| {
            json!({
                "kind": k.name,
                "scope": scope(k),
                "defaultActions": actions(k.default_actions),
                "includeActions": actions(k.optional_actions),
            })
        })
        .collect();
    json!({
        "native": native,
        "cloudControl": {
            "kinds": "any other AWS::<service>::<resource> CloudFormation type",
            "iam": ["cloudformation:ListResources", "cloudformation:GetResource", "plus the type's own read permissions (its schema's list and read handlers)"],
            "selector": ["useGetResourceAPI", "resourceModel", "regionPolicy"],
            "globalServices": cloudcontrol::GLOBAL_SERVICES,
            "requiresResourceModel": cloudcontrol::REQUIRES_MODEL.iter().map(|(t, p)| json!({"kind": t, "property": p})).collect::<Vec<_>>(),
        },
    })
}

fn text() -> String {
    use std::fmt::Write;
    let names = |list: &[Action]| {
        list.iter()
            .map(|a| format!("{} ({})", a.name, a.iam.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut out = String::new();
    let count = kinds::all().count();
    let _ = writeln!(out, "{count} native kinds (aws-v3's):\n");
    for k in kinds::all() {
        let _ = writeln!(out, "{}  [{}]", k.name, scope(k));
        if !k.default_actions.is_empty() {
            let _ = writeln!(out, "  always:         {}", names(k.default_actions));
        }
        if !k.optional_actions.is_empty() {
            let _ = writeln!(out, "  includeActions: {}", names(k.optional_actions));
        }
    }
    let _ = writeln!(
        out,
        "\nAny other AWS::<service>::<resource> type is listed through AWS Cloud Control:\n\
         \x20 IAM: cloudformation:ListResources, cloudformation:GetResource, plus the type's own read\n\
         \x20 permissions (those its CloudFormation schema's list and read handlers name).\n\
         \x20 Properties are CloudFormation's (.Properties.<Name> as in the type's schema).\n\
         \x20 selector.useGetResourceAPI: true calls GetResource per resource; selector.resourceModel\n\
         \x20 gives the parent a type is listed under ({}).\n\
         \x20 Types of {} are global: listed once per account (through us-east-1 when allowed).",
        cloudcontrol::REQUIRES_MODEL
            .iter()
            .map(|(t, p)| format!("{t}: {p}"))
            .collect::<Vec<_>>()
            .join(", "),
        cloudcontrol::GLOBAL_SERVICES.join(", "),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_native_kind_is_listed_with_its_actions_and_the_cloud_control_note() {
        let text = text();
        for k in kinds::all() {
            assert!(text.contains(&format!("{}  [", k.name)), "{}", k.name);
            for a in k.default_actions.iter().chain(k.optional_actions) {
                assert!(text.contains(a.name) && a.iam.iter().all(|i| text.contains(i)));
            }
        }
        assert!(text.contains("cloudformation:ListResources"));
        let doc = document();
        assert_eq!(
            doc["native"].as_array().unwrap().len(),
            kinds::all().count()
        );
        assert_eq!(doc["native"][0]["kind"], "AWS::Account::Info");
    }
}
