//! Registering integration clients and managing their keys, for the
//! command line, the staff pages and the API alike.

use crate::auth::new_id;
use chrono::{DateTime, Utc};
use lapor_domain::{Error, ErrorCode};
use lapor_integration::client::{Scope, digest, display_prefix, format_scopes, new_key};
use lapor_store::ts::Ts;
use lapor_store::{ApiClient, AuditEntry, NewApiKey, Store};

/// Default overlap of a key rotation: a week.
pub const DEFAULT_OVERLAP_HOURS: i64 = 168;
const MAX_OVERLAP_HOURS: i64 = 720;

/// A client as created: the key is shown once and never again.
#[derive(Debug, Clone)]
pub struct Created {
    pub client: ApiClient,
    pub key: String,
}

fn long_lived(client_id: &str, key: &str, now: DateTime<Utc>) -> NewApiKey {
    NewApiKey {
        key_hash: digest(key),
        client_id: client_id.to_string(),
        kind: "key".into(),
        prefix: display_prefix(key),
        created_at: now,
        expires_at: None,
        scopes: None,
    }
}

/// Registers a client of `institution` with its first key.
pub async fn create(
    store: &dyn Store,
    institution: &str,
    name: &str,
    scopes: &[Scope],
    created_by: Option<&str>,
) -> Result<Created, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(Error::validation("name: 1-120 characters"));
    }
    if scopes.is_empty() {
        return Err(Error::validation("scopes: at least one"));
    }
    if store.institution(institution).await?.is_none() {
        return Err(Error::with(ErrorCode::UnknownInstitution, institution.to_string()));
    }
    let now = Utc::now();
    // Short and URL-safe: the id is part of every key.
    let id = format!("ic-{}", &new_id("")[4..22]);
    let client = ApiClient {
        id: id.clone(),
        institution: institution.to_string(),
        user_id: new_id("u-"),
        name: name.to_string(),
        scopes: format_scopes(scopes),
        created_at: now,
        created_by: created_by.map(str::to_string),
        revoked_at: None,
    };
    let key = new_key(&id, rand::random());
    store.create_api_client(&client, &long_lived(&id, &key, now)).await?;
    audit(
        store,
        created_by,
        "integration.client_created",
        &id,
        Some(format!("{institution}; {}", client.scopes)),
    )
    .await?;
    Ok(Created { client, key })
}

/// A new key for the client; its other keys stop after `overlap_hours`.
/// Returns the key and when the old ones stop.
pub async fn rotate(store: &dyn Store, client_id: &str, overlap_hours: i64) -> Result<(String, DateTime<Utc>), Error> {
    if !(0..=MAX_OVERLAP_HOURS).contains(&overlap_hours) {
        return Err(Error::validation("overlap_hours: 0-720"));
    }
    let Some(client) = store.api_client(client_id).await? else {
        return Err(Error::not_found());
    };
    if client.revoked_at.is_some() {
        return Err(Error::with(ErrorCode::Conflict, "the client was revoked"));
    }
    let now = Utc::now();
    let until = now + chrono::Duration::hours(overlap_hours);
    let key = new_key(client_id, rand::random());
    store
        .add_api_key(&long_lived(client_id, &key, now), Some(Ts::new(until)))
        .await?;
    audit(
        store,
        None,
        "integration.key_rotated",
        client_id,
        Some(format!("old keys until {until}")),
    )
    .await?;
    Ok((key, until))
}

pub async fn revoke(store: &dyn Store, client_id: &str, by: Option<&str>) -> Result<bool, Error> {
    let done = store.revoke_api_client(client_id, Ts::now()).await?;
    if done {
        audit(store, by, "integration.client_revoked", client_id, None).await?;
    }
    Ok(done)
}

/// Switches an institution between `native` and `connected`.
pub async fn set_mode(store: &dyn Store, institution: &str, mode: &str, by: Option<&str>) -> Result<(), Error> {
    if !store.set_integration_mode(institution, mode).await? {
        return Err(Error::with(ErrorCode::UnknownInstitution, institution.to_string()));
    }
    audit(store, by, "integration.mode", institution, Some(mode.to_string())).await
}

async fn audit(
    store: &dyn Store,
    by: Option<&str>,
    action: &str,
    target: &str,
    detail: Option<String>,
) -> Result<(), Error> {
    store
        .write_audit(&AuditEntry {
            at: Utc::now(),
            user_id: by.map(str::to_string),
            action: action.into(),
            target: target.into(),
            detail,
        })
        .await
}
