//! Self-service actions in Port (`port-api.md` §6): the action definitions this program
//! serves, and the runs it reports on.
//!
//! A run starts `IN_PROGRESS` when a user clicks; the backend reports on it with log lines,
//! `PATCH`es (link, `externalRunId`, summary) and finally a terminal status, after which
//! Port refuses any change. Entities written with `?run_id=` show under the run, and only
//! while it is in progress, so the entity comes before the terminal status.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::{Client, Feature, PortError, Retry};

/// A run, as much of it as a handler needs.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    /// Port's run id.
    pub(crate) id: String,
    /// The action's identifier.
    pub(crate) action: String,
    /// `IN_PROGRESS`, `SUCCESS` or `FAILURE`.
    pub(crate) status: String,
    /// What the backend recorded to find its own work again.
    pub(crate) external_run_id: Option<String>,
    /// The user's inputs.
    pub(crate) properties: Value,
}

impl Run {
    fn from_json(v: &Value) -> Option<Run> {
        let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
        Some(Run {
            id: text("id")?,
            action: v["action"]["identifier"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            status: text("status").unwrap_or_default(),
            external_run_id: text("externalRunId").filter(|s| !s.is_empty()),
            properties: v.get("properties").cloned().unwrap_or(Value::Null),
        })
    }

    /// Whether Port still accepts changes to it.
    pub(crate) fn in_progress(&self) -> bool {
        self.status == "IN_PROGRESS"
    }
}

/// How a run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// `SUCCESS`.
    Success,
    /// `FAILURE`.
    Failure,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "SUCCESS",
            Outcome::Failure => "FAILURE",
        }
    }
}

/// What a `PATCH` of a run sets; each field sent overwrites Port's (so `link` is always
/// the whole list).
#[derive(Debug, Default)]
pub(crate) struct Update {
    /// Ends the run.
    pub(crate) status: Option<Outcome>,
    /// One line shown on the run.
    pub(crate) summary: Option<String>,
    /// Links shown on the run.
    pub(crate) link: Vec<String>,
    /// The backend's own id for the work, searchable later.
    pub(crate) external_run_id: Option<String>,
    /// A short label shown while the run is in progress.
    pub(crate) status_label: Option<String>,
}

fn run_path(id: &str) -> String {
    format!("/actions/runs/{}", urlencoding::encode(id))
}

/// `GET /v1/actions/runs/{id}`.
pub(crate) async fn get(client: &Client, id: &str) -> Result<Run, PortError> {
    let resp = client.get(&format!("{}?version=v2", run_path(id))).await?;
    Run::from_json(&resp.body["run"]).ok_or_else(|| unexpected("GET", &run_path(id)))
}

/// The runs still in progress (all actions; Port's maximum page of 1000).
pub(crate) async fn active(client: &Client) -> Result<Vec<Run>, PortError> {
    let path = "/actions/runs?version=v2&active=true&limit=1000";
    let resp = client.get(path).await?;
    let runs = resp.body["runs"]
        .as_array()
        .ok_or_else(|| unexpected("GET", "/actions/runs"))?;
    Ok(runs.iter().filter_map(Run::from_json).collect())
}

/// `PATCH /v1/actions/runs/{id}`.
pub(crate) async fn update(client: &Client, id: &str, update: &Update) -> Result<(), PortError> {
    let mut body = Map::new();
    if let Some(status) = update.status {
        body.insert("status".into(), json!(status.as_str()));
    }
    if let Some(summary) = &update.summary {
        body.insert("summary".into(), json!(summary));
    }
    if !update.link.is_empty() {
        body.insert("link".into(), json!(update.link));
    }
    if let Some(external) = &update.external_run_id {
        body.insert("externalRunId".into(), json!(external));
    }
    if let Some(label) = &update.status_label {
        body.insert("statusLabel".into(), json!(label));
    }
    client
        .request(
            Method::PATCH,
            &run_path(id),
            &[],
            Some(&Value::Object(body)),
            Feature::None,
            // Setting the same keys twice is harmless.
            Retry::Transient,
        )
        .await
        .map(drop)
}

/// `POST /v1/actions/runs/{id}/logs`: one line of the run's log.
pub(crate) async fn log(client: &Client, id: &str, message: &str) -> Result<(), PortError> {
    client
        .request(
            Method::POST,
            &format!("{}/logs", run_path(id)),
            &[],
            Some(&json!({ "message": message })),
            Feature::None,
            // A line logged twice after a lost answer beats a line lost.
            Retry::Transient,
        )
        .await
        .map(drop)
}

/// Upserts one entity linked to a run (it shows under the run's affected entities). Written
/// with the plain User-Agent: the entity is the action's, not the resync's, until a resync
/// sees the resource and adopts it, so reconciliation never deletes what it never listed.
pub(crate) async fn upsert_entity(
    client: &Client,
    blueprint: &str,
    entity: &Value,
    run_id: &str,
) -> Result<(), PortError> {
    client
        .request(
            Method::POST,
            &format!("/blueprints/{}/entities", urlencoding::encode(blueprint)),
            &[
                ("upsert", "true".into()),
                ("merge", "true".into()),
                ("run_id", run_id.to_string()),
            ],
            Some(entity),
            Feature::None,
            Retry::Transient,
        )
        .await
        .map(drop)
}

/// Creates the action unless one with its identifier exists (a user's edits win). Returns
/// whether it was created.
pub(crate) async fn ensure_action(client: &Client, definition: &Value) -> Result<bool, PortError> {
    let id = definition["identifier"].as_str().unwrap_or_default();
    let path = format!("/actions/{}", urlencoding::encode(id));
    match client.get(&path).await {
        Ok(_) => return Ok(false),
        Err(e) if e.status() == Some(404) => {}
        Err(e) => return Err(e),
    }
    client
        .request(
            Method::POST,
            "/actions",
            &[],
            Some(definition),
            Feature::None,
            Retry::Never,
        )
        .await?;
    Ok(true)
}

/// Creates the blueprint unless it exists.
pub(crate) async fn ensure_blueprint(client: &Client, blueprint: &Value) -> Result<(), PortError> {
    let id = blueprint["identifier"].as_str().unwrap_or_default();
    match client
        .get(&format!("/blueprints/{}", urlencoding::encode(id)))
        .await
    {
        Ok(_) => return Ok(()),
        Err(e) if e.status() == Some(404) => {}
        Err(e) => return Err(e),
    }
    client
        .request(
            Method::POST,
            "/blueprints",
            &[],
            Some(blueprint),
            Feature::Exporter,
            Retry::Never,
        )
        .await
        .map(drop)
}

fn unexpected(method: &str, path: &str) -> PortError {
    PortError::Status {
        method: method.into(),
        path: path.into(),
        status: 200,
        message: "unexpected answer: no run in it".into(),
        trace_id: "-".into(),
    }
}
