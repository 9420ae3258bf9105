//! Typed helpers for tests that need a beneficiary registry and its people.

use std::sync::Arc;

use ayushman_domain::Aadhaar;
use ayushman_platform::{MeshService, db, testing};
use ayushman_proto::{
    beneficiary::v1::{
        self as pb, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
        import_eligibility_request::Item,
    },
    common::v1::{Actor, ActorKind, Gender, Location},
};
use secrecy::SecretString;
use tonic::transport::Channel;

/// The Aadhaar key of test registries.
pub const TEST_HMAC_KEY: &str = "test-only-hmac-key-0123456789";

/// A beneficiary registry served in-process on its own database.
pub struct BeneficiaryRegistry {
    /// The running server.
    pub server: testing::RunningServer,
    /// A client connected to it.
    pub client: BeneficiaryRegistryServiceClient<Channel>,
}

/// Starts a beneficiary registry on `database` with the offline KYC provider and the schemes its migrations seed.
pub async fn spawn(database: &testing::TestDatabase) -> BeneficiaryRegistry {
    spawn_with(database, testing::server_settings()).await
}

/// Like [`spawn`], with server settings of the test's own (limits, deadlines).
pub async fn spawn_with(
    database: &testing::TestDatabase,
    server: ayushman_platform::config::ServerSettings,
) -> BeneficiaryRegistry {
    spawn_with_providers(
        database,
        server,
        Arc::new(beneficiary_registry::kyc::OfflineKycProvider::with_demo_refusals()),
        Arc::new(ayushman_abdm::OfflineRegistries::new(vec![
            crate::facility::UNKNOWN_ABHA.into(),
        ])),
    )
    .await
}

/// Like [`spawn_with`], with e-KYC and ABDM of the test's own (e.g. the HTTP
/// clients against the stand-ins of [`crate::outside`]).
pub async fn spawn_with_providers(
    database: &testing::TestDatabase,
    server: ayushman_platform::config::ServerSettings,
    kyc: Arc<dyn beneficiary_registry::kyc::KycProvider>,
    abdm: Arc<dyn ayushman_abdm::Registries>,
) -> BeneficiaryRegistry {
    let _telemetry =
        ayushman_platform::telemetry::init("beneficiary-test", &testing::test_telemetry());
    let connection = db::connect_and_migrate::<beneficiary_registry::store::Migrator>(
        MeshService::BeneficiaryRegistry,
        &database.settings,
    )
    .await
    .expect("migrate beneficiary registry");
    let state = beneficiary_registry::AppState {
        db: connection,
        idempotency: database.settings.idempotency(),
        schemes: beneficiary_registry::schemes::SchemeBook::new(std::time::Duration::from_secs(60)),
        kyc,
        abdm,
        aadhaar_hmac_key: Arc::new(SecretString::from(TEST_HMAC_KEY)),
        max_message_bytes: 16 * 1024 * 1024,
    };
    let server = testing::spawn_with(
        MeshService::BeneficiaryRegistry,
        beneficiary_registry::router(state),
        server,
    )
    .await;
    let client = BeneficiaryRegistryServiceClient::new(crate::connect(&server.url()).await);
    BeneficiaryRegistry { server, client }
}

/// A synthetic, valid Aadhaar number made from `seed` (never a real person's).
pub fn aadhaar(seed: u64) -> String {
    let mut digits = [0u8; 11];
    digits[0] = 2 + (seed % 7) as u8;
    let mut rest = seed;
    for digit in digits.iter_mut().skip(1).rev() {
        *digit = (rest % 10) as u8;
        rest /= 10;
    }
    // Keep clear of the offline KYC provider's failure markers (999, 888, 777).
    digits[1] = 1;
    Aadhaar::from_first_eleven(digits)
        .expect("valid digits")
        .expose_digits()
}

/// An SECC row of a family in Saran (Bihar), PM-JAY eligible.
pub fn saran_row(family_id: &str, name: &str, year_of_birth: i32) -> pb::EligibilityRow {
    pb::EligibilityRow {
        card_issued_on: None,
        source_list: pb::SourceList::Secc as i32,
        family_id: family_id.into(),
        member_name: name.into(),
        gender: Gender::Female as i32,
        year_of_birth,
        relation: pb::Relation::Head as i32,
        location: Some(Location {
            state_code: "10".into(),
            district_code: "10-230".into(),
            block_code: "10-230-01".into(),
            village_code: String::new(),
        }),
        eligibility_category: "SECC-D1".into(),
        aadhaar: String::new(),
        existing_card_number: String::new(),
    }
}

/// An operator of a card camp.
pub fn operator(id: &str) -> Actor {
    Actor {
        actor_id: id.into(),
        kind: ActorKind::Operator as i32,
        display_name: String::new(),
    }
}

impl BeneficiaryRegistry {
    /// Streams `rows` after a header with `key`.
    pub async fn import(
        &mut self,
        key: &str,
        rows: Vec<pb::EligibilityRow>,
    ) -> Result<pb::ImportEligibilityResponse, tonic::Status> {
        import_through(&mut self.client, key, rows).await
    }

    /// The people of a family, by beneficiary id.
    pub async fn family(&mut self, family_id: &str) -> pb::Family {
        self.client
            .get_family(pb::GetFamilyRequest {
                family_id: family_id.into(),
            })
            .await
            .expect("get family")
            .into_inner()
            .family
            .expect("family in reply")
    }

    /// The family's PM-JAY wallet of this policy year.
    pub async fn pmjay_wallet(&mut self, family_id: &str) -> pb::Wallet {
        self.family(family_id)
            .await
            .wallets
            .into_iter()
            .find(|w| w.scheme_code == "PMJAY")
            .expect("a PM-JAY wallet")
    }

