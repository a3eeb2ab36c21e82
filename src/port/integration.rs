//! The integration's lifecycle in Port: bootstrap and resync state.
//!
//! Bootstrap is split in two so that nothing is written before the mapping is known to be
//! valid: [`fetch`] only reads (`GET /v1/integration/{id}`), the caller compiles the mapping
//! it returns (or our default when the integration does not exist), and only then
//! [`ensure`] writes: it creates the integration with our default mapping, seeds an empty
//! mapping, and creates the default blueprints once (create-only: nothing is created when
//! any of them already exists, as Ocean does).

use reqwest::Method;
use serde_json::{Value, json};

use super::{Client, Feature, PortError, Retry, defaults};

/// What [`fetch`] found.
#[derive(Debug)]
pub(crate) struct Existing {
    /// The integration object, when it exists.
    pub(crate) integration: Option<Value>,
}

impl Existing {
    /// The mapping to use: the integration's config when it has one, else our default.
    pub(crate) fn mapping_source(&self) -> (Value, MappingOrigin) {
        match self.integration.as_ref().and_then(|i| i.get("config")) {
            Some(c) if c.as_object().is_some_and(|o| !o.is_empty()) => {
                (c.clone(), MappingOrigin::Port)
            }
            _ => (defaults::port_app_config(), MappingOrigin::Default),
        }
    }
}

/// Where the mapping of this run comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MappingOrigin {
    /// The integration's config in Port.
    Port,
    /// Our embedded default (the integration is new or has an empty mapping).
    Default,
}

/// `GET /v1/integration/{id}`; a 404 means "not created yet".
pub(crate) async fn fetch(client: &Client) -> Result<Existing, PortError> {
    let path = format!("/integration/{}", urlencoding::encode(&client.identifier));
    match client.get(&path).await {
        Ok(resp) => Ok(Existing {
            integration: resp.body.get("integration").cloned(),
        }),
        Err(e) if e.status() == Some(404) => Ok(Existing { integration: None }),
        Err(e) => Err(e),
    }
}

