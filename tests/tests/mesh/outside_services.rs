//! The services outside the mesh, through their real HTTP clients against
//! stand-ins on loopback that speak the documented shapes: ABDM's session,
//! HFR, HPR and ABHA lookups and a state's e-KYC service answer, refuse,
//! fail with a 5xx, answer too late or answer nonsense; registration and
//! carding ask them before writing anything; and outside development a
//! registry whose providers are not chosen does not start.

use std::{sync::atomic::Ordering, time::Duration};

use ayushman_abdm::{HttpRegistries, Lookup, Registries};
use ayushman_platform::{MeshService, testing};
use ayushman_proto::{beneficiary::v1 as b, common::v1::Actor, facility::v1 as f};
use beneficiary_registry::kyc::{HttpKycProvider, KycProvider, KycRequest};
use mesh_tests::{
    bad_fields, beneficiary,
    facility::{self, cardiologist},
    outside::{self, *},
    service_binary,
};
use tonic::Code;

fn registries(services: &outside::OutsideServices, timeout_ms: u64) -> HttpRegistries {
    HttpRegistries::new(
        services.abdm_settings(timeout_ms),
        Duration::from_millis(timeout_ms),
    )
}

#[tokio::test]
async fn the_abdm_client_reads_each_registrys_answer_and_says_when_it_cannot() {
    let services = outside::start().await;
    let abdm = registries(&services, 500);

    let Ok(Lookup::Found(hospital)) = abdm.facility(KNOWN_HFR).await else {
        panic!("the HFR knows {KNOWN_HFR}");
    };
    assert_eq!(
        (
            hospital.name.as_str(),
            hospital.ownership.as_str(),
            hospital.active
        ),
        ("MAHARANI HOSPITAL JAGDALPUR", "Government", true)
    );
    assert_eq!(
        abdm.facility("IN2210000999").await.ok(),
        Some(Lookup::NotFound)
    );
    let Ok(Lookup::Found(doctor)) = abdm.professional(KNOWN_HPR).await else {
        panic!("the HPR knows {KNOWN_HPR}");
    };
    assert_eq!(doctor.council, "Chhattisgarh Medical Council");
    assert_eq!(
        abdm.professional("71-1111-2222-3333").await.ok(),
        Some(Lookup::NotFound)
    );
    let Ok(Lookup::Found(account)) = abdm.abha(KNOWN_ABHA).await else {
        panic!("the ABHA registry knows {KNOWN_ABHA}");
    };
    assert_eq!(
        (
            account.abha_number.as_str(),
            account.abha_address.as_deref()
        ),
        ("91234567890123", Some("lakshmi.devi@abdm"))
    );
    assert_eq!(
        services.calls.sessions.load(Ordering::SeqCst),
        1,
        "one session serves every lookup"
    );

    let before = services.calls.lookups.load(Ordering::SeqCst);
    let down = abdm.facility(FAILING_HFR).await.unwrap_err();
    assert_eq!(down.registry, "Health Facility Registry");
    assert!(down.reason.contains("HTTP 503"), "{down}");
    assert_eq!(
        services.calls.lookups.load(Ordering::SeqCst) - before,
        2,
        "a lookup is retried once"
    );
    let slow = abdm.facility(SLOW_HFR).await.unwrap_err();
    assert_eq!(slow.reason, "no answer within 500 ms", "{slow}");
    let garbled = abdm.facility(GARBLED_HFR).await.unwrap_err();
    assert!(
        garbled
            .reason
            .starts_with("answered something that is not the documented reply"),
        "{garbled}"
    );
}

fn kyc_request(aadhaar: &str, proof: &str) -> KycRequest {
    KycRequest {
        aadhaar: ayushman_domain::Aadhaar::parse(aadhaar).expect("valid Aadhaar"),
        listed_name: "Lakshmi Devi".into(),
        method: b::KycMethod::AadhaarOtp,
        proof: proof.to_owned().into(),
        stated_year_of_birth: 0,
    }
}

fn kyc_client(services: &outside::OutsideServices, timeout_ms: u64) -> HttpKycProvider {
    HttpKycProvider::new(
        services.url.clone(),
        CLIENT_ID.into(),
        CLIENT_SECRET.to_owned().into(),
        Duration::from_millis(timeout_ms),
    )
}

