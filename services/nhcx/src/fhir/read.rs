//! What the mesh reads from a hospital's bundle: an eligibility check, a
//! preauth or a claim, as plain asks the mesh's services understand.

use chrono::NaiveDate;
use fhir_model::r4b::{
    codes::Use,
    resources::{
        Bundle, Claim, ClaimDiagnosisDiagnosis, Communication, CommunicationPayloadContent,
        CoverageEligibilityRequest, CoverageEligibilityRequestServiced, Organization, Patient,
        PaymentNotice, Practitioner, Resource,
    },
    types::{CodeableConcept, Identifier, Reference},
};

use super::{
    ABHA_SYSTEMS, BENEFICIARY_ID_SYSTEM, CARD_NUMBER_SYSTEM, FhirError, HFR_SYSTEMS, HPR_SYSTEMS,
    PACKAGE_SYSTEM, paise_of, resources,
};

/// How the hospital names the patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientId {
    /// The mesh's beneficiary id (PM-JAY id).
    Beneficiary(String),
    /// A card number.
    Card(String),
    /// An ABHA number or address.
    Abha(String),
}

impl PatientId {
    /// `kind|value`, as a case row keeps it.
    pub fn stored(&self) -> String {
        match self {
            Self::Beneficiary(id) => format!("beneficiary|{id}"),
            Self::Card(card) => format!("card|{card}"),
            Self::Abha(abha) => format!("abha|{abha}"),
        }
    }

    /// The patient of a [`PatientId::stored`] text.
    pub fn from_stored(text: &str) -> Option<Self> {
        match text.split_once('|')? {
            ("beneficiary", id) => Some(Self::Beneficiary(id.to_owned())),
            ("card", card) => Some(Self::Card(card.to_owned())),
            ("abha", abha) => Some(Self::Abha(abha.to_owned())),
            _ => None,
        }
    }
}

/// Is this patient covered?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityAsk {
    /// The hospital's id of its request, echoed in the answer.
    pub request_id: String,
    /// The patient.
    pub patient: PatientId,
    /// The day of treatment, when given.
    pub service_date: Option<NaiveDate>,
}

/// One package asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageAsk {
    /// HBP package code.
    pub package_code: String,
}

/// A pre-authorisation asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreauthAsk {
    /// The hospital's id of its Claim, echoed in the answers.
    pub request_id: String,
    /// The patient.
    pub patient: PatientId,
    /// The treating facility named in the Claim, if any (it must be the sender's).
    pub hfr_id: Option<String>,
    /// The treating doctor's HPR id.
    pub hpr_id: String,
    /// Packages asked for, at least one.
    pub packages: Vec<PackageAsk>,
    /// Day of admission.
    pub admission_date: NaiveDate,
    /// Provisional diagnosis.
    pub diagnosis: String,
}

/// One line of a final bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillLine {
    /// What was billed.
    pub description: String,
    /// HBP package code; empty for extras.
    pub package_code: String,
    /// Amount, in paise.
    pub amount_paise: i64,
}

/// A claim for a discharged case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimAsk {
    /// The hospital's id of its Claim, echoed in the answers.
    pub request_id: String,
    /// The patient.
    pub patient: PatientId,
    /// The treating facility named in the Claim, if any (it must be the sender's).
    pub hfr_id: Option<String>,
    /// The mesh's preauth the claim is for (`insurance.preAuthRef`).
    pub preauth_id: String,
    /// The final bill.
    pub bill: Vec<BillLine>,
}

/// What a hospital's message asks of the mesh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// `/coverageeligibility/check`.
    Eligibility(EligibilityAsk),
    /// `/preauth/submit`.
    Preauth(PreauthAsk),
    /// `/claim/submit`.
    Claim(ClaimAsk),
    /// `/communication/on_request`: the hospital's answer, as text.
    Communication(String),
    /// `/paymentnotice/on_request`: the hospital acknowledges a payment.
    PaymentAcknowledged,
}