/// Creates what is missing: the integration (with our default mapping), the mapping when
/// it is empty, and the default blueprints when `initialize_port_resources` is on.
pub(crate) async fn ensure(
    client: &Client,
    existing: &Existing,
    initialize_port_resources: bool,
) -> Result<(), PortError> {
    let id = urlencoding::encode(&client.identifier).into_owned();
    match &existing.integration {
        None => {
            tracing::info!(identifier = %client.identifier, "creating the integration in Port with the default mapping");
            let body = json!({
                "installationId": client.identifier,
                "installationAppType": client.integration_type,
                "version": crate::VERSION,
                "changelogDestination": {},
                "config": defaults::port_app_config(),
                "actionsProcessingEnabled": false,
                "incrementalSyncEnabled": false,
                "createPortResourcesOrigin": "Default",
            });
            client
                .request(
                    Method::POST,
                    "/integration",
                    &[],
                    Some(&body),
                    Feature::None,
                    Retry::Never,
                )
                .await?;
        }
        Some(integration) => {
            let empty = integration
                .get("config")
                .and_then(Value::as_object)
                .is_none_or(|o| o.is_empty());
            if empty && initialize_port_resources {
                tracing::info!("the integration has no mapping; setting the default one");
                let body = json!({"config": defaults::port_app_config()});
                client
                    .request(
                        Method::PATCH,
                        &format!("/integration/{id}/config"),
                        &[],
                        Some(&body),
                        Feature::None,
                        Retry::Never,
                    )
                    .await?;
            }
        }
    }
    let initialized = existing
        .integration
        .as_ref()
        .and_then(|i| i.get("arePortResourcesInitialized"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if initialize_port_resources && !initialized {
        create_default_blueprints(client).await?;
        let body = json!({"arePortResourcesInitialized": true, "version": crate::VERSION});
        client
            .request(
                Method::PATCH,
                &format!("/integration/{id}"),
                &[],
                Some(&body),
                Feature::None,
                Retry::Never,
            )
            .await?;
    }
    Ok(())
}

/// Ocean's create-only rule: if any default blueprint exists, create none. Otherwise
/// create them without relations first (so targets exist), then add the relations.
async fn create_default_blueprints(client: &Client) -> Result<(), PortError> {
    let blueprints = defaults::blueprints();
    for bp in &blueprints {
        let id = bp["identifier"].as_str().unwrap_or_default();
        let path = format!("/blueprints/{}", urlencoding::encode(id));
        match client.get(&path).await {
            Ok(_) => {
                tracing::info!(
                    blueprint = id,
                    "a default blueprint already exists; creating none"
                );
                return Ok(());
            }
            Err(e) if e.status() == Some(404) => {}
            Err(e) => return Err(e),
        }
    }
    for bp in &blueprints {
        let mut bare = bp.clone();
        if let Some(o) = bare.as_object_mut() {
            o.remove("relations");
        }
        client
            .request(
                Method::POST,
                "/blueprints",
                &[],
                Some(&bare),
                Feature::Exporter,
                Retry::Never,
            )
            .await?;
        tracing::info!(
            blueprint = bp["identifier"].as_str().unwrap_or_default(),
            "created default blueprint"
        );
    }
    for bp in &blueprints {
        let relations = bp.get("relations").cloned().unwrap_or(Value::Null);
        if relations.as_object().is_some_and(|r| !r.is_empty()) {
            let id = bp["identifier"].as_str().unwrap_or_default();
            client
                .request(
                    Method::PATCH,
                    &format!("/blueprints/{}", urlencoding::encode(id)),
                    &[],
                    Some(&json!({"relations": relations})),
                    Feature::Exporter,
                    Retry::Never,
                )
                .await?;
        }
    }
    Ok(())
}

/// States written to `resyncState.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResyncStatus {
    /// A resync started.
    Running,
    /// It finished and everything was seen.
    Completed,
    /// It failed or was partial.
    Failed,
    /// It was cancelled.
    Aborted,
}

impl ResyncStatus {
    fn as_str(self) -> &'static str {
        match self {
            ResyncStatus::Running => "running",
            ResyncStatus::Completed => "completed",
            ResyncStatus::Failed => "failed",
            ResyncStatus::Aborted => "aborted",
        }
    }
}

/// `PATCH /v1/integration/{id}/resync-state`. Failures are logged, not raised, as in Ocean:
/// bookkeeping must not fail a resync.
pub(crate) async fn set_resync_state(
    client: &Client,
    status: ResyncStatus,
    started: &str,
    ended: Option<&str>,
) {
    let mut body = json!({
        "status": status.as_str(),
        "lastResyncEnd": ended,
        "nextResync": null,
        "intervalInMinuets": null,
    });
    if status == ResyncStatus::Running {
        body["lastResyncStart"] = json!(started);
    }
    let path = format!(
        "/integration/{}/resync-state",
        urlencoding::encode(&client.identifier)
    );
    if let Err(e) = client
        .request(
            Method::PATCH,
            &path,
            &[],
            Some(&body),
            Feature::None,
            Retry::Never,
        )
        .await
    {
        tracing::warn!(error = %e, status = status.as_str(), "could not update the resync state in Port");
    }
}

/// `GET /v1/blueprints/{id}` for each distinct id; missing or failing ones are skipped
/// (the schemas only refine log levels).
pub(crate) async fn fetch_blueprints<'a>(
    client: &Client,
    ids: impl Iterator<Item = &'a str>,
) -> Vec<Value> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for id in ids {
        if !seen.insert(id.to_string()) {
            continue;
        }
        let path = format!("/blueprints/{}", urlencoding::encode(id));
        match client.get(&path).await {
            Ok(resp) => {
                if let Some(bp) = resp.body.get("blueprint") {
                    out.push(bp.clone());
                }
            }
            Err(e) => tracing::debug!(blueprint = id, error = %e, "blueprint not readable"),
        }
    }
    out
}

/// `GET /v1/blueprints`: every blueprint of the organization.
pub(crate) async fn list_blueprints(client: &Client) -> Result<Vec<Value>, PortError> {
    let resp = client.get("/blueprints").await?;
    Ok(resp.body["blueprints"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}
