//! A local stand-in for the national SP4N-LAPOR! v3 API that enforces the
//! shapes Lapor's connector must send: both credentials on every call, the
//! complaint's fields and types, files before complaints, forwards as
//! `reject` with `not_authority`, multipart follow-ups, and paged lists
//! (two per page, so paging is exercised) with `d-m-Y H:i:s` dates.
//!
//! What it does not cover: the SPLP gateway in front of the real API, its
//! rate limits, and any field the public material does not show.

#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const BEARER: &str = "sim-bearer-secret";
pub const TOKEN: &str = "3f2c1a9e-6d7b-4c8e-9f10-2a3b4c5d6e7f";
const PAGE: usize = 2;

#[derive(Debug, Clone)]
pub struct Log {
    pub id: i64,
    pub content: String,
    pub created_at: String,
    pub from_id: i64,
    pub from_name: String,
    pub data: Option<Value>,
    pub files: usize,
}

#[derive(Default)]
pub struct World {
    pub institutions: Vec<(i64, String)>,
    pub files: HashMap<i64, (String, usize)>,
    pub complaints: HashMap<i64, Value>,
    pub logs: HashMap<i64, Vec<Log>>,
    pub forwards: Vec<(i64, Value)>,
    pub refused: Vec<String>,
    next: i64,
}

impl World {
    fn id(&mut self) -> i64 {
        self.next += 1;
        self.next
    }
}

#[derive(Clone, Default)]
pub struct Sim {
    pub world: Arc<Mutex<World>>,
}

fn refuse(sim: &Sim, status: StatusCode, why: String) -> Response {
    sim.world.lock().unwrap().refused.push(why.clone());
    (status, Json(json!({"success": false, "message": why}))).into_response()
}

/// The refusal to answer with when the credentials are not both right.
fn unauthorized(sim: &Sim, h: &HeaderMap) -> Option<Response> {
    let bearer = h.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {BEARER}"));
    let token = h.get("token").and_then(|v| v.to_str().ok()) == Some(TOKEN);
    (!(bearer && token)).then(|| refuse(sim, StatusCode::UNAUTHORIZED, "Unauthorized".into()))
}

fn now_text() -> String {
    lapor_integration::lapor_v3::format_log_time(chrono::Utc::now())
}

fn page<T: serde::Serialize>(items: &[T], q: &HashMap<String, String>) -> Value {
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
    let last = items.len().div_ceil(PAGE).max(1);
    let data: Vec<&T> = items.iter().skip((page - 1) * PAGE).take(PAGE).collect();
    json!({"results": {"data": data, "current_page": page, "last_page": last}})
}

async fn upload(State(sim): State<Sim>, h: HeaderMap, mut mp: Multipart) -> Response {
    if let Some(r) = unauthorized(&sim, &h) {
        return r;
    }
    let mut ids = Vec::new();
    while let Ok(Some(f)) = mp.next_field().await {
        if f.name() != Some("attachments[]") || f.file_name().is_none() {
            return refuse(
                &sim,
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("unexpected part {:?}", f.name()),
            );
        }
        let name = f.file_name().unwrap_or("").to_string();
        let len = f.bytes().await.map(|b| b.len()).unwrap_or(0);
        let mut w = sim.world.lock().unwrap();
        let id = w.id();
        w.files.insert(id, (name, len));
        ids.push(json!({"id": id}));
    }
    Json(json!({"results": {"docs": ids}})).into_response()
}

async fn complaint(State(sim): State<Sim>, h: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = unauthorized(&sim, &h) {
        return r;
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return refuse(&sim, StatusCode::BAD_REQUEST, "not JSON".into());
    };
    let need = |k: &str, ok: fn(&Value) -> bool| v.get(k).is_some_and(ok);
    type Check = fn(&Value) -> bool;
    let checks: [(&str, Check); 11] = [
        ("title", |x| x.as_str().is_some_and(|s| !s.is_empty())),
        ("content", |x| x.as_str().is_some_and(|s| !s.is_empty())),
        ("channel", Value::is_i64),
        ("classification_id", Value::is_i64),
        ("category_id", Value::is_i64),
        ("location_id", Value::is_i64),
        ("disposition_id", Value::is_i64),
        ("is_anonymous", Value::is_boolean),
        ("is_secret", Value::is_boolean),
        ("attachments", Value::is_string),
        ("date_of_incident", |x| {
            x.is_null()
                || x.as_str()
                    .is_some_and(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok())
        }),
    ];
    for (k, ok) in checks {
        if !need(k, ok) {
            return refuse(
                &sim,
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("field {k} missing or of the wrong type"),
            );
        }
    }
    let mut w = sim.world.lock().unwrap();
    let ids: Vec<i64> = match serde_json::from_str(v["attachments"].as_str().unwrap_or("")) {
        Ok(ids) => ids,
        Err(_) => {
            drop(w);
            return refuse(
                &sim,
                StatusCode::UNPROCESSABLE_ENTITY,
                "attachments is not a JSON array of ids".into(),
            );
        }
    };
    if let Some(bad) = ids.iter().find(|i| !w.files.contains_key(i)) {
        let why = format!("attachment {bad} was never uploaded");
        drop(w);
        return refuse(&sim, StatusCode::UNPROCESSABLE_ENTITY, why);
    }
    let id = w.id();
    w.complaints.insert(id, v);
    w.logs.insert(id, Vec::new());
    Json(json!({"success": true, "complaint_id": id})).into_response()
}