/// The bundle of a payload; a payload that is not one is [`FhirError::NotABundle`].
pub fn bundle(payload: &[u8]) -> Result<Bundle, FhirError> {
    serde_json::from_slice::<Bundle>(payload).map_err(|e| FhirError::NotABundle(e.to_string()))
}

/// The eligibility check of a CoverageEligibilityRequest bundle.
pub fn eligibility(bundle: &Bundle) -> Result<EligibilityAsk, FhirError> {
    let request: &CoverageEligibilityRequest =
        only(bundle, "CoverageEligibilityRequest", |r| match r {
            Resource::CoverageEligibilityRequest(request) => Some(request),
            _ => None,
        })?;
    let service_date = match &request.serviced {
        Some(CoverageEligibilityRequestServiced::Date(date)) => Some(day(
            &date_text(date),
            "CoverageEligibilityRequest.servicedDate",
        )?),
        _ => None,
    };
    Ok(EligibilityAsk {
        request_id: request_id(request.id.as_deref(), &request.identifier),
        patient: patient(
            bundle,
            &request.patient,
            "CoverageEligibilityRequest.patient",
        )?,
        service_date,
    })
}

/// The preauth of a Claim bundle with `use` = `preauthorization`.
pub fn preauth(bundle: &Bundle) -> Result<PreauthAsk, FhirError> {
    let claim = claim_of_use(bundle, Use::Preauthorization)?;
    let hpr_id = claim
        .care_team
        .iter()
        .flatten()
        .find_map(|member| {
            identified(bundle, &member.provider, &HPR_SYSTEMS, |r| match r {
                Resource::Practitioner(Practitioner(p)) => Some(&p.identifier),
                _ => None,
            })
        })
        .ok_or_else(|| {
            FhirError::invalid(
                "Claim.careTeam.provider",
                format!(
                    "must name the treating doctor by HPR id (identifier system {})",
                    HPR_SYSTEMS[0]
                ),
            )
        })?;
    let mut packages = Vec::new();
    for (i, item) in claim.item.iter().flatten().enumerate() {
        packages.push(PackageAsk {
            package_code: package_code(&item.product_or_service)
                .ok_or_else(|| package_missing(i))?,
        });
    }
    if packages.is_empty() {
        return Err(FhirError::invalid(
            "Claim.item",
            "must list at least one package",
        ));
    }
    let admission = claim
        .billable_period
        .as_ref()
        .and_then(|period| period.start.as_ref())
        .ok_or_else(|| {
            FhirError::invalid(
                "Claim.billablePeriod.start",
                "is required: the day of admission",
            )
        })?;
    let diagnosis = claim
        .diagnosis
        .iter()
        .flatten()
        .find_map(|d| match &d.diagnosis {
            ClaimDiagnosisDiagnosis::CodeableConcept(concept) => concept_text(concept),
            ClaimDiagnosisDiagnosis::Reference(_) => None,
        })
        .ok_or_else(|| {
            FhirError::invalid(
                "Claim.diagnosis.diagnosisCodeableConcept",
                "is required: the provisional diagnosis, as text or a coding's display",
            )
        })?;
    Ok(PreauthAsk {
        request_id: request_id(claim.id.as_deref(), &claim.identifier),
        patient: patient(bundle, &claim.patient, "Claim.patient")?,
        hfr_id: provider_hfr_id(bundle, &claim.provider),
        hpr_id,
        packages,
        admission_date: day(&date_time_text(admission), "Claim.billablePeriod.start")?,
        diagnosis,
    })
}

