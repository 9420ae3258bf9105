//! The stand-in e-KYC provider, deterministic for demos and tests: any
//! Aadhaar with a right check digit passes with the listed name (and
//! confirms the year of birth stated), except the test numbers configured in
//! `service.kyc.offline_refusals`. Refusals are numbers listed in
//! configuration, never digit patterns that real people's numbers have.

use std::collections::BTreeMap;

use ayushman_proto::beneficiary::v1::KycMethod;
use serde::Deserialize;

use super::{KycOutcome, KycProvider, KycRequest};

/// How the stand-in refuses a test number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfflineRefusal {
    /// "Aadhaar is deactivated".
    Deactivated,
    /// The name on Aadhaar differs from the list.
    NameMismatch,
    /// Fails with biometric or face methods only.
    BiometricMismatch,
}

/// The demo's test numbers (the defaults of `service.kyc.offline_refusals`).
pub fn demo_refusals() -> BTreeMap<String, OfflineRefusal> {
    BTreeMap::from([
        ("999999990019".to_owned(), OfflineRefusal::Deactivated),
        ("888888880029".to_owned(), OfflineRefusal::NameMismatch),
        ("777777770038".to_owned(), OfflineRefusal::BiometricMismatch),
    ])
}

/// See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct OfflineKycProvider {
    refusals: BTreeMap<String, OfflineRefusal>,
}

impl OfflineKycProvider {
    /// A stand-in refusing `refusals`.
    pub fn new(refusals: BTreeMap<String, OfflineRefusal>) -> Self {
        Self { refusals }
    }

    /// The stand-in with the demo's test numbers.
    pub fn with_demo_refusals() -> Self {
        Self::new(demo_refusals())
    }
}

#[tonic::async_trait]
impl KycProvider for OfflineKycProvider {
    async fn verify(&self, request: &KycRequest) -> Result<KycOutcome, String> {
        let reference = format!("OFFLINE-{}", request.aadhaar.last4());
        let fail = |name_on_record: &str, reason: &str| KycOutcome {
            verified: false,
            name_on_record: name_on_record.to_owned(),
            failure_reason: reason.to_owned(),
            reference: reference.clone(),
            year_of_birth: 0,
        };
        let refusal = self.refusals.get(&request.aadhaar.expose_digits());
        Ok(match refusal {
            Some(OfflineRefusal::Deactivated) => fail(
                "",
                "Aadhaar is deactivated; the beneficiary must visit an Aadhaar centre",
            ),
            Some(OfflineRefusal::NameMismatch) => fail(
                "A. Kumar",
                "the name on Aadhaar does not match the eligibility list; correct the list first",
            ),
            Some(OfflineRefusal::BiometricMismatch) if request.method != KycMethod::AadhaarOtp => {
                fail("", "biometric did not match; retry or use OTP")
            }
            _ => KycOutcome {
                verified: true,
                name_on_record: request.listed_name.clone(),
                failure_reason: String::new(),
                reference,
                year_of_birth: request.stated_year_of_birth,
            },
        })
    }

    fn needs_proof(&self) -> bool {
        false
    }
}
