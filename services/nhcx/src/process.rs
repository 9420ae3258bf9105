//! Acting on a received message: the mesh call it asks for, made as the
//! sending hospital, and the answer queued in the same transaction that marks
//! the message processed. Calls are keyed by the message, so acting twice
//! (after a crash, or by two replicas) raises one preauth and one claim.

use ayushman_proto::{
    claims::v1 as c,
    preauth::v1::{self as p, PackageChoice},
};
use fhir_model::r4b::codes::{RemittanceOutcome, Use};

use crate::{
    Context,
    answers::{self, CaseKind},
    delivery,
    exchanges::{ACKNOWLEDGED, DELIVERED, FAILED, Message, PROCESSED, QUEUED, RECEIVED},
    fhir::{
        self,
        read::{Ask, EligibilityAsk, PatientId},
        write::{ClaimAnswer, Parties},
    },
    participants::{self, Sender},
    peers::{Hospital, PeerError},
    protocol::{Action, ErrorCode, HcxStatus, ProtocolError, ProtocolHeaders},
    store::{entities::case, queries},
};

/// How long one worker owns a received message; after that another may retry it.
const LEASE_SECONDS: i64 = 30;

/// What acting on a message came to.
struct Acted {
    mesh_reference: String,
    answer: Option<Message>,
    follow: Option<case::Model>,
    acknowledges: Option<String>,
    refusal: Option<String>,
}

/// Acts on the received message `exchange_id` once; `known` is what the
/// endpoint already read of it (a retry reads it again from the stored JWE).
pub async fn process(context: &Context, exchange_id: &str, known: Option<(ProtocolHeaders, Ask)>) {
    if let Err(error) = try_process(context, exchange_id, known).await {
        tracing::warn!(exchange_id, %error, "message not processed yet; will retry");
    }
}