async fn reject(State(sim): State<Sim>, h: HeaderMap, Path(id): Path<i64>, body: Bytes) -> Response {
    if let Some(r) = unauthorized(&sim, &h) {
        return r;
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return refuse(&sim, StatusCode::BAD_REQUEST, "not JSON".into());
    };
    let mut w = sim.world.lock().unwrap();
    if !w.complaints.contains_key(&id) {
        drop(w);
        return refuse(&sim, StatusCode::NOT_FOUND, format!("complaint {id}"));
    }
    let target = v["reason"].as_i64();
    if v["not_authority"] != json!(1)
        || v["is_request"] != json!(1)
        || !target.is_some_and(|t| w.institutions.iter().any(|(i, _)| *i == t))
    {
        drop(w);
        return refuse(
            &sim,
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("a forward needs not_authority 1 and a known institution id: {v}"),
        );
    }
    w.forwards.push((id, v));
    Json(json!({"success": true})).into_response()
}

async fn detail(State(sim): State<Sim>, h: HeaderMap, Path(id): Path<i64>) -> Response {
    if let Some(r) = unauthorized(&sim, &h) {
        return r;
    }
    let w = sim.world.lock().unwrap();
    match w.complaints.get(&id) {
        Some(c) => Json(json!({"results": {"data": c, "data_logs": []}})).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"message": "not found"}))).into_response(),
    }
}

fn log_json(l: &Log) -> Value {
    json!({
        "id": l.id,
        "content": l.content,
        "created_at": l.created_at,
        "institution_from_id": l.from_id,
        "institution_from_name": l.from_name,
        "institution_to_name": null,
        "data": l.data.as_ref().map(|d| d.to_string()),
    })
}

async fn followups(
    State(sim): State<Sim>,
    h: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = unauthorized(&sim, &h) {
        return r;
    }
    let w = sim.world.lock().unwrap();
    match w.logs.get(&id) {
        Some(logs) => Json(page(&logs.iter().map(log_json).collect::<Vec<_>>(), &q)).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"message": "not found"}))).into_response(),
    }
}

async fn followup_add(State(sim): State<Sim>, h: HeaderMap, mut mp: Multipart) -> Response {
    if let Some(r) = unauthorized(&sim, &h) {
        return r;
    }
    let mut fields = HashMap::new();
    let mut files = 0;
    while let Ok(Some(f)) = mp.next_field().await {
        let name = f.name().unwrap_or("").to_string();
        if name.starts_with("attachment[") {
            if f.file_name().is_none() {
                return refuse(
                    &sim,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "attachment without a file name".into(),
                );
            }
            files += 1;
            let _ = f.bytes().await;
        } else {
            fields.insert(name, f.text().await.unwrap_or_default());
        }
    }
    for k in [
        "complaint_id",
        "content",
        "rating",
        "is_secret",
        "institution_from_id",
        "institution_to_id",
    ] {
        if !fields.contains_key(k) {
            return refuse(&sim, StatusCode::UNPROCESSABLE_ENTITY, format!("follow-up without {k}"));
        }
    }
    let (Ok(cid), Ok(from)) = (
        fields["complaint_id"].parse::<i64>(),
        fields["institution_from_id"].parse::<i64>(),
    ) else {
        return refuse(&sim, StatusCode::UNPROCESSABLE_ENTITY, "ids must be numbers".into());
    };
    if !matches!(fields["is_secret"].as_str(), "0" | "1") || fields["rating"].parse::<i64>().is_err() {
        return refuse(
            &sim,
            StatusCode::UNPROCESSABLE_ENTITY,
            "is_secret 0/1 and a numeric rating".into(),
        );
    }
    let mut w = sim.world.lock().unwrap();
    let name = w
        .institutions
        .iter()
        .find(|(i, _)| *i == from)
        .map(|(_, n)| n.clone())
        .unwrap_or_default();
    let id = w.id();
    let Some(logs) = w.logs.get_mut(&cid) else {
        drop(w);
        return refuse(&sim, StatusCode::NOT_FOUND, format!("complaint {cid}"));
    };
    logs.push(Log {
        id,
        content: fields["content"].clone(),
        created_at: now_text(),
        from_id: from,
        from_name: name,
        data: None,
        files,
    });
    Json(json!({"success": true})).into_response()
}

async fn institution_list(State(sim): State<Sim>, h: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Some(r) = unauthorized(&sim, &h) {
        return r;
    }
    let w = sim.world.lock().unwrap();
    let list: Vec<Value> = w
        .institutions
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect();
    Json(page(&list, &q)).into_response()
}

impl Sim {
    /// Starts on a loopback port; returns the sim and its base URL.
    pub async fn start(institutions: &[(i64, &str)]) -> (Sim, String) {
        let sim = Sim::default();
        sim.world.lock().unwrap().institutions = institutions.iter().map(|(i, n)| (*i, n.to_string())).collect();
        let app = Router::new()
            .route("/complaints/complaint/file", post(upload))
            .route("/complaints/complaint", post(complaint))
            .route("/complaints/process/{id}/reject", post(reject))
            .route("/complaints/{id}/complaint", get(detail))
            .route("/complaints/{id}/followups", get(followups))
            .route("/complaints/followup/add", post(followup_add))
            .route("/masters/institutions/external", get(institution_list))
            .with_state(sim.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (sim, base)
    }

    /// A national action on a complaint, as the logs show it.
    pub fn national_log(&self, complaint: i64, from: (i64, &str), content: &str, old: &str, new: &str) {
        let mut w = self.world.lock().unwrap();
        let id = w.id();
        w.logs.get_mut(&complaint).unwrap().push(Log {
            id,
            content: content.into(),
            created_at: now_text(),
            from_id: from.0,
            from_name: from.1.into(),
            data: Some(json!({"status_old": {"name": old}, "status_new": {"name": new}})),
            files: 0,
        });
    }
}
