//! The HCX endpoints hospitals call. A message is checked in full before it
//! is accepted — body, protected headers, recipient, sender, the sender's
//! token, decryption, the FHIR bundle — and refused with the protocol's error
//! code and nothing written when any check fails. Once stored it is answered
//! 202 with its api_call_id, and the mesh acts on it in the background; the
//! answer comes as a callback. A message sent again (same sender and
//! api_call_id) gets the first acknowledgement and is not acted on twice.

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header::AUTHORIZATION},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use ayushman_platform::db;
use sea_orm::DbErr;
use serde_json::{Value, json};

use crate::{
    Context,
    exchanges::{self, OUTBOUND},
    fhir::{self, FhirError, read::Ask},
    participants, process,
    protocol::{Action, ErrorCode, ProtocolError, ProtocolHeaders, envelope, token},
    store::{entities::exchange, queries},
};

/// Where the mesh's public key is served, for hospitals to encrypt to.
pub const PUBLIC_KEY_PATH: &str = "/nhcx/encryption-key.pem";

/// The HTTP routes: one per inbound action under the version prefix, and the public key.
pub fn routes(context: Context) -> Router {
    let prefix = context.settings.version_prefix.clone();
    let mut router = Router::new();
    for action in Action::INBOUND {
        router = router.route(
            &format!("{prefix}{}", action.path()),
            post(
                move |State(context): State<Context>, headers: HeaderMap, body: Bytes| async move {
                    receive(&context, action, &headers, &body).await
                },
            ),
        );
    }
    router
        .route(
            PUBLIC_KEY_PATH,
            get(|State(context): State<Context>| async move {
                (
                    [(http::header::CONTENT_TYPE, "application/x-pem-file")],
                    context.keys.envelope.public_key().pem().to_owned(),
                )
            }),
        )
        .with_state(context)
}

async fn receive(context: &Context, action: Action, headers: &HeaderMap, body: &[u8]) -> Response {
    match accept(context, action, headers, body).await {
        Ok((row, fresh)) => {
            if let Some((protocol_headers, ask)) = fresh {
                let context = context.clone();
                let exchange_id = row.exchange_id.clone();
                tokio::spawn(async move {
                    process::process(&context, &exchange_id, Some((protocol_headers, ask))).await;
                });
            }
            acknowledgement(&row)
        }
        Err(error) => {
            tracing::info!(action = action.path(), code = %error.code, message = %error.message, "refused");
            error.into_response()
        }
    }
}

/// 202 with the message's ids, as the protocol acknowledges a request.
fn acknowledgement(row: &exchange::Model) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(json!({
            "timestamp": row.created_at.timestamp_millis(),
            "api_call_id": row.api_call_id,
            "correlation_id": row.correlation_id,
        })),
    )
        .into_response()
}

/// The stored row, and (when new) what it asks; `Err` refuses the message.
async fn accept(
    context: &Context,
    action: Action,
    http_headers: &HeaderMap,
    body: &[u8],
) -> Result<(exchange::Model, Option<(ProtocolHeaders, Ask)>), ProtocolError> {
    let jwe = payload(body)?;
    let headers = ProtocolHeaders::read(&envelope::peek_header(&jwe)?)?;
    let about = |error: ProtocolError| error.about(&headers.api_call_id, &headers.correlation_id);
    if headers.status.is_request()
        != matches!(
            action,
            Action::EligibilityCheck | Action::PreauthSubmit | Action::ClaimSubmit
        )
    {
        return Err(about(ProtocolError::new(
            ErrorCode::InvalidStatus,
            format!(
                "x-hcx-status {} does not fit {}",
                headers.status.as_str(),
                action.path()
            ),
        )));
    }
    if headers.recipient_code != context.settings.participant_code {
        return Err(about(ProtocolError::new(
            ErrorCode::WrongRecipient,
            format!(
                "this is {}; the message is addressed to {}",
                context.settings.participant_code, headers.recipient_code
            ),
        )));
    }
    let sender = participants::sender(&context.db, &headers.sender_code)
        .await
        .map_err(about)?;
    let authorization = http_headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    token::verify_sender(authorization, &headers.sender_code, &sender.key).map_err(about)?;
    let exchange_id = exchanges::inbound_id(&headers.sender_code, &headers.api_call_id);
    if let Some(first) = stored(context, &exchange_id).await? {
        return Ok((first, None));
    }
    let (claims, payload) = context.keys.envelope.decrypt(&jwe).map_err(about)?;
    // The decrypted header is the one peeked at: the protected header is
    // authenticated with the ciphertext, so reading it again proves it.
    ProtocolHeaders::read(&claims).map_err(about)?;
    let ask = read_ask(action, &payload).map_err(about)?;
    check_ask(context, &sender.row.hfr_id, &headers, &ask)
        .await
        .map_err(about)?;
    let row = exchanges::received(&headers, action, &jwe);
    match store(context, row.clone()).await {
        Ok(()) => Ok((row, Some((headers, ask)))),
        // The same message arrived twice at once: the first one stored wins,
        // read once its write has committed.
        Err(error) if db::is_unique_violation(&error) => {
            db::settle_writes(&context.db)
                .await
                .map_err(|_| unavailable())?;
            let first = stored(context, &exchange_id)
                .await?
                .ok_or_else(unavailable)?;
            Ok((first, None))
        }
        Err(error) => {
            tracing::error!(%error, "storing a received message");
            Err(about(unavailable()))
        }
    }
}

