//! `AWS::SES::ConfigurationSet`: `ses:ListConfigurationSets` (names, every page), then
//! `GetConfigurationSet` once per name, as aws-v3's `ListConfigurationSetsAction` and
//! `GetConfigurationSetAction` (both default; the kind has no optional action). Listed only
//! in aws-v3's SES regions ([`REGIONS`](super::REGIONS)).
//!
//! aws-v3's model `ignore`s undeclared keys: `Properties` are its 9 declared keys, from
//! `{ConfigurationSetName}` (the listed name) with the `GetConfigurationSet` answer over it,
//! in the model's order, read from the answer's own JSON ([`RawJson`]) so the nested option
//! objects stay as SES sent them; `ReputationOptions.LastFreshStart`, epoch seconds on the
//! wire, as RFC 3339. `__ExtraContext` is `{AccountId, Region}`.
//!
//! A failed `GetConfigurationSet` keeps the set as `{ConfigurationSetName}` (aws-v3's
//! `ListConfigurationSetsAction` alone), logged and counted; only that set loses its
//! details (aws-v3 loses those of the whole page on an error other than not-found or
//! access denied).

use aws_sdk_sesv2::Client;
use serde_json::{Map, Value, json};

use super::properties;
use crate::aws::AwsError;
use crate::aws::kinds::{Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, item};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::SES::ConfigurationSet",
    scope: Scope::Regional(Regions::Only(super::REGIONS)),
    list: lister!(list),
    default_actions: &[
        Action {
            name: "ListConfigurationSetsAction",
            iam: &["ses:ListConfigurationSets"],
            adds: &[],
            replaces: &[],
        },
        GET,
    ],
    optional_actions: &[],
    fixture: Fixture {
        example: "ses-configuration-set",
        keys: &[
            "ConfigurationSetName",
            "TrackingOptions",
            "DeliveryOptions",
            "ReputationOptions",
            "SendingOptions",
            "Tags",
            "SuppressionOptions",
            "VdmOptions",
        ],
    },
};

/// `GetConfigurationSetAction`: the set's options and tags, one call per set.
const GET: Action = Action {
    name: "GetConfigurationSetAction",
    iam: &["ses:GetConfigurationSet"],
    adds: &[],
    replaces: &[],
};

/// aws-v3's declared keys, in its model's order.
const DECLARED: &[&str] = &[
    "ConfigurationSetName",
    "TrackingOptions",
    "DeliveryOptions",
    "ReputationOptions",
    "SendingOptions",
    "Tags",
    "SuppressionOptions",
    "VdmOptions",
    "ArchivingOptions",
];

/// Nested timestamps of the declared keys, `(key, member)`.
const STAMPS: &[(&str, &str)] = &[("ReputationOptions", "LastFreshStart")];

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let ses = Client::new(&ctx.sdk_config());
    // A bound on the pages listed would stop this loop.
    let mut pages = ses.list_configuration_sets().into_paginator().send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page(
            "ses:ListConfigurationSets",
            &mut cursors,
            pages.next(),
            |p| p.next_token(),
        )
        .await?
    {
        let items: Vec<Value> = ctx
            .per_resource("ses", page.configuration_sets(), |name| {
                let (ctx, ses) = (ctx.clone(), ses.clone());
                async move {
                    let listed = Map::from_iter([("ConfigurationSetName".into(), json!(name))]);
                    let got = get(&ctx, &ses, name).await;
                    item(
                        KIND.name,
                        properties(listed, got, DECLARED, STAMPS),
                        Some(ctx.extra_context()),
                    )
                }
            })
            .await;
        emit.send(items).await?;
    }
    Ok(())
}

/// `GetConfigurationSet` of one set: its answer's JSON; `None`, logged and counted, when the
/// call failed.
async fn get(ctx: &ListCtx, ses: &Client, name: &str) -> Option<Map<String, Value>> {
    ctx.pace("ses").await;
    let raw = RawJson::default();
    let sent = ses
        .get_configuration_set()
        .configuration_set_name(name)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await;
    super::answer(ctx, (KIND.name, &GET, "ses:GetConfigurationSet"), name, sent, &raw)
}
