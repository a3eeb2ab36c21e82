//! Ocean's mapping semantics, with expected results from real jq: each case runs through
//! our engine and through a Python re-statement of Ocean's entity processor on libjq 1.7.1
//! (`tests/support/jq_oracle.py`, `map` mode), and the outcomes must be equal.

mod support;

use aws_catalog_sync::mapping::{CompileOptions, Item, Mapping, Outcome};
use serde_json::{Value, json};

fn raw(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/aws-v3-raw/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn resource(kind: &str, selector: &str, port: Value) -> Value {
    json!({"kind": kind, "selector": {"query": selector}, "port": port})
}

/// Our outcomes in the oracle's vocabulary.
fn ours(resource: &Value, item: &Value, allow_env: bool) -> Vec<Value> {
    let mapping = Mapping::from_json_with(
        &json!({"resources": [resource]}),
        CompileOptions { allow_env },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    mapping.resources[0].map(&Item::json(item), &mut Vec::new(), &mut out);
    out.into_iter()
        .map(|o| match o {
            Outcome::Entity(e) => json!({"entity": e.body}),
            Outcome::Filtered => json!({"filtered": true}),
            Outcome::Dropped(why) => json!({"dropped": why}),
            Outcome::ItemError(_) => json!({"selector_error": true}),
        })
        .collect()
}

/// Dropped reasons are worded differently; the verdict must match.
fn normalise(outcomes: &[Value]) -> Vec<Value> {
    outcomes
        .iter()
        .map(|o| {
            if o.get("dropped").is_some() {
                json!({"dropped": true})
            } else {
                o.clone()
            }
        })
        .collect()
}

/// Runs every (resource, item, allow_env) case through both and compares.
fn check(cases: Vec<(&str, Value, Value, bool)>) {
    let oracle_cases: Vec<(Value, Value, bool)> = cases
        .iter()
        .map(|(_, r, i, e)| (r.clone(), i.clone(), *e))
        .collect();
    let expected = support::jq_oracle::ocean_map(&oracle_cases);
    for ((name, resource, item, allow_env), expected) in cases.iter().zip(expected) {
        let got = normalise(&ours(resource, item, *allow_env));
        let expected = normalise(&expected);
        assert!(
            support::same_json(&Value::Array(got.clone()), &Value::Array(expected.clone())),
            "{name}:\n  ours {}\n  jq   {}",
            serde_json::to_string_pretty(&got).unwrap(),
            serde_json::to_string_pretty(&expected).unwrap()
        );
        // Guard against vacuous comparisons: only an empty array fans out to nothing.
        assert!(
            !expected.is_empty() || name.contains("no tags"),
            "{name}: the case produces something"
        );
    }
}

#[test]
fn items_to_parse_fans_out_like_ocean() {
    let ec2 = raw("ec2-instance");
    let mut untagged = ec2.clone();
    untagged["Properties"]["Tags"] = Value::Null;
    let mut no_tags = ec2.clone();
    no_tags["Properties"]["Tags"] = json!([]);
    let per_tag = resource(
        "AWS::EC2::Instance",
        ".item.Key != \"Team\"",
        json!({
            "itemsToParse": ".Properties.Tags",
            "entity": {"mappings": {
                "identifier": ".Properties.InstanceId + \"-\" + .item.Key",
                "title": ".item.Value",
                "blueprint": "\"ec2Tag\"",
                "properties": {"key": ".item.Key", "parentTags": ".Properties.Tags", "state": ".Properties.State.Name"},
                "relations": {"instance": ".Properties.InstanceId"}
            }}
        }),
    );
    let named_no_transform = resource(
        "AWS::EC2::Instance",
        "true",
        json!({
            "itemsToParse": ".Properties.Tags | map(select(.Key != \"Name\"))",
            "itemsToParseName": "tag",
            "itemsToParseTopLevelTransform": false,
            "entity": {"mappings": {
                "identifier": ".tag.Key",
                "blueprint": "\"tag\"",
                "properties": {"tagCount": ".Properties.Tags | length", "value": ".tag.Value"}
            }}
        }),
    );
    let mapped = resource(
        "AWS::EC2::Instance",
        "true",
        json!({
            "itemsToParse": "map(.)",
            "entity": {"mappings": {"identifier": ".item | tostring", "blueprint": "\"x\""}}
        }),
    );
    check(vec![
        ("per tag", per_tag.clone(), ec2.clone(), true),
        ("per tag, null tags", per_tag.clone(), untagged, true),
        ("per tag, no tags", per_tag, no_tags, true),
        ("named, no transform", named_no_transform, ec2.clone(), true),
        ("map() over a non-list parent", mapped, ec2, true),
    ]);
}

#[test]
fn search_queries_teams_icons_and_literals_like_ocean() {
    let ec2 = raw("ec2-instance");
    let full = resource(
        "AWS::EC2::Instance",
        ".Properties.State.Name == 'running'",
        json!({"entity": {"mappings": {
            "identifier": {"combinator": "\"and\"", "rules": [
                {"property": "\"$identifier\"", "operator": "\"=\"", "value": ".Properties.InstanceId"}
            ]},
            "blueprint": "\"ec2Instance\"",
            "title": ".Properties.Tags[]? | select(.Key == \"Name\") | .Value",
            "icon": "\"AWS\"",
            "team": ".Properties.Tags | from_entries | .Team",
            "properties": {
                "tags": ".Properties.Tags | from_entries",
                "count": 5,
                "flag": true,
                "missing": ".Properties.DoesNotExist",
                "broken": ".Properties.InstanceId | tonumber"
            },
            "relations": {
                "account": ".__ExtraContext.AccountId",
                "owner": {"combinator": "\"and\"", "rules": [
                    {"property": "\"team\"", "operator": "\"in\"", "value": "[.Properties.Tags[].Value]"}
                ]}
            }
        }}}),
    );
    let minimal = resource(
        "AWS::EC2::Instance",
        "true",
        json!({"entity": {"mappings": {"identifier": ".Properties.InstanceId", "blueprint": "\"ec2Instance\""}}}),
    );
    let mut stopped = ec2.clone();
    stopped["Properties"]["State"]["Name"] = json!("stopped");
    check(vec![
        ("everything", full.clone(), ec2.clone(), true),
        ("selector false", full, stopped, true),
        ("only identifier and blueprint", minimal, ec2, true),
    ]);
}

#[test]
fn selector_errors_empty_identifiers_and_env_access_like_ocean() {
    let s3 = raw("s3-bucket");
    let non_bool = resource(
        "AWS::S3::Bucket",
        ".Properties.BucketName",
        json!({"entity": {"mappings": {"identifier": ".Properties.Arn", "blueprint": "\"s3Bucket\""}}}),
    );
    let empty_id = resource(
        "AWS::S3::Bucket",
        "true",
        json!({"entity": {"mappings": {"identifier": ".Properties.Nope // \"\"", "blueprint": "\"s3Bucket\""}}}),
    );
    let env = resource(
        "AWS::S3::Bucket",
        "true",
        json!({"entity": {"mappings": {
            "identifier": ".Properties.Arn",
            "blueprint": "\"s3Bucket\"",
            "properties": {"path": "env.PATH", "envPath": "$ENV.PATH", "home": "$ENV | has(\"PATH\")"}
        }}}),
    );
    check(vec![
        ("selector yields a string", non_bool, s3.clone(), true),
        ("empty identifier", empty_id, s3.clone(), true),
        ("env allowed", env.clone(), s3.clone(), true),
        ("env stubbed", env, s3, false),
    ]);
}

#[test]
fn the_same_kind_twice_gives_each_resource_its_own_entities() {
    let mapping = Mapping::from_json(&json!({"resources": [
        {"kind": "AWS::S3::Bucket", "selector": {"query": "true"},
         "port": {"entity": {"mappings": {"identifier": ".Properties.Arn", "blueprint": "\"s3Bucket\""}}}},
        {"kind": "AWS::S3::Bucket", "selector": {"query": ".Properties.Tags | length > 0"},
         "port": {"entity": {"mappings": {"identifier": ".Properties.BucketName", "blueprint": "\"taggedBucket\""}}}}
    ]}))
    .unwrap();
    let raw = raw("s3-bucket");
    let item = Item::json(&raw);
    let blueprints: Vec<String> = mapping
        .resources
        .iter()
        .flat_map(|r| {
            let mut out = Vec::new();
            r.map(&item, &mut Vec::new(), &mut out);
            out
        })
        .filter_map(|o| match o {
            Outcome::Entity(e) => Some(e.blueprint),
            _ => None,
        })
        .collect();
    assert_eq!(blueprints, vec!["s3Bucket", "taggedBucket"]);
}