/// Stores a received message in a write transaction of its own: on SQLite
/// it waits for its turn with the process's other writers (and shares their
/// commit) instead of sleeping in SQLite's busy handler.
async fn store(context: &Context, row: exchange::Model) -> Result<(), DbErr> {
    let txn = db::begin_write(&context.db).await?;
    queries::insert_exchange(&*txn, row).await?;
    txn.commit().await
}

fn unavailable() -> ProtocolError {
    ProtocolError::new(
        ErrorCode::ServiceUnavailable,
        "the message could not be stored; send it again with the same api_call_id",
    )
}

async fn stored(
    context: &Context,
    exchange_id: &str,
) -> Result<Option<exchange::Model>, ProtocolError> {
    queries::find_exchange(&context.db, exchange_id)
        .await
        .map_err(|_| unavailable())
}

/// The JWE of a `{"payload": "<JWE>"}` body.
fn payload(body: &[u8]) -> Result<String, ProtocolError> {
    let refuse = |why: &str| ProtocolError::new(ErrorCode::InvalidPayload, why);
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        refuse("the body must be JSON: {\"payload\": \"<JWE compact serialisation>\"}")
    })?;
    match value.get("payload") {
        Some(Value::String(jwe)) if !jwe.trim().is_empty() => Ok(jwe.trim().to_owned()),
        _ => Err(refuse(
            "payload is required: {\"payload\": \"<JWE compact serialisation>\"}",
        )),
    }
}

fn read_ask(action: Action, payload: &[u8]) -> Result<Ask, ProtocolError> {
    let domain = |error: FhirError| match error {
        FhirError::WrongResource(message) => {
            ProtocolError::new(ErrorCode::WrongDomainPayload, message)
        }
        other => ProtocolError::new(ErrorCode::InvalidDomainPayload, other.to_string()),
    };
    let bundle = fhir::read::bundle(payload).map_err(domain)?;
    match action {
        Action::EligibilityCheck => fhir::read::eligibility(&bundle).map(Ask::Eligibility),
        Action::PreauthSubmit => fhir::read::preauth(&bundle).map(Ask::Preauth),
        Action::ClaimSubmit => fhir::read::claim(&bundle).map(Ask::Claim),
        Action::CommunicationOnRequest => {
            fhir::read::communication(&bundle).map(Ask::Communication)
        }
        Action::PaymentNoticeOnRequest => {
            fhir::read::payment_notice(&bundle).map(|()| Ask::PaymentAcknowledged)
        }
        other => Err(FhirError::WrongResource(format!(
            "{} is not served by the mesh",
            other.path()
        ))),
    }
    .map_err(domain)
}

/// What can be checked of the ask without acting on it: the hospital named
/// in a claim is the sender's own, and an answer belongs to a cycle of the mesh.
async fn check_ask(
    context: &Context,
    sender_hfr_id: &str,
    headers: &ProtocolHeaders,
    ask: &Ask,
) -> Result<(), ProtocolError> {
    let named = match ask {
        Ask::Preauth(preauth) => preauth.hfr_id.as_deref(),
        Ask::Claim(claim) => claim.hfr_id.as_deref(),
        _ => None,
    };
    if let Some(hfr_id) = named
        && !hfr_id.eq_ignore_ascii_case(sender_hfr_id)
    {
        return Err(ProtocolError::new(
            ErrorCode::InvalidDomainPayload,
            format!(
                "Claim.provider: names facility {hfr_id}, but participant {} acts for {sender_hfr_id}",
                headers.sender_code
            ),
        ));
    }
    if matches!(ask, Ask::Communication(_) | Ask::PaymentAcknowledged) {
        let opened = queries::outbound_of_correlation(
            &context.db,
            &headers.correlation_id,
            &headers.sender_code,
        )
        .await
        .map_err(|_| unavailable())?;
        if opened.is_none_or(|row| row.direction != OUTBOUND) {
            return Err(ProtocolError::new(
                ErrorCode::InvalidCorrelationId,
                format!(
                    "no message of the mesh to {} has correlation id {}",
                    headers.sender_code, headers.correlation_id
                ),
            ));
        }
    }
    Ok(())
}