/// The claim of a Claim bundle with `use` = `claim`.
pub fn claim(bundle: &Bundle) -> Result<ClaimAsk, FhirError> {
    let claim = claim_of_use(bundle, Use::Claim)?;
    let preauth_id = claim
        .insurance
        .iter()
        .flatten()
        .flat_map(|insurance| insurance.pre_auth_ref.iter().flatten())
        .find(|reference| !reference.trim().is_empty())
        .map(|reference| reference.trim().to_owned())
        .ok_or_else(|| {
            FhirError::invalid(
                "Claim.insurance.preAuthRef",
                "is required: the preauth id the mesh gave in its on_submit",
            )
        })?;
    let mut bill = Vec::new();
    for (i, item) in claim.item.iter().flatten().enumerate() {
        let element = format!("Claim.item[{i}]");
        let amount_paise = paise_of(item.net.as_ref(), &format!("{element}.net"))?;
        let package_code = package_code(&item.product_or_service).unwrap_or_default();
        let description =
            concept_text(&item.product_or_service).unwrap_or_else(|| package_code.clone());
        if description.is_empty() {
            return Err(FhirError::invalid(
                format!("{element}.productOrService"),
                "must carry a package code or a text saying what was billed",
            ));
        }
        bill.push(BillLine {
            description,
            package_code,
            amount_paise,
        });
    }
    if bill.is_empty() {
        return Err(FhirError::invalid(
            "Claim.item",
            "must list at least one billed item",
        ));
    }
    Ok(ClaimAsk {
        request_id: request_id(claim.id.as_deref(), &claim.identifier),
        patient: patient(bundle, &claim.patient, "Claim.patient")?,
        hfr_id: provider_hfr_id(bundle, &claim.provider),
        preauth_id,
        bill,
    })
}

/// The hospital's answer in a Communication bundle.
pub fn communication(bundle: &Bundle) -> Result<String, FhirError> {
    let communication: &Communication = only(bundle, "Communication", |r| match r {
        Resource::Communication(c) => Some(c),
        _ => None,
    })?;
    let text = communication
        .payload
        .iter()
        .flatten()
        .filter_map(|payload| match &payload.content {
            CommunicationPayloadContent::String(text) => Some(text.trim().to_owned()),
            _ => None,
        })
        .filter(|text| !text.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    if text.is_empty() {
        return Err(FhirError::invalid(
            "Communication.payload.contentString",
            "is required: the answer, as text",
        ));
    }
    Ok(text)
}

/// A PaymentNotice bundle (the hospital's acknowledgement of a payment).
pub fn payment_notice(bundle: &Bundle) -> Result<(), FhirError> {
    only(bundle, "PaymentNotice", |r| match r {
        Resource::PaymentNotice(notice) => Some::<&PaymentNotice>(notice),
        _ => None,
    })
    .map(|_| ())
}

fn claim_of_use(bundle: &Bundle, wanted: Use) -> Result<&Claim, FhirError> {
    let claim: &Claim = only(bundle, "Claim", |r| match r {
        Resource::Claim(claim) => Some(claim),
        _ => None,
    })?;
    if claim.r#use != wanted {
        let wanted: &str = wanted.as_ref();
        let found: &str = claim.r#use.as_ref();
        return Err(FhirError::WrongResource(format!(
            "Claim.use is {found}; this endpoint takes a Claim with use {wanted}"
        )));
    }
    Ok(claim)
}

/// The one resource of a kind the bundle must carry.
fn only<'a, T>(
    bundle: &'a Bundle,
    kind: &str,
    pick: impl Fn(&'a Resource) -> Option<&'a T>,
) -> Result<&'a T, FhirError> {
    let mut found = resources(bundle).filter_map(|(_, resource)| pick(resource));
    match (found.next(), found.next()) {
        (Some(one), None) => Ok(one),
        (None, _) => Err(FhirError::WrongResource(format!(
            "the bundle carries no {kind}; this endpoint takes a bundle with one"
        ))),
        (Some(_), Some(_)) => Err(FhirError::WrongResource(format!(
            "the bundle carries more than one {kind}"
        ))),
    }
}

