//! Delivering the mesh's messages: POST `{"payload": "<JWE>"}` to the
//! participant's endpoint with the mesh's bearer token. A message is
//! delivered when the endpoint answers 2xx; otherwise it is tried again
//! after twice the last wait, up to max_attempts. Each try holds a lease on
//! the row, so two replicas never send one message at once; a hospital may
//! still see a message twice (sent, then the 2xx lost) and recognises it by
//! its api_call_id.

use std::time::Duration;

use crate::{
    Context,
    exchanges::{DELIVERED, GAVE_UP, QUEUED},
    protocol::Action,
    store::queries,
};

/// Longest wait between two tries.
const MAX_BACKOFF: Duration = Duration::from_secs(3_600);

/// Tries to deliver the queued message `exchange_id` now, unless another
/// worker holds it.
pub async fn deliver(context: &Context, exchange_id: &str) {
    if let Err(error) = try_deliver(context, exchange_id).await {
        tracing::warn!(exchange_id, %error, "delivery not recorded");
    }
}

/// Delivers every queued message that is due.
pub async fn pass(context: &Context) {
    match queries::due_exchanges(&context.db, QUEUED, 100).await {
        Ok(due) => {
            for row in due {
                deliver(context, &row.exchange_id).await;
            }
        }
        Err(error) => tracing::warn!(%error, "reading messages to deliver"),
    }
}

async fn try_deliver(context: &Context, exchange_id: &str) -> Result<(), sea_orm::DbErr> {
    let db = &context.db;
    let timeout = Duration::from_millis(context.settings.callback_timeout_ms);
    let lease = chrono::Duration::from_std(timeout * 2).unwrap_or(chrono::Duration::seconds(60));
    if !queries::lease_exchange(db, exchange_id, QUEUED, lease).await? {
        return Ok(());
    }
    let Some(row) = queries::find_exchange(db, exchange_id).await? else {
        return Ok(());
    };
    let sent = send(
        context,
        &row.participant_code,
        &row.action,
        &row.payload,
        timeout,
    )
    .await;
    match sent {
        Ok(()) => {
            queries::finish_exchange(db, exchange_id, QUEUED, DELIVERED, None, None).await?;
        }
        Err(error) => {
            let attempts = row.attempts + 1;
            let gave_up = attempts >= context.settings.max_attempts;
            let wait = Duration::from_millis(context.settings.retry_base_ms)
                .saturating_mul(1 << (attempts - 1).clamp(0, 20))
                .min(MAX_BACKOFF);
            let next = ayushman_platform::db::now()
                + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
            tracing::info!(exchange_id, attempts, %error, gave_up, "delivery failed");
            queries::delivery_failed(
                db,
                exchange_id,
                attempts,
                next,
                &error,
                if gave_up { GAVE_UP } else { QUEUED },
            )
            .await?;
        }
    }
    Ok(())
}

async fn send(
    context: &Context,
    participant_code: &str,
    action: &str,
    jwe: &str,
    timeout: Duration,
) -> Result<(), String> {
    let participant = queries::find_participant(&context.db, participant_code)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("participant {participant_code} is no longer registered"))?;
    let action = Action::from_path(action).ok_or_else(|| format!("unknown action {action}"))?;
    let url = format!(
        "{}{}{}",
        participant.endpoint_url,
        context.settings.version_prefix,
        action.path()
    );
    let token = context.keys.bearer_token()?;
    let response = context
        .http
        .post(&url)
        .bearer_auth(token)
        .timeout(timeout)
        .json(&serde_json::json!({ "payload": jwe }))
        .send()
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("POST {url}: HTTP {}", response.status()))
    }
}