#[tokio::test]
async fn the_kyc_client_reports_verified_refused_and_unreachable_and_never_retries() {
    let services = outside::start().await;
    let kyc = kyc_client(&services, 500);
    let verified = kyc
        .verify(&kyc_request(KNOWN_AADHAAR, RIGHT_OTP))
        .await
        .expect("an answer");
    assert_eq!(
        (
            verified.verified,
            verified.year_of_birth,
            verified.reference.as_str()
        ),
        (true, 1981, "UIDAI-TXN-0001")
    );
    let refused = kyc
        .verify(&kyc_request(KNOWN_AADHAAR, "000000"))
        .await
        .expect("an answer");
    assert_eq!(
        (refused.verified, refused.failure_reason.as_str()),
        (false, "the OTP does not match; ask for a new one")
    );
    let before = services.calls.kyc.load(Ordering::SeqCst);
    let down = kyc
        .verify(&kyc_request(FAILING_AADHAAR, RIGHT_OTP))
        .await
        .unwrap_err();
    assert!(down.contains("HTTP 503"), "{down}");
    assert_eq!(
        services.calls.kyc.load(Ordering::SeqCst) - before,
        1,
        "an OTP is spent by one call: never retried"
    );
    let slow = kyc
        .verify(&kyc_request(SLOW_AADHAAR, RIGHT_OTP))
        .await
        .unwrap_err();
    assert_eq!(slow, "no answer within 500 ms");
    let garbled = kyc
        .verify(&kyc_request(GARBLED_AADHAAR, RIGHT_OTP))
        .await
        .unwrap_err();
    assert!(
        garbled.starts_with("answered something that is not"),
        "{garbled}"
    );
}

fn hospital(hfr_id: &str) -> f::Facility {
    f::Facility {
        hfr_id: hfr_id.into(),
        ..facility::bastar_district_hospital()
    }
}

#[tokio::test]
async fn registration_asks_abdm_first_and_writes_nothing_it_refuses() {
    let services = outside::start().await;
    let database = testing::sqlite();
    let mut registry =
        facility::spawn_with_abdm(&database, std::sync::Arc::new(registries(&services, 500))).await;
    let register = |hfr: &str, key: &str| f::RegisterFacilityRequest {
        idempotency_key: key.into(),
        facility: Some(hospital(hfr)),
    };
    let stored = registry
        .client
        .register_facility(register(KNOWN_HFR, "known"))
        .await
        .expect("registered")
        .into_inner()
        .facility
        .expect("facility");
    let check = stored.hfr_check.expect("what the HFR said");
    assert_eq!(
        (
            check.name.as_str(),
            check.ownership.as_str(),
            check.checked_at.is_some()
        ),
        ("MAHARANI HOSPITAL JAGDALPUR", "Government", true)
    );
    for (hfr, code, message) in [
        (
            "IN2210000999",
            Code::FailedPrecondition,
            "the Health Facility Registry has no facility IN2210000999; register it there first",
        ),
        (
            FAILING_HFR,
            Code::Unavailable,
            "the Health Facility Registry cannot be reached (answered HTTP 503: upstream down); retry later",
        ),
    ] {
        let refused = registry
            .client
            .register_facility(register(hfr, hfr))
            .await
            .expect_err("refused");
        assert_eq!((refused.code(), refused.message()), (code, message));
        let absent = registry
            .client
            .get_facility(f::GetFacilityRequest { hfr_id: hfr.into() })
            .await
            .expect_err("nothing written");
        assert_eq!(absent.code(), Code::NotFound);
    }

    let doctor = registry
        .client
        .register_professional(f::RegisterProfessionalRequest {
            idempotency_key: "doctor".into(),
            professional: Some(cardiologist()),
        })
        .await
        .expect("registered")
        .into_inner()
        .professional
        .expect("professional");
    assert_eq!(
        doctor.hpr_check.map(|c| c.registration_number),
        Some("CGMC-2011-4471".to_owned())
    );
    let unknown = registry
        .client
        .register_professional(f::RegisterProfessionalRequest {
            idempotency_key: "stranger".into(),
            professional: Some(f::Professional {
                hpr_id: "71-1111-2222-3333".into(),
                ..cardiologist()
            }),
        })
        .await
        .expect_err("refused");
    assert_eq!(unknown.code(), Code::FailedPrecondition);
    assert_eq!(
        unknown.message(),
        "the Health Professional Registry has no professional 71-1111-2222-3333; register them there first"
    );
}