    /// Imports one SECC person of a new family and cards them; returns the beneficiary.
    pub async fn carded_person(
        &mut self,
        family_id: &str,
        name: &str,
        seed: u64,
    ) -> pb::Beneficiary {
        self.import(
            &format!("import-{family_id}"),
            vec![saran_row(family_id, name, 1980)],
        )
        .await
        .expect("import");
        let person = self.family(family_id).await.members.remove(0);
        self.client
            .issue_card(pb::IssueCardRequest {
                mobiliser_id: String::new(),
                self_service: false,
                kyc_proof: String::new(),
                idempotency_key: format!("card-{family_id}"),
                beneficiary_id: person.beneficiary_id.clone(),
                aadhaar: aadhaar(seed),
                kyc_method: pb::KycMethod::AadhaarOtp as i32,
                operator: Some(operator("CSC-SARAN-017")),
                centre_id: "CSC-10230-017".into(),
                campaign_id: String::new(),
            })
            .await
            .expect("issue card")
            .into_inner()
            .beneficiary
            .expect("beneficiary in reply")
    }

    /// BlockAmount of PM-JAY cover for a preauth, treatment today.
    pub async fn block(
        &mut self,
        key: &str,
        beneficiary_id: &str,
        preauth_id: &str,
        amount_paise: i64,
    ) -> Result<pb::BlockAmountResponse, tonic::Status> {
        self.client
            .block_amount(pb::BlockAmountRequest {
                idempotency_key: key.into(),
                beneficiary_id: beneficiary_id.into(),
                scheme_code: "PMJAY".into(),
                scheme_codes: Vec::new(),
                preauth_id: preauth_id.into(),
                amount_paise,
                treatment_date: None,
                reason: "preauth raised".into(),
                actor: None,
            })
            .await
            .map(tonic::Response::into_inner)
    }
}

/// An SECC row of a family in block `block_code` of Saran.
pub fn saran_row_in(
    block_code: &str,
    family_id: &str,
    name: &str,
    year_of_birth: i32,
) -> pb::EligibilityRow {
    let mut row = saran_row(family_id, name, year_of_birth);
    if let Some(location) = row.location.as_mut() {
        location.block_code = block_code.into();
    }
    row
}

/// An area of the geography.
pub fn area(code: &str, level: pb::AreaLevel, name: &str, parent_code: &str) -> pb::Area {
    pb::Area {
        code: code.into(),
        level: level as i32,
        name: name.into(),
        parent_code: parent_code.into(),
    }
}

/// Saran with two sub-divisions: Sadar (blocks 01 Chapra and 02 Revelganj)
/// and Sonpur (block 03 Sonpur, with the village Shahpur).
pub fn saran_areas() -> Vec<pb::Area> {
    use pb::AreaLevel::{Block, District, SubDivision, Village};
    vec![
        area("10-230", District, "Saran", ""),
        area("10-230-SD1", SubDivision, "Sadar", "10-230"),
        area("10-230-SD3", SubDivision, "Sonpur", "10-230"),
        area("10-230-01", Block, "Chapra", "10-230-SD1"),
        area("10-230-02", Block, "Revelganj", "10-230-SD1"),
        area("10-230-03", Block, "Sonpur", "10-230-SD3"),
        area("10-230-03-001", Village, "Shahpur", "10-230-03"),
    ]
}

/// A card for `beneficiary_id` made by `operator` at `centre`, e-KYC by OTP.
pub fn card_request(
    key: &str,
    beneficiary_id: &str,
    aadhaar_seed: u64,
    operator_id: &str,
    centre_id: &str,
) -> pb::IssueCardRequest {
    pb::IssueCardRequest {
        idempotency_key: key.into(),
        beneficiary_id: beneficiary_id.into(),
        aadhaar: aadhaar(aadhaar_seed),
        kyc_method: pb::KycMethod::AadhaarOtp as i32,
        operator: Some(operator(operator_id)),
        centre_id: centre_id.into(),
        campaign_id: String::new(),
        kyc_proof: String::new(),
        mobiliser_id: String::new(),
        self_service: false,
    }
}

impl BeneficiaryRegistry {
    /// Stores `areas`; every one must be taken.
    pub async fn upsert_areas(
        &mut self,
        key: &str,
        areas: Vec<pb::Area>,
    ) -> pb::UpsertAreasResponse {
        let reply = self
            .client
            .upsert_areas(pb::UpsertAreasRequest {
                idempotency_key: key.into(),
                areas,
            })
            .await
            .expect("upsert areas")
            .into_inner();
        assert!(reply.rejects.is_empty(), "{:?}", reply.rejects);
        reply
    }

    /// The first member of a family.
    pub async fn first_member(&mut self, family_id: &str) -> pb::Beneficiary {
        self.family(family_id).await.members.remove(0)
    }
}

/// Streams `rows` after a header with `key` through `client` (so several
/// imports can run at once on clones of one client).
pub async fn import_through(
    client: &mut BeneficiaryRegistryServiceClient<Channel>,
    key: &str,
    rows: Vec<pb::EligibilityRow>,
) -> Result<pb::ImportEligibilityResponse, tonic::Status> {
    let header = pb::ImportEligibilityRequest {
        item: Some(Item::Header(pb::ImportHeader {
            idempotency_key: key.into(),
            file_name: format!("{key}.csv"),
            actor: None,
        })),
    };
    let messages =
        std::iter::once(header).chain(rows.into_iter().map(|row| pb::ImportEligibilityRequest {
            item: Some(Item::Row(row)),
        }));
    client
        .import_eligibility(tokio_stream::iter(messages))
        .await
        .map(tonic::Response::into_inner)
}
