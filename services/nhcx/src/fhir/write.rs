//! The bundles the mesh answers with: CoverageEligibilityResponse,
//! ClaimResponse (for preauths and claims) and PaymentNotice, each with the
//! patient and both organisations, under the HCX guide's bundle profiles.

use fhir_model::{
    Date, DateTime, Instant,
    r4b::{
        codes::{BundleType, EligibilityResponsePurpose, RemittanceOutcome, Use},
        resources::{
            Bundle, BundleEntry, ClaimResponse, ClaimResponseError, ClaimResponsePayment,
            ClaimResponseProcessNote, ClaimResponseTotal, CoverageEligibilityResponse,
            CoverageEligibilityResponseError, CoverageEligibilityResponseInsurance,
            CoverageEligibilityResponseInsuranceItem,
            CoverageEligibilityResponseInsuranceItemBenefit,
            CoverageEligibilityResponseInsuranceItemBenefitAllowed,
            CoverageEligibilityResponseInsuranceItemBenefitUsed, Organization, Patient,
            PaymentNotice, Resource,
        },
        types::{Identifier, Meta, Reference},
    },
};

use super::{
    ADJUDICATION_SYSTEM, BENEFICIARY_ID_SYSTEM, BUNDLE_SYSTEM, CARD_NUMBER_SYSTEM,
    CLAIM_TYPE_SYSTEM, DEDUCTION_SYSTEM, ERROR_SYSTEM, FhirError, HFR_SYSTEMS, PARTICIPANT_SYSTEM,
    PAYMENT_TYPE_SYSTEM, concept, identifier, money, read::PatientId, reference,
    reference_by_identifier, text_concept,
};

/// Profile of an eligibility answer.
pub const ELIGIBILITY_RESPONSE_PROFILE: &str =
    "https://ig.hcxprotocol.io/v0.7.1/StructureDefinition-CoverageEligibilityResponseBundle.html";
/// Profile of a preauth or claim answer.
pub const CLAIM_RESPONSE_PROFILE: &str =
    "https://ig.hcxprotocol.io/v0.7.1/StructureDefinition-ClaimResponseBundle.html";
/// Profile of a payment notice.
pub const PAYMENT_NOTICE_PROFILE: &str =
    "https://ig.hcxprotocol.io/v0.7.1/StructureDefinition-PaymentNoticeBundle.html";

/// Who the answer is between, and about whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parties {
    /// The mesh's participant code.
    pub payer_code: String,
    /// The payer's name, e.g. "Ayushman Bharat PM-JAY".
    pub payer_name: String,
    /// The hospital's participant code.
    pub provider_code: String,
    /// The hospital's HFR id.
    pub hfr_id: String,
    /// The patient as the hospital named them.
    pub patient: PatientId,
    /// The mesh's beneficiary id, once known.
    pub beneficiary_id: Option<String>,
}

/// One scheme's cover in an eligibility answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemeCover {
    /// Scheme code.
    pub scheme_code: String,
    /// Whether treatment may go ahead under it.
    pub eligible: bool,
    /// Why not, when not.
    pub reason: Option<String>,
    /// Its wallets: (kind, cover, used = blocked + consumed), in paise.
    pub wallets: Vec<(String, i64, i64)>,
}

/// The answer to a preauth or claim.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimAnswer {
    /// Preauthorization or claim.
    pub r#use: Use,
    /// The hospital's id of its Claim.
    pub request_id: String,
    /// queued, complete, partial (approved with deductions) or error.
    pub outcome: RemittanceOutcome,
    /// What was decided, in words.
    pub disposition: String,
    /// The mesh's preauth id, once there is one.
    pub preauth_ref: Option<String>,
    /// Amount asked for, in paise.
    pub requested_paise: i64,
    /// Amount approved, in paise, once decided.
    pub approved_paise: Option<i64>,
    /// Deductions: code, amount in paise, reason.
    pub deductions: Vec<(String, i64, String)>,
    /// Errors: the protocol's code and the message.
    pub errors: Vec<(String, String)>,
}

/// A payment of a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The hospital's id of its Claim.
    pub request_id: String,
    /// The mesh's claim id.
    pub claim_id: String,
    /// The payment batch.
    pub batch_id: String,
    /// Amount paid, in paise.
    pub amount_paise: i64,
    /// Day paid.
    pub paid_on: chrono::NaiveDate,
}

const PATIENT_URL: &str = "urn:uuid:patient";
const PAYER_URL: &str = "urn:uuid:payer";
const PROVIDER_URL: &str = "urn:uuid:provider";