async fn try_process(
    context: &Context,
    exchange_id: &str,
    known: Option<(ProtocolHeaders, Ask)>,
) -> Result<(), String> {
    let db = &context.db;
    let leased = queries::lease_exchange(
        db,
        exchange_id,
        RECEIVED,
        chrono::Duration::seconds(LEASE_SECONDS),
    )
    .await
    .map_err(|e| e.to_string())?;
    if !leased {
        return Ok(());
    }
    let row = queries::find_exchange(db, exchange_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the message vanished")?;
    let read = async {
        let sender = participants::sender(db, &row.participant_code).await?;
        let (headers, ask) = match known {
            Some(known) => known,
            None => reread(context, &row.payload, &row.action)?,
        };
        Ok::<_, ProtocolError>((sender, headers, ask))
    };
    let (sender, headers, ask) = match read.await {
        Ok(read) => read,
        Err(error) => {
            queries::finish_exchange(
                db,
                exchange_id,
                RECEIVED,
                FAILED,
                None,
                Some(&error.to_string()),
            )
            .await
            .map_err(|e| e.to_string())?;
            return Ok(());
        }
    };
    let acted = match act(context, &sender, &headers, exchange_id, ask).await {
        Ok(acted) => acted,
        // The mesh is down: the worker tries again after retry_base_ms.
        Err(error) => {
            let retry = chrono::Duration::milliseconds(
                i64::try_from(context.settings.retry_base_ms).unwrap_or(i64::MAX),
            );
            queries::release_exchange(
                db,
                exchange_id,
                RECEIVED,
                ayushman_platform::db::now() + retry,
                &error.to_string(),
            )
            .await
            .map_err(|e| e.to_string())?;
            return Err(error.to_string());
        }
    };
    let txn = ayushman_platform::db::begin_write(db)
        .await
        .map_err(|e| e.to_string())?;
    let (status, error) = match &acted.refusal {
        Some(refusal) => (FAILED, refusal.as_str()),
        None => (PROCESSED, ""),
    };
    let finished = queries::finish_exchange(
        &*txn,
        exchange_id,
        RECEIVED,
        status,
        Some(&acted.mesh_reference),
        Some(error),
    )
    .await
    .map_err(|e| e.to_string())?;
    if !finished {
        return Ok(());
    }
    let mut queued = None;
    if let Some(answer) = acted.answer {
        let row = answer.queued(&sender.row, ayushman_platform::db::now())?;
        queued = Some(row.exchange_id.clone());
        queries::insert_exchange(&*txn, row)
            .await
            .map_err(|e| e.to_string())?;
    }
    if let Some(case) = acted.follow {
        queries::follow_case(&*txn, case)
            .await
            .map_err(|e| e.to_string())?;
    }
    if let Some(acknowledged) = &acted.acknowledges {
        for from in [DELIVERED, QUEUED] {
            queries::finish_exchange(&*txn, acknowledged, from, ACKNOWLEDGED, None, None)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    txn.commit().await.map_err(|e| e.to_string())?;
    if let Some(queued) = queued {
        delivery::deliver(context, &queued).await;
    }
    Ok(())
}

/// The headers and ask of a stored message, read again.
fn reread(
    context: &Context,
    jwe: &str,
    action: &str,
) -> Result<(ProtocolHeaders, Ask), ProtocolError> {
    let action = Action::from_path(action).ok_or_else(|| {
        ProtocolError::new(
            ErrorCode::InvalidPayload,
            format!("unknown action {action}"),
        )
    })?;
    let (claims, payload) = context.keys.envelope.decrypt(jwe)?;
    let headers = ProtocolHeaders::read(&claims)?;
    let bundle = fhir::read::bundle(&payload)
        .map_err(|e| ProtocolError::new(ErrorCode::InvalidDomainPayload, e.to_string()))?;
    let ask = match action {
        Action::EligibilityCheck => fhir::read::eligibility(&bundle).map(Ask::Eligibility),
        Action::PreauthSubmit => fhir::read::preauth(&bundle).map(Ask::Preauth),
        Action::ClaimSubmit => fhir::read::claim(&bundle).map(Ask::Claim),
        Action::CommunicationOnRequest => {
            fhir::read::communication(&bundle).map(Ask::Communication)
        }
        _ => fhir::read::payment_notice(&bundle).map(|()| Ask::PaymentAcknowledged),
    }
    .map_err(|e| ProtocolError::new(ErrorCode::InvalidDomainPayload, e.to_string()))?;
    Ok((headers, ask))
}

/// Who the answers are between.
pub fn parties(
    context: &Context,
    sender: &Sender,
    patient: &PatientId,
    beneficiary_id: Option<&str>,
) -> Parties {
    Parties {
        payer_code: context.settings.participant_code.clone(),
        payer_name: context.settings.payer_name.clone(),
        provider_code: sender.row.participant_code.clone(),
        hfr_id: sender.row.hfr_id.clone(),
        patient: patient.clone(),
        beneficiary_id: beneficiary_id.map(str::to_owned),
    }
}

/// The hospital a sender acts as.
pub fn hospital(sender: &Sender) -> Hospital {
    Hospital {
        participant_code: sender.row.participant_code.clone(),
        hfr_id: sender.row.hfr_id.clone(),
    }
}

async fn act(
    context: &Context,
    sender: &Sender,
    headers: &ProtocolHeaders,
    key: &str,
    ask: Ask,
) -> Result<Acted, PeerError> {
    let hospital = hospital(sender);
    let reply = |action, status, bundle, reference: &str| {
        Message::new(
            &context.settings.participant_code,
            &sender.row.participant_code,
            (&headers.correlation_id, &headers.workflow_id),
            action,
            status,
            bundle,
            reference,
        )
    };
    match ask {
        Ask::Eligibility(ask) => eligibility(context, sender, &hospital, ask, reply).await,
        Ask::Preauth(ask) => {
            let request = p::RaisePreauthRequest {
                idempotency_key: key.to_owned(),
                treating_hpr_id: ask.hpr_id.clone(),
                packages: ask
                    .packages
                    .iter()
                    .map(|package| PackageChoice {
                        package_code: package.package_code.clone(),
                        add_on_codes: Vec::new(),
                    })
                    .collect(),
                admission_date: Some(ayushman_platform::convert::date_to_proto(
                    ask.admission_date,
                )),
                provisional_diagnosis: ask.diagnosis.clone(),
                ..Default::default()
            };
            let raised = context
                .peers
                .raise_preauth(&hospital, &ask.patient, request)
                .await
                .map(|preauth| Raised::preauth(preauth, &ask.request_id));
            let case = CaseAsk {
                kind: CaseKind::Preauth,
                patient: &ask.patient,
                request_id: &ask.request_id,
            };
            case_acted(context, sender, headers, &case, raised, &reply)
        }
        Ask::Claim(ask) => {
            let request = c::SubmitClaimRequest {
                idempotency_key: key.to_owned(),
                preauth_id: ask.preauth_id.clone(),
                bill_items: ask
                    .bill
                    .iter()
                    .map(|line| c::BillItem {
                        description: line.description.clone(),
                        package_code: line.package_code.clone(),
                        amount_paise: line.amount_paise,
                    })
                    .collect(),
                ..Default::default()
            };
            let submitted = context
                .peers
                .submit_claim(&hospital, request)
                .await
                .map(|claim| Raised::claim(claim, &ask.request_id));
            let case = CaseAsk {
                kind: CaseKind::Claim,
                patient: &ask.patient,
                request_id: &ask.request_id,
            };
            case_acted(context, sender, headers, &case, submitted, &reply)
        }
        Ask::Communication(text) => {
            let opened = opened_by_mesh(context, headers).await?;
            let refusal = match context
                .peers
                .answer_query(&hospital, key.to_owned(), &opened, text)
                .await
            {
                Ok(_) => None,
                Err(PeerError::Refused(message)) => Some(message),
                Err(unavailable) => return Err(unavailable),
            };
            Ok(Acted {
                mesh_reference: opened,
                answer: None,
                follow: None,
                acknowledges: None,
                refusal,
            })
        }
        Ask::PaymentAcknowledged => {
            let opened = queries::outbound_of_correlation(
                &context.db,
                &headers.correlation_id,
                &headers.sender_code,
            )
            .await
            .ok()
            .flatten();
            Ok(Acted {
                mesh_reference: opened
                    .as_ref()
                    .map(|row| row.mesh_reference.clone())
                    .unwrap_or_default(),
                answer: None,
                follow: None,
                acknowledges: opened.map(|row| row.exchange_id),
                refusal: None,
            })
        }
    }
}

/// The case the mesh's message of this cycle was about.
async fn opened_by_mesh(context: &Context, headers: &ProtocolHeaders) -> Result<String, PeerError> {
    queries::outbound_of_correlation(&context.db, &headers.correlation_id, &headers.sender_code)
        .await
        .map_err(|e| PeerError::Unavailable {
            service: crate::SERVICE,
            message: e.to_string(),
        })?
        .map(|row| row.mesh_reference)
        .ok_or_else(|| PeerError::Refused("no message of the mesh has this correlation id".into()))
}

type Reply<'a> =
    dyn Fn(Action, HcxStatus, fhir_model::r4b::resources::Bundle, &str) -> Message + 'a;

async fn eligibility(
    context: &Context,
    sender: &Sender,
    hospital: &Hospital,
    ask: EligibilityAsk,
    reply: impl Fn(Action, HcxStatus, fhir_model::r4b::resources::Bundle, &str) -> Message,
) -> Result<Acted, PeerError> {
    let verified = context
        .peers
        .verify_eligibility(hospital, &ask.patient, ask.service_date)
        .await;
    let (answer, reference) = match verified {
        Ok(verified) => {
            let beneficiary_id = verified
                .beneficiary
                .as_ref()
                .map(|b| b.beneficiary_id.clone())
                .unwrap_or_default();
            let parties = parties(context, sender, &ask.patient, Some(&beneficiary_id));
            let bundle = fhir::write::eligibility_response(
                &parties,
                &ask.request_id,
                &answers::covers(&verified),
                None,
            )
            .map_err(built)?;
            (
                reply(
                    Action::EligibilityOnCheck,
                    HcxStatus::ResponseComplete,
                    bundle,
                    &beneficiary_id,
                ),
                beneficiary_id,
            )
        }
        Err(PeerError::Refused(message)) => {
            let error = ProtocolError::new(ErrorCode::DomainProcessing, message.clone());
            let parties = parties(context, sender, &ask.patient, None);
            let bundle = fhir::write::eligibility_response(
                &parties,
                &ask.request_id,
                &[],
                Some((ErrorCode::DomainProcessing.as_str(), &message)),
            )
            .map_err(built)?;
            (
                reply(
                    Action::EligibilityOnCheck,
                    HcxStatus::ResponseError,
                    bundle,
                    "",
                )
                .with_error(&error),
                String::new(),
            )
        }
        Err(unavailable) => return Err(unavailable),
    };
    Ok(Acted {
        mesh_reference: reference,
        answer: Some(answer),
        follow: None,
        acknowledges: None,
        refusal: None,
    })
}

fn built(error: crate::fhir::FhirError) -> PeerError {
    PeerError::Refused(format!("the answer could not be built: {error}"))
}

/// An answer reporting that the mesh refused the request.
fn refused_answer(r#use: Use, request_id: &str, message: &str) -> ClaimAnswer {
    ClaimAnswer {
        r#use,
        request_id: request_id.to_owned(),
        outcome: RemittanceOutcome::Error,
        disposition: message.to_owned(),
        preauth_ref: None,
        requested_paise: 0,
        approved_paise: None,
        deductions: Vec::new(),
        errors: vec![(
            ErrorCode::DomainProcessing.as_str().to_owned(),
            message.to_owned(),
        )],
    }
}

/// The answer message of a ClaimResponse, with error details when it is one.
fn claim_message(
    reply: &Reply<'_>,
    action: Action,
    parties: &Parties,
    answer: &ClaimAnswer,
    reference: &str,
) -> Result<Message, PeerError> {
    let bundle = fhir::write::claim_response(parties, answer).map_err(built)?;
    let message = reply(
        action,
        answers::hcx_status(&answer.outcome),
        bundle,
        reference,
    );
    Ok(match answer.errors.first() {
        Some((_, text)) => message.with_error(&ProtocolError::new(
            ErrorCode::DomainProcessing,
            text.clone(),
        )),
        None => message,
    })
}

fn followed(
    headers: &ProtocolHeaders,
    kind: CaseKind,
    reference: &str,
    request_id: &str,
    patient: &PatientId,
    beneficiary_id: &str,
    (milestone, closed): (answers::Milestone, bool),
) -> case::Model {
    case::Model {
        mesh_reference: reference.to_owned(),
        kind,
        participant_code: headers.sender_code.clone(),
        correlation_id: headers.correlation_id.clone(),
        workflow_id: headers.workflow_id.clone(),
        request_id: request_id.to_owned(),
        patient: patient.stored(),
        beneficiary_id: beneficiary_id.to_owned(),
        reported: milestone,
        open: !closed,
        updated_at: ayushman_platform::db::now(),
    }
}

/// A preauth or claim the mesh raised for the hospital, as it will hear of it.
struct Raised {
    reference: String,
    beneficiary_id: String,
    answer: ClaimAnswer,
    milestone: (answers::Milestone, bool),
}

impl Raised {
    fn preauth(preauth: p::Preauth, request_id: &str) -> Self {
        Self {
            answer: answers::preauth_answer(&preauth, request_id),
            milestone: answers::preauth_milestone(preauth.status()),
            reference: preauth.preauth_id,
            beneficiary_id: preauth.beneficiary_id,
        }
    }

    fn claim(claim: c::Claim, request_id: &str) -> Self {
        Self {
            answer: answers::claim_answer(&claim, request_id),
            milestone: answers::claim_milestone(claim.status()),
            reference: claim.claim_id,
            beneficiary_id: claim.beneficiary_id,
        }
    }
}

/// What the hospital asked of the case.
struct CaseAsk<'a> {
    kind: CaseKind,
    patient: &'a PatientId,
    request_id: &'a str,
}

/// The answer to a preauth or claim, and the case to follow when the mesh raised one.
fn case_acted(
    context: &Context,
    sender: &Sender,
    headers: &ProtocolHeaders,
    ask: &CaseAsk<'_>,
    raised: Result<Raised, PeerError>,
    reply: &Reply<'_>,
) -> Result<Acted, PeerError> {
    match raised {
        Ok(raised) => {
            let parties = parties(context, sender, ask.patient, Some(&raised.beneficiary_id));
            let message = claim_message(
                reply,
                ask.kind.on_submit(),
                &parties,
                &raised.answer,
                &raised.reference,
            )?;
            Ok(Acted {
                follow: Some(followed(
                    headers,
                    ask.kind,
                    &raised.reference,
                    ask.request_id,
                    ask.patient,
                    &raised.beneficiary_id,
                    raised.milestone,
                )),
                mesh_reference: raised.reference,
                answer: Some(message),
                acknowledges: None,
                refusal: None,
            })
        }
        Err(PeerError::Refused(message)) => {
            let parties = parties(context, sender, ask.patient, None);
            let answer = refused_answer(ask.kind.r#use(), ask.request_id, &message);
            Ok(Acted {
                mesh_reference: String::new(),
                answer: Some(claim_message(
                    reply,
                    ask.kind.on_submit(),
                    &parties,
                    &answer,
                    "",
                )?),
                follow: None,
                acknowledges: None,
                refusal: None,
            })
        }
        Err(unavailable) => Err(unavailable),
    }
}
