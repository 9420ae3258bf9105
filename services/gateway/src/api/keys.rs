//! IssueApiKey, RevokeApiKey, ListApiKeys.

use std::sync::{Arc, Mutex};

use ayushman_platform::{ApiError, Caller, convert};
use ayushman_proto::gateway::v1 as pb;
use tonic::{Request, Response};

use super::Reply;
use crate::{
    AppState, partners,
    store::{entities::api_key, queries},
};

fn key_to_proto(row: api_key::Model) -> pb::ApiKey {
    pb::ApiKey {
        key_id: row.key_id,
        partner_id: row.partner_id,
        prefix: row.prefix,
        created_at: Some(convert::timestamp_to_proto(row.created_at)),
        revoked_at: row.revoked_at.map(convert::timestamp_to_proto),
        last_used_at: row.last_used_at.map(convert::timestamp_to_proto),
    }
}

pub(super) async fn issue_api_key(
    state: &AppState,
    request: Request<pb::IssueApiKeyRequest>,
) -> Reply<pb::IssueApiKeyResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let id = convert::required_text("partner_id", &request.partner_id)?;
    // The key is shown once: the kept reply (replayed for a repeat of the
    // same request) has the key's metadata only, never the key.
    let shown = Arc::new(Mutex::new(None));
    let first = shown.clone();
    let mut reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                let (row, key) = partners::issue_key(txn, &id).await?;
                *first.lock().unwrap_or_else(|p| p.into_inner()) = Some(key);
                Ok(pb::IssueApiKeyResponse {
                    key: Some(key_to_proto(row)),
                    api_key: String::new(),
                })
            })
        })
        .await?;
    if let Some(key) = shown.lock().unwrap_or_else(|p| p.into_inner()).take() {
        reply.api_key = key;
    }
    Ok(Response::new(reply))
}

pub(super) async fn revoke_api_key(
    state: &AppState,
    request: Request<pb::RevokeApiKeyRequest>,
) -> Reply<pb::RevokeApiKeyResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let id = convert::required_text("key_id", &request.key_id)?;
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                let row = partners::revoke_key(txn, &id).await?;
                Ok(pb::RevokeApiKeyResponse {
                    key: Some(key_to_proto(row)),
                })
            })
        })
        .await?;
    Ok(Response::new(reply))
}

pub(super) async fn list_api_keys(
    state: &AppState,
    request: Request<pb::ListApiKeysRequest>,
) -> Reply<pb::ListApiKeysResponse> {
    let id = convert::required_text("partner_id", &request.get_ref().partner_id)?;
    partners::get(&state.db, &id).await?;
    let keys = queries::keys_of(&state.db, &id)
        .await
        .map_err(ApiError::from)?;
    Ok(Response::new(pb::ListApiKeysResponse {
        keys: keys.into_iter().map(key_to_proto).collect(),
    }))
}