/// A CoverageEligibilityResponse bundle; an empty `covers` with `error`
/// answers a check the mesh could not act on.
pub fn eligibility_response(
    parties: &Parties,
    request_id: &str,
    covers: &[SchemeCover],
    error: Option<(&str, &str)>,
) -> Result<Bundle, FhirError> {
    let mut insurance = Vec::new();
    for cover in covers {
        let mut benefits = Vec::new();
        for (kind, cover_paise, used_paise) in &cover.wallets {
            benefits.push(Some(
                CoverageEligibilityResponseInsuranceItemBenefit::builder()
                    .r#type(text_concept(kind)?)
                    .allowed(
                        CoverageEligibilityResponseInsuranceItemBenefitAllowed::Money(money(
                            *cover_paise,
                        )?),
                    )
                    .used(CoverageEligibilityResponseInsuranceItemBenefitUsed::Money(
                        money(*used_paise)?,
                    ))
                    .build()?,
            ));
        }
        let mut item = CoverageEligibilityResponseInsuranceItem::builder()
            .category(text_concept("hospitalisation")?)
            .benefit(benefits);
        if let Some(reason) = &cover.reason {
            item = item.description(reason.clone());
        }
        insurance.push(Some(
            CoverageEligibilityResponseInsurance::builder()
                .coverage(
                    Reference::builder()
                        .display(format!("scheme {}", cover.scheme_code))
                        .build()?,
                )
                .inforce(cover.eligible)
                .item(vec![Some(item.build()?)])
                .build()?,
        ));
    }
    let eligible = covers.iter().any(|c| c.eligible);
    let mut response = CoverageEligibilityResponse::builder()
        .status("active".to_owned())
        .purpose(vec![Some(EligibilityResponsePurpose::Benefits)])
        .patient(reference(PATIENT_URL)?)
        .created(now())
        .requestor(reference(PROVIDER_URL)?)
        .request(reference_by_identifier(
            "CoverageEligibilityRequest",
            &provider_system(parties),
            request_id,
        )?)
        .insurer(reference(PAYER_URL)?)
        .insurance(insurance);
    match error {
        Some((code, message)) => {
            response = response
                .outcome(RemittanceOutcome::Error)
                .disposition(message.to_owned())
                .error(vec![Some(
                    CoverageEligibilityResponseError::builder()
                        .code(concept(ERROR_SYSTEM, code, Some(message))?)
                        .build()?,
                )]);
        }
        None => {
            response = response
                .outcome(RemittanceOutcome::Complete)
                .disposition(if eligible {
                    "covered: treatment may go ahead cashless".to_owned()
                } else {
                    "not covered".to_owned()
                });
        }
    }
    bundle(
        ELIGIBILITY_RESPONSE_PROFILE,
        Resource::CoverageEligibilityResponse(response.build()?),
        parties,
    )
}

/// A ClaimResponse bundle answering a preauth or a claim.
pub fn claim_response(parties: &Parties, answer: &ClaimAnswer) -> Result<Bundle, FhirError> {
    let mut totals = vec![Some(total("submitted", answer.requested_paise)?)];
    if let Some(approved) = answer.approved_paise {
        totals.push(Some(total("benefit", approved)?));
    }
    let mut response = ClaimResponse::builder()
        .status("active".to_owned())
        .r#type(concept(CLAIM_TYPE_SYSTEM, "institutional", None)?)
        .r#use(answer.r#use)
        .patient(reference(PATIENT_URL)?)
        .created(now())
        .insurer(reference(PAYER_URL)?)
        .requestor(reference(PROVIDER_URL)?)
        .request(reference_by_identifier(
            "Claim",
            &provider_system(parties),
            &answer.request_id,
        )?)
        .outcome(answer.outcome)
        .disposition(answer.disposition.clone())
        .total(totals);
    if let Some(preauth) = &answer.preauth_ref {
        response = response.pre_auth_ref(preauth.clone());
    }
    if let (Use::Claim, Some(approved)) = (&answer.r#use, answer.approved_paise)
        && approved > 0
    {
        let deducted: i64 = answer.deductions.iter().map(|(_, paise, _)| paise).sum();
        let mut payment = ClaimResponsePayment::builder()
            .r#type(concept(
                PAYMENT_TYPE_SYSTEM,
                if deducted > 0 { "partial" } else { "complete" },
                None,
            )?)
            .amount(money(approved)?);
        if deducted > 0 {
            payment = payment
                .adjustment(money(-deducted)?)
                .adjustment_reason(text_concept(
                    &answer
                        .deductions
                        .iter()
                        .map(|(code, _, reason)| format!("{code}: {reason}"))
                        .collect::<Vec<_>>()
                        .join("; "),
                )?);
        }
        response = response.payment(payment.build()?);
    }
    let mut notes = Vec::new();
    for (code, paise, reason) in &answer.deductions {
        let rupees = format!("{}.{:02}", paise / 100, paise % 100);
        notes.push(Some(
            ClaimResponseProcessNote::builder()
                .text(format!("deduction {code} of INR {rupees}: {reason}"))
                .language(concept(DEDUCTION_SYSTEM, code, None)?)
                .build()?,
        ));
    }
    if !notes.is_empty() {
        response = response.process_note(notes);
    }
    if !answer.errors.is_empty() {
        let mut errors = Vec::new();
        for (code, message) in &answer.errors {
            errors.push(Some(
                ClaimResponseError::builder()
                    .code(concept(ERROR_SYSTEM, code, Some(message))?)
                    .build()?,
            ));
        }
        response = response.error(errors);
    }
    bundle(
        CLAIM_RESPONSE_PROFILE,
        Resource::ClaimResponse(response.build()?),
        parties,
    )
}

