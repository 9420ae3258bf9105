//! Following the cases hospitals raised through the exchange: a reviewer's
//! decision, an adjudication, a payment are taken in the mesh by its own
//! users; this pass reads each open case and, when it has reached a new
//! milestone, queues the answer the hospital is waiting for — on_submit for
//! a decision, a PaymentNotice for a payment. Recording the milestone and
//! queuing its answer is one transaction, guarded by the milestone reported
//! before, so each is sent once however many replicas follow.

use ayushman_proto::{claims::v1 as c, preauth::v1 as p};

use crate::{
    Context,
    answers::{self, CaseKind},
    delivery,
    exchanges::Message,
    fhir::{
        self,
        read::PatientId,
        write::{ClaimAnswer, Parties},
    },
    participants::{self, Sender},
    peers::PeerError,
    process,
    protocol::{Action, ErrorCode, ProtocolError},
    store::{entities::case, queries},
};

/// Cases read per pass.
const BATCH: u64 = 200;

/// Reads every open case once and queues what is new.
pub async fn pass(context: &Context) {
    let cases = match queries::open_cases(&context.db, BATCH).await {
        Ok(cases) => cases,
        Err(error) => {
            tracing::warn!(%error, "reading open cases");
            return;
        }
    };
    for case in cases {
        if let Err(error) = follow(context, &case).await {
            tracing::info!(case = case.mesh_reference, %error, "case not followed this pass");
        }
    }
}

/// Where a case stands in the mesh now.
enum Now {
    Preauth(p::Preauth),
    Claim(c::Claim),
}

async fn follow(context: &Context, case: &case::Model) -> Result<(), String> {
    let sender = participants::sender(&context.db, &case.participant_code)
        .await
        .map_err(|e| e.to_string())?;
    let hospital = process::hospital(&sender);
    let now = if case.kind == CaseKind::Preauth {
        context
            .peers
            .preauth(&hospital, &case.mesh_reference)
            .await
            .map(Now::Preauth)
    } else {
        context
            .peers
            .claim(&hospital, &case.mesh_reference)
            .await
            .map(Now::Claim)
    }
    .map_err(|e: PeerError| e.to_string())?;
    let (milestone, closed) = match &now {
        Now::Preauth(preauth) => answers::preauth_milestone(preauth.status()),
        Now::Claim(claim) => answers::claim_milestone(claim.status()),
    };
    if milestone == case.reported {
        return queries::touch_case(&context.db, &case.mesh_reference)
            .await
            .map_err(|e| e.to_string());
    }
    let messages = messages(context, &sender, case, &now, milestone)?;
    let txn = ayushman_platform::db::begin_write(&context.db)
        .await
        .map_err(|e| e.to_string())?;
    let advanced = queries::advance_case(
        &*txn,
        &case.mesh_reference,
        case.reported,
        milestone,
        !closed,
    )
    .await
    .map_err(|e| e.to_string())?;
    if !advanced {
        return Ok(());
    }
    let mut queued = Vec::new();
    for message in messages {
        let row = message.queued(&sender.row, ayushman_platform::db::now())?;
        queued.push(row.exchange_id.clone());
        queries::insert_exchange(&*txn, row)
            .await
            .map_err(|e| e.to_string())?;
    }
    txn.commit().await.map_err(|e| e.to_string())?;
    for exchange_id in queued {
        delivery::deliver(context, &exchange_id).await;
    }
    Ok(())
}

/// The messages reporting `milestone`: a claim paid before its decision was
/// reported gets both, in order.
fn messages(
    context: &Context,
    sender: &Sender,
    case: &case::Model,
    now: &Now,
    milestone: answers::Milestone,
) -> Result<Vec<Message>, String> {
    let patient = PatientId::from_stored(&case.patient)
        .unwrap_or_else(|| PatientId::Beneficiary(case.beneficiary_id.clone()));
    let parties = process::parties(context, sender, &patient, Some(&case.beneficiary_id));
    let message = |action, answer: &ClaimAnswer| -> Result<Message, String> {
        let bundle = fhir::write::claim_response(&parties, answer).map_err(|e| e.to_string())?;
        let message = reply(
            context,
            case,
            action,
            answers::hcx_status(&answer.outcome),
            bundle,
        );
        Ok(match answer.errors.first() {
            Some((_, text)) => message.with_error(&ProtocolError::new(
                ErrorCode::DomainProcessing,
                text.clone(),
            )),
            None => message,
        })
    };
    match now {
        Now::Preauth(preauth) => Ok(vec![message(
            Action::PreauthOnSubmit,
            &answers::preauth_answer(preauth, &case.request_id),
        )?]),
        Now::Claim(claim) => {
            let mut messages = Vec::new();
            let decided = case.reported == answers::Milestone::Decided;
            if milestone != answers::Milestone::Paid || !decided {
                messages.push(message(
                    Action::ClaimOnSubmit,
                    &answers::claim_answer(claim, &case.request_id),
                )?);
            }
            if milestone == answers::Milestone::Paid {
                messages.push(payment_notice(context, case, &parties, claim)?);
            }
            Ok(messages)
        }
    }
}

fn reply(
    context: &Context,
    case: &case::Model,
    action: Action,
    status: crate::protocol::HcxStatus,
    bundle: fhir_model::r4b::resources::Bundle,
) -> Message {
    Message::new(
        &context.settings.participant_code,
        &case.participant_code,
        (&case.correlation_id, &case.workflow_id),
        action,
        status,
        bundle,
        &case.mesh_reference,
    )
}

/// A payment notice opens a cycle of its own, answered by the hospital's
/// /paymentnotice/on_request.
fn payment_notice(
    context: &Context,
    case: &case::Model,
    parties: &Parties,
    claim: &c::Claim,
) -> Result<Message, String> {
    let bundle = fhir::write::payment_notice(parties, &answers::payment(claim, &case.request_id))
        .map_err(|e| e.to_string())?;
    Ok(Message::new(
        &context.settings.participant_code,
        &case.participant_code,
        (&uuid::Uuid::new_v4().to_string(), &case.workflow_id),
        Action::PaymentNoticeRequest,
        crate::protocol::HcxStatus::RequestInitiated,
        bundle,
        &case.mesh_reference,
    ))
}
