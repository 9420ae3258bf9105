//! FHIR R4B as the exchange carries it, on `fhir-model`'s resources: what
//! the mesh reads from a hospital's bundle ([`read`]) and the bundles it
//! answers with ([`write`]). The identifier systems are listed here once;
//! docs/NHCX.md gives them to integrators.

pub mod read;
pub mod write;

use fhir_model::{
    BuilderError,
    r4b::{
        resources::{Bundle, Resource},
        types::{CodeableConcept, Coding, Identifier, Money, Reference},
    },
};

/// A PM-JAY (or state scheme) card number.
pub const CARD_NUMBER_SYSTEM: &str = "https://pmjay.gov.in/identifier/card-number";
/// A beneficiary id of the mesh (the PM-JAY id).
pub const BENEFICIARY_ID_SYSTEM: &str = "https://pmjay.gov.in/identifier/beneficiary-id";
/// An ABHA number or address.
pub const ABHA_SYSTEMS: [&str; 2] = [
    "https://healthid.abdm.gov.in",
    "https://healthid.ndhm.gov.in",
];
/// A facility's HFR id.
pub const HFR_SYSTEMS: [&str; 2] = [
    "https://facility.abdm.gov.in",
    "https://facility.ndhm.gov.in",
];
/// A doctor's HPR id.
pub const HPR_SYSTEMS: [&str; 2] = ["https://doctor.abdm.gov.in", "https://doctor.ndhm.gov.in"];
/// A package of the Health Benefit Package master.
pub const PACKAGE_SYSTEM: &str = "https://pmjay.gov.in/hbp-package-code";
/// A participant code of the exchange.
pub const PARTICIPANT_SYSTEM: &str = "https://hcxprotocol.io/participant-code";
/// Identifiers of the bundles the mesh makes.
pub const BUNDLE_SYSTEM: &str = "https://ayushman-mesh.in/nhcx/bundle";
/// Codes of deductions, as the mesh names them (DeductionCode).
pub const DEDUCTION_SYSTEM: &str = "https://ayushman-mesh.in/fhir/deduction-code";
/// The protocol's error codes in ClaimResponse.error.
pub const ERROR_SYSTEM: &str = "https://hcxprotocol.io/error-code";
/// FHIR's adjudication categories (submitted, benefit...).
pub const ADJUDICATION_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/adjudication";
/// FHIR's claim types (institutional...).
pub const CLAIM_TYPE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/claim-type";
/// FHIR's payment types (complete, partial).
pub const PAYMENT_TYPE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/ex-paymenttype";

/// Why a bundle could not be read or made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FhirError {
    /// Not a FHIR R4B Bundle at all (bad JSON, unknown element, wrong type).
    #[error("not a FHIR R4B Bundle: {0}")]
    NotABundle(String),
    /// A bundle, but not of the resource the action carries.
    #[error("{0}")]
    WrongResource(String),
    /// The resource lacks what the mesh needs, or has it wrong; names the element.
    #[error("{element}: {reason}")]
    Invalid {
        /// FHIRPath-like name of the element, e.g. `Claim.item[0].productOrService`.
        element: String,
        /// What is wrong.
        reason: String,
    },
    /// A resource could not be built (a bug of the mesh).
    #[error("building {0}")]
    Build(String),
}

impl FhirError {
    /// `element` is wrong because of `reason`.
    pub fn invalid(element: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            element: element.into(),
            reason: reason.into(),
        }
    }
}

impl From<BuilderError> for FhirError {
    fn from(error: BuilderError) -> Self {
        Self::Build(error.to_string())
    }
}

/// The resources of a bundle, in order.
pub fn resources(bundle: &Bundle) -> impl Iterator<Item = (Option<&str>, &Resource)> {
    bundle
        .entry
        .iter()
        .flatten()
        .filter_map(|entry| Some((entry.full_url.as_deref(), entry.resource.as_ref()?)))
}

/// Rupees with two decimals, in INR.
pub fn money(paise: i64) -> Result<Money, FhirError> {
    // Exact: every paise amount of the mesh is far below 2^53.
    #[allow(clippy::cast_precision_loss)]
    let rupees = paise as f64 / 100.0;
    Ok(Money::builder()
        .value(rupees)
        .currency("INR".to_owned())
        .build()?)
}

/// Paise of an amount in INR with at most two decimals; names `element` when not.
pub fn paise_of(money: Option<&Money>, element: &str) -> Result<i64, FhirError> {
    let money = money.ok_or_else(|| FhirError::invalid(element, "is required"))?;
    if let Some(currency) = &money.currency
        && currency != "INR"
    {
        return Err(FhirError::invalid(
            format!("{element}.currency"),
            format!("must be INR, not {currency}"),
        ));
    }
    let value = money
        .value
        .ok_or_else(|| FhirError::invalid(format!("{element}.value"), "is required"))?;
    let paise = (value * 100.0).round();
    if !value.is_finite() || value <= 0.0 || (value * 100.0 - paise).abs() > 1e-6 || paise > 1e15 {
        return Err(FhirError::invalid(
            format!("{element}.value"),
            "must be a positive amount of rupees with at most two decimals",
        ));
    }
    // In range and whole: checked above.
    #[allow(clippy::cast_possible_truncation)]
    Ok(paise as i64)
}

/// A coding.
pub fn coding(system: &str, code: &str, display: Option<&str>) -> Result<Coding, FhirError> {
    let mut builder = Coding::builder()
        .system(system.to_owned())
        .code(code.to_owned());
    if let Some(display) = display {
        builder = builder.display(display.to_owned());
    }
    Ok(builder.build()?)
}

/// A concept of one coding.
pub fn concept(
    system: &str,
    code: &str,
    display: Option<&str>,
) -> Result<CodeableConcept, FhirError> {
    Ok(CodeableConcept::builder()
        .coding(vec![Some(coding(system, code, display)?)])
        .build()?)
}

/// A concept of text alone.
pub fn text_concept(text: &str) -> Result<CodeableConcept, FhirError> {
    Ok(CodeableConcept::builder().text(text.to_owned()).build()?)
}

/// An identifier.
pub fn identifier(system: &str, value: &str) -> Result<Identifier, FhirError> {
    Ok(Identifier::builder()
        .system(system.to_owned())
        .value(value.to_owned())
        .build()?)
}

/// A reference to an entry of the same bundle.
pub fn reference(full_url: &str) -> Result<Reference, FhirError> {
    Ok(Reference::builder()
        .reference(full_url.to_owned())
        .build()?)
}

/// A reference by identifier, to something outside the bundle (the
/// hospital's own Claim, say).
pub fn reference_by_identifier(
    resource_type: &str,
    system: &str,
    value: &str,
) -> Result<Reference, FhirError> {
    Ok(Reference::builder()
        .r#type(resource_type.to_owned())
        .identifier(identifier(system, value)?)
        .build()?)
}
