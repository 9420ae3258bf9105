//! e-KYC at carding, behind a trait so a state can plug in its UIDAI-licensed
//! provider; the default offline provider is deterministic for demos and tests.

use ayushman_domain::Aadhaar;

/// What is asked of a KYC provider.
#[derive(Debug, Clone)]
pub struct KycRequest {
    /// The Aadhaar presented.
    pub aadhaar: Aadhaar,
    /// The name on the eligibility list.
    pub listed_name: String,
    /// How identity is verified.
    pub method: ayushman_proto::beneficiary::v1::KycMethod,
    /// The year of birth the person states, when it matters (age-based
    /// enrolment); 0 otherwise.
    pub stated_year_of_birth: i32,
}

/// The provider's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KycOutcome {
    pub verified: bool,
    pub name_on_record: String,
    /// Why verification failed, in words the operator can act on.
    pub failure_reason: String,
    pub reference: String,
    /// Year of birth on the Aadhaar record; 0 when the provider gave none.
    pub year_of_birth: i32,
}

/// A source of e-KYC answers.
#[tonic::async_trait]
pub trait KycProvider: Send + Sync {
    /// Verifies identity; an `Err` means the provider could not be asked.
    async fn verify(&self, request: &KycRequest) -> Result<KycOutcome, String>;
}

/// The default provider, offline and deterministic: any Aadhaar with a valid
/// check digit passes with the listed name (and confirms the year of birth
/// stated), except these documented inputs,
/// chosen by the 2nd to 4th digits of the number:
///
/// | digits 2-4 | outcome |
/// |---|---|
/// | `999` | fails: "Aadhaar is deactivated" |
/// | `888` | fails: the name on record differs from the list |
/// | `777` | fails with biometric methods only: "biometric did not match" |
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineKycProvider;

#[tonic::async_trait]
impl KycProvider for OfflineKycProvider {
    async fn verify(&self, request: &KycRequest) -> Result<KycOutcome, String> {
        use ayushman_proto::beneficiary::v1::KycMethod;
        let digits = request.aadhaar.expose_digits();
        let marker = &digits[1..4];
        let reference = format!("OFFLINE-{}", request.aadhaar.last4());
        let fail = |name_on_record: &str, reason: &str| KycOutcome {
            verified: false,
            name_on_record: name_on_record.to_owned(),
            failure_reason: reason.to_owned(),
            reference: reference.clone(),
            year_of_birth: 0,
        };
        Ok(match marker {
            "999" => fail(
                "",
                "Aadhaar is deactivated; the beneficiary must visit an Aadhaar centre",
            ),
            "888" => fail(
                "A. Kumar",
                "the name on Aadhaar does not match the eligibility list; correct the list first",
            ),
            "777" if request.method != KycMethod::AadhaarOtp => {
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
}