/// A PaymentNotice bundle telling the hospital a claim was paid.
pub fn payment_notice(parties: &Parties, payment: &Payment) -> Result<Bundle, FhirError> {
    let paid_on = payment
        .paid_on
        .to_string()
        .parse::<Date>()
        .map_err(|e| FhirError::Build(format!("payment date: {e}")))?;
    let notice = PaymentNotice::builder()
        .identifier(vec![Some(identifier(BUNDLE_SYSTEM, &payment.claim_id)?)])
        .status("active".to_owned())
        .request(reference_by_identifier(
            "Claim",
            &provider_system(parties),
            &payment.request_id,
        )?)
        .created(now())
        .provider(reference(PAYER_URL)?)
        .payment(
            Reference::builder()
                .r#type("PaymentReconciliation".to_owned())
                .display(format!("payment batch {}", payment.batch_id))
                .build()?,
        )
        .payment_date(paid_on)
        .payee(reference(PAYER_URL)?)
        .recipient(reference(PROVIDER_URL)?)
        .amount(money(payment.amount_paise)?)
        .payment_status(concept(
            "http://terminology.hl7.org/CodeSystem/paymentstatus",
            "paid",
            None,
        )?)
        .build()?;
    bundle(
        PAYMENT_NOTICE_PROFILE,
        Resource::PaymentNotice(notice),
        parties,
    )
}

fn total(category: &str, paise: i64) -> Result<ClaimResponseTotal, FhirError> {
    Ok(ClaimResponseTotal::builder()
        .category(concept(ADJUDICATION_SYSTEM, category, None)?)
        .amount(money(paise)?)
        .build()?)
}

/// The system the hospital's own ids are under: its participant code.
fn provider_system(parties: &Parties) -> String {
    format!("{PARTICIPANT_SYSTEM}/{}", parties.provider_code)
}

fn now() -> DateTime {
    DateTime::DateTime(Instant(fhir_model::time::OffsetDateTime::now_utc()))
}

/// `main` with the patient and both organisations, as a collection bundle.
fn bundle(profile: &str, main: Resource, parties: &Parties) -> Result<Bundle, FhirError> {
    let mut patient_ids: Vec<Option<Identifier>> = Vec::new();
    let (system, value) = match &parties.patient {
        PatientId::Beneficiary(id) => (BENEFICIARY_ID_SYSTEM, id),
        PatientId::Card(card) => (CARD_NUMBER_SYSTEM, card),
        PatientId::Abha(abha) => (super::ABHA_SYSTEMS[0], abha),
    };
    patient_ids.push(Some(identifier(system, value)?));
    if let Some(id) = &parties.beneficiary_id
        && !matches!(&parties.patient, PatientId::Beneficiary(_))
    {
        patient_ids.push(Some(identifier(BENEFICIARY_ID_SYSTEM, id)?));
    }
    let patient = Patient::builder().identifier(patient_ids).build()?;
    let payer = Organization::builder()
        .identifier(vec![Some(identifier(
            PARTICIPANT_SYSTEM,
            &parties.payer_code,
        )?)])
        .name(parties.payer_name.clone())
        .build()?;
    let provider = Organization::builder()
        .identifier(vec![
            Some(identifier(PARTICIPANT_SYSTEM, &parties.provider_code)?),
            Some(identifier(HFR_SYSTEMS[0], &parties.hfr_id)?),
        ])
        .build()?;
    let entry = |full_url: String, resource: Resource| {
        BundleEntry::builder()
            .full_url(full_url)
            .resource(resource)
            .build()
    };
    let id = uuid::Uuid::new_v4().to_string();
    Ok(Bundle::builder()
        .id(id.clone())
        .meta(
            Meta::builder()
                .profile(vec![Some(profile.to_owned())])
                .build()?,
        )
        .identifier(identifier(BUNDLE_SYSTEM, &id)?)
        .r#type(BundleType::Collection)
        .timestamp(Instant(fhir_model::time::OffsetDateTime::now_utc()))
        .entry(vec![
            Some(entry(format!("urn:uuid:{}", uuid::Uuid::new_v4()), main)?),
            Some(entry(PATIENT_URL.into(), Resource::Patient(patient))?),
            Some(entry(PAYER_URL.into(), Resource::Organization(payer))?),
            Some(entry(
                PROVIDER_URL.into(),
                Resource::Organization(provider),
            )?),
        ])
        .build()?)
}
