//! Entity routes besides the bulk upsert ([`super::loader`]): the listing of the entities
//! this integration owns, and the bulk delete. What may be deleted is decided above, in
//! `resync::reconcile`; this module only speaks Port's wire format.
//!
//! - `POST /v1/blueprints/entities/datasource-entities`: entities whose `$datasource` has
//!   our prefix `port-ocean/{type}/` and suffix `/{identifier}/exporter`, last updated
//!   `before` a time, paged by cursor (Ocean's page size, 5,000).
//! - `POST /v1/blueprints/{blueprint}/bulk/entities/delete`: at most
//!   [`MAX_DELETE_IDS`] identifiers, with `delete_dependents`.

use std::collections::BTreeSet;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Client, Feature, PortError, Retry};
use crate::pagination::Cursors;

/// Port's limit of identifiers per bulk delete.
pub(crate) const MAX_DELETE_IDS: usize = 100;
/// Page size of the owned-entity listing (Ocean's).
const LISTING_PAGE: u64 = 5000;
const LISTING_PATH: &str = "/blueprints/entities/datasource-entities";

/// An entity by its key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct EntityRef {
    /// Blueprint identifier.
    pub(crate) blueprint: String,
    /// Entity identifier.
    pub(crate) identifier: String,
}

/// A page of the owned-entity listing, reduced to what reconciliation reads.
#[derive(Deserialize)]
struct OwnedPage {
    #[serde(default)]
    entities: Vec<OwnedEntity>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct OwnedEntity {
    #[serde(default, deserialize_with = "string_or_none")]
    blueprint: Option<String>,
    #[serde(default, deserialize_with = "string_or_none")]
    identifier: Option<String>,
}

/// A string, or `None` for anything else (an entity without a plain identifier is not
/// ours to delete).
fn string_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// Every entity whose `$datasource` is ours, last updated before `before` (RFC 3339). A
/// listing whose cursor repeats is an error, never a short list.
pub(crate) async fn list_owned(
    client: &Client,
    before: &str,
) -> Result<BTreeSet<EntityRef>, PortError> {
    let mut owned = BTreeSet::new();
    let mut cursor: Option<String> = None;
    let mut cursors = Cursors::default();
    loop {
        let mut body = json!({
            "datasource_prefix": format!("port-ocean/{}/", client.integration_type),
            "datasource_suffix": format!("/{}/exporter", client.identifier),
            "limit": LISTING_PAGE,
            "before": before,
        });
        if let Some(c) = &cursor {
            body["from"] = json!(c);
        }
        let page: OwnedPage = client
            .request_as(
                Method::POST,
                LISTING_PATH,
                Some(body.to_string().into()),
                Feature::None,
                Retry::Transient,
            )
            .await?;
        for e in page.entities {
            if let (Some(blueprint), Some(identifier)) = (e.blueprint, e.identifier) {
                owned.insert(EntityRef {
                    blueprint,
                    identifier,
                });
            }
        }
        // A cursor seen before would loop forever: the listing is not trustworthy, so
        // nothing is deleted on its basis.
        match cursors.next(page.next.as_deref()) {
            Ok(Some(next)) => cursor = Some(next),
            Ok(None) => return Ok(owned),
            Err(repeated) => {
                return Err(PortError::Status {
                    method: "POST".into(),
                    path: LISTING_PATH.into(),
                    status: 200,
                    message: repeated.to_string(),
                    trace_id: "-".into(),
                });
            }
        }
    }
}

/// How a bulk delete is sent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeleteOptions<'a> {
    /// Port deletes the entities' dependents too (the mapping's `deleteDependentEntities`).
    pub(crate) delete_dependents: bool,
    /// Sent as `ocean_info_resync_id`.
    pub(crate) run_id: &'a str,
}

/// Deletes `identifiers` (at most [`MAX_DELETE_IDS`]) of `blueprint`; returns how many Port
/// says it deleted. Port refuses the whole request when one entity cannot go
/// ([`PortError::is_refusal`]).
pub(crate) async fn delete_bulk(
    client: &Client,
    blueprint: &str,
    identifiers: &[String],
    options: DeleteOptions<'_>,
) -> Result<u64, PortError> {
    let path = format!(
        "/blueprints/{}/bulk/entities/delete",
        urlencoding::encode(blueprint)
    );
    let query = [
        ("delete_dependents", options.delete_dependents.to_string()),
        ("ocean_info_event_type", "resync".to_string()),
        ("ocean_info_resync_id", options.run_id.to_string()),
    ];
    let resp = client
        .request(
            Method::POST,
            &path,
            &query,
            Some(&json!({ "entities": identifiers })),
            Feature::Exporter,
            Retry::Transient,
        )
        .await?;
    Ok(resp.body["deletedEntities"]
        .as_array()
        .map_or(0, |d| d.len() as u64))
}