#[tokio::test]
async fn carding_with_the_real_provider_needs_the_otp_and_says_why_it_failed() {
    let services = outside::start().await;
    let database = testing::sqlite();
    let mut registry = beneficiary::spawn_with_providers(
        &database,
        testing::server_settings(),
        std::sync::Arc::new(kyc_client(&services, 500)),
        std::sync::Arc::new(registries(&services, 500)),
    )
    .await;
    registry
        .import(
            "kyc",
            vec![beneficiary::saran_row("RC-KYC-1", "Lakshmi Devi", 1981)],
        )
        .await
        .expect("import");
    let person = registry.family("RC-KYC-1").await.members[0]
        .beneficiary_id
        .clone();
    let card = |key: &str, aadhaar: &str, proof: &str| b::IssueCardRequest {
        mobiliser_id: String::new(),
        self_service: false,
        idempotency_key: key.into(),
        beneficiary_id: person.clone(),
        aadhaar: aadhaar.into(),
        kyc_method: b::KycMethod::AadhaarOtp as i32,
        operator: Some(Actor {
            actor_id: "CSC-SARAN-017".into(),
            ..Default::default()
        }),
        centre_id: "CSC-10230-017".into(),
        campaign_id: String::new(),
        kyc_proof: proof.into(),
    };
    let no_otp = registry
        .client
        .issue_card(card("no-otp", KNOWN_AADHAAR, ""))
        .await
        .expect_err("no proof");
    assert_eq!(bad_fields(&no_otp), ["kyc_proof"]);
    let wrong = registry
        .client
        .issue_card(card("wrong", KNOWN_AADHAAR, "000000"))
        .await
        .expect_err("wrong OTP");
    assert_eq!(
        (wrong.code(), wrong.message()),
        (
            Code::FailedPrecondition,
            "e-KYC failed: the OTP does not match; ask for a new one"
        )
    );
    let down = registry
        .client
        .issue_card(card("down", FAILING_AADHAAR, RIGHT_OTP))
        .await
        .expect_err("provider down");
    assert_eq!(down.code(), Code::Unavailable);
    assert!(
        down.message()
            .starts_with("the e-KYC service cannot be reached (answered HTTP 503"),
        "{down:?}"
    );
    let carded = registry
        .client
        .issue_card(card("right", KNOWN_AADHAAR, RIGHT_OTP))
        .await
        .expect("carded")
        .into_inner();
    assert_eq!(
        carded.kyc.map(|k| k.provider_reference),
        Some("UIDAI-TXN-0001".to_owned())
    );

    let link = |key: &str, number: &str| b::LinkAbhaRequest {
        idempotency_key: key.into(),
        beneficiary_id: person.clone(),
        abha_number: number.into(),
        abha_address: String::new(),
    };
    let unknown = registry
        .client
        .link_abha(link("abha-unknown", "91-1111-2222-3333"))
        .await
        .expect_err("no such ABHA");
    assert_eq!(
        (unknown.code(), unknown.message()),
        (
            Code::FailedPrecondition,
            "the ABHA registry has no account 91-1111-2222-3333; check the number on the ABHA card"
        )
    );
    registry
        .client
        .link_abha(link("abha-known", KNOWN_ABHA))
        .await
        .expect("linked");
}

#[tokio::test]
async fn outside_development_a_registry_whose_providers_are_not_chosen_does_not_start() {
    for (service, key) in [
        (MeshService::BeneficiaryRegistry, "service.kyc.provider"),
        (MeshService::FacilityRegistry, "service.abdm.provider"),
    ] {
        let data = tempfile::tempdir().expect("data");
        let output = tokio::process::Command::new(service_binary(service))
            .env_clear()
            .env("AYUSHMAN__SERVER__PORT", "0")
            .env("AYUSHMAN__SERVER__ADMIN_PORT", "0")
            .env("AYUSHMAN__DATABASE__DATA_DIR", data.path())
            .output()
            .await
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(64), "{service}: {stderr}");
        assert_eq!(
            stderr.trim(),
            format!(
                "{service}: invalid configuration: {key}: is required outside development: \
                 \"http\" for the real service, or \"offline\" for the stand-in \
                 (AYUSHMAN__ENV=development chooses offline for you)"
            )
        );
    }
}