/// The value of the first identifier of `systems`, from the reference
/// itself or from the bundle's resource it points at.
fn identified<'a>(
    bundle: &'a Bundle,
    reference: &'a Reference,
    systems: &[&str],
    identifiers_of: impl Fn(&'a Resource) -> Option<&'a Vec<Option<Identifier>>>,
) -> Option<String> {
    let of_system = |identifier: &Identifier| {
        let system = identifier.system.as_deref()?;
        let value = identifier.value.as_deref()?.trim();
        (systems.contains(&system) && !value.is_empty()).then(|| value.to_owned())
    };
    if let Some(value) = reference.identifier.as_ref().and_then(of_system) {
        return Some(value);
    }
    let target = reference.reference.as_deref()?;
    resources(bundle)
        .filter_map(|(full_url, resource)| Some((full_url, identifiers_of(resource)?)))
        .find(|(full_url, _)| {
            full_url.is_some_and(|url| url == target || url.ends_with(&format!("/{target}")))
        })
        .and_then(|(_, identifiers)| identifiers.iter().flatten().find_map(of_system))
}

fn patient(bundle: &Bundle, reference: &Reference, element: &str) -> Result<PatientId, FhirError> {
    fn identifiers_of(resource: &Resource) -> Option<&Vec<Option<Identifier>>> {
        match resource {
            Resource::Patient(Patient(p)) => Some(&p.identifier),
            _ => None,
        }
    }
    if let Some(id) = identified(bundle, reference, &[BENEFICIARY_ID_SYSTEM], identifiers_of) {
        return Ok(PatientId::Beneficiary(id));
    }
    if let Some(card) = identified(bundle, reference, &[CARD_NUMBER_SYSTEM], identifiers_of) {
        return Ok(PatientId::Card(card));
    }
    if let Some(abha) = identified(bundle, reference, &ABHA_SYSTEMS, identifiers_of) {
        return Ok(PatientId::Abha(abha));
    }
    Err(FhirError::invalid(
        element,
        format!(
            "must name the patient by an identifier of system {BENEFICIARY_ID_SYSTEM}, \
             {CARD_NUMBER_SYSTEM} or {}",
            ABHA_SYSTEMS[0]
        ),
    ))
}

fn provider_hfr_id(bundle: &Bundle, reference: &Reference) -> Option<String> {
    identified(bundle, reference, &HFR_SYSTEMS, |r| match r {
        Resource::Organization(Organization(o)) => Some(&o.identifier),
        _ => None,
    })
}

fn package_code(concept: &CodeableConcept) -> Option<String> {
    concept.coding.iter().flatten().find_map(|coding| {
        let code = coding.code.as_deref()?.trim();
        (coding.system.as_deref() == Some(PACKAGE_SYSTEM) && !code.is_empty())
            .then(|| code.to_owned())
    })
}

fn package_missing(index: usize) -> FhirError {
    FhirError::invalid(
        format!("Claim.item[{index}].productOrService"),
        format!("must carry a coding of system {PACKAGE_SYSTEM} (the HBP package code)"),
    )
}

fn concept_text(concept: &CodeableConcept) -> Option<String> {
    concept
        .text
        .as_deref()
        .or_else(|| {
            concept
                .coding
                .iter()
                .flatten()
                .find_map(|c| c.display.as_deref())
        })
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

fn request_id(id: Option<&str>, identifiers: &[Option<Identifier>]) -> String {
    identifiers
        .iter()
        .flatten()
        .find_map(|i| i.value.clone())
        .or_else(|| id.map(str::to_owned))
        .unwrap_or_default()
}

fn date_text(date: &fhir_model::Date) -> String {
    serde_json::to_value(date)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn date_time_text(instant: &fhir_model::DateTime) -> String {
    serde_json::to_value(instant)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The day of a FHIR date or dateTime (its first ten characters).
fn day(text: &str, element: &str) -> Result<NaiveDate, FhirError> {
    text.get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| FhirError::invalid(element, "must be a full date (YYYY-MM-DD)"))
}
