//! The four services of the preauth flow in-process over real gRPC, with the
//! people, hospitals, doctors, agreements and packages the tests need.

use std::sync::Arc;

use ayushman_platform::{MeshService, client, config::ClientSettings, db, testing};
use ayushman_proto::{
    beneficiary::v1 as b,
    common::v1::Location,
    facility::v1 as f,
    google::r#type::Date,
    portability::v1 as p,
    preauth::v1::{self as pb, preauth_service_client::PreauthServiceClient},
};
use tonic::transport::Channel;

use crate::{
    beneficiary::{self, BeneficiaryRegistry},
    facility::{self, FacilityRegistry, bastar_district_hospital, jaipur_private_hospital},
    portability::{ahmedabad_heart_hospital, maa_outbound},
    proxy::Proxy,
};

/// The flow's services. Preauth reaches the beneficiary registry through
/// `beneficiary_link` and portability through `portability_link`, which a
/// test may cut.
pub struct Flow {
    pub people: BeneficiaryRegistry,
    pub facilities: FacilityRegistry,
    pub portability:
        ayushman_proto::portability::v1::portability_service_client::PortabilityServiceClient<
            Channel,
        >,
    pub client: PreauthServiceClient<Channel>,
    pub claims: ayushman_proto::claims::v1::claims_service_client::ClaimsServiceClient<Channel>,
    pub beneficiary_link: Proxy,
    pub portability_link: Proxy,
    pub servers: Vec<testing::RunningServer>,
    databases: Vec<testing::TestDatabase>,
}

/// A Chhattisgarh PM-JAY beneficiary, carded.
pub const CG_FAMILY: &str = "CG-FAM-1";
/// A Rajasthan MAA beneficiary, carded.
pub const RJ_FAMILY: &str = "RJ-FAM-1";
/// A Bihar state-scheme beneficiary, carded.
pub const BR_FAMILY: &str = "BR-FAM-1";
/// The cardiologist linked to the Bastar district hospital.
pub const DOCTOR: &str = "71-4324-5678-1234";
/// A Bastar PM-JAY family of two, carded: a grandfather aged 72 and his son.
pub const SENIOR_FAMILY: &str = "CG-FAM-70";
/// A private cardiac hospital in Ahmedabad, Gujarat, empanelled under PM-JAY.
pub const GUJARAT_HOSPITAL: &str = "IN2410000077";

fn client_settings() -> ClientSettings {
    ClientSettings {
        deadline_ms: 3_000,
        connect_timeout_ms: 500,
    }
}

/// Starts the four services on `backend` with `settings` for preauth.
pub async fn spawn(backend: &str, settings: preauth::config::PreauthSettings) -> Flow {
    spawn_with_claims(backend, settings, quick_claims_settings()).await
}

/// Fast background passes and the default turnaround times for claims.
pub fn quick_claims_settings() -> claims::config::ClaimsSettings {
    claims::config::ClaimsSettings {
        background_interval_ms: 50,
        ..Default::default()
    }
}

/// Like [`spawn`], with `claims_settings` for the claims service.
pub async fn spawn_with_claims(
    backend: &str,
    settings: preauth::config::PreauthSettings,
    claims_settings: claims::config::ClaimsSettings,
) -> Flow {
    let databases = vec![
        testing::database(backend).await,
        testing::database(backend).await,
        testing::database(backend).await,
        testing::database(backend).await,
    ];
    let people = beneficiary::spawn(&databases[0]).await;
    let facilities = facility::spawn(&databases[1]).await;
    let portability_db = db::connect_and_migrate::<portability::store::Migrator>(
        MeshService::Portability,
        &databases[2].settings,
    )
    .await
    .expect("migrate portability");
    let directory = portability::facility::FacilityDirectory::new(
        client::channel(&facilities.server.url(), &client_settings()).expect("channel"),
    );
    let portability_server = testing::spawn(
        MeshService::Portability,
        portability::router(portability::AppState {
            db: portability_db,
            idempotency: databases[2].settings.idempotency(),
            facilities: directory,
            max_message_bytes: 4 << 20,
        }),
    )
    .await;
    let beneficiary_link = Proxy::start(people.server.addr).await;
    let portability_link = Proxy::start(portability_server.addr).await;
    let preauth_db = db::connect_and_migrate::<preauth::store::Migrator>(
        MeshService::Preauth,
        &databases[3].settings,
    )
    .await
    .expect("migrate preauth");
    let channel = |url: &str| client::channel(url, &client_settings()).expect("channel");
    let context = preauth::Context {
        db: preauth_db,
        idempotency: databases[3].settings.idempotency(),
        peers: preauth::peers::Peers::new(
            channel(&beneficiary_link.url()),
            channel(&facilities.server.url()),
            channel(&portability_link.url()),
        ),
        packages: preauth::catalogue::PackageBook::new(std::time::Duration::from_secs(
            settings.package_refresh_seconds,
        )),
        settings: Arc::new(settings),
        max_message_bytes: 4 << 20,
    };
    preauth::start_background(context.clone());
    let preauth_server = testing::spawn(MeshService::Preauth, preauth::router(context)).await;
    let client = PreauthServiceClient::new(crate::connect(&preauth_server.url()).await);
    let claims_db = testing::database(backend).await;
    let claims_connection = db::connect_and_migrate::<claims::store::Migrator>(
        MeshService::Claims,
        &claims_db.settings,
    )
    .await
    .expect("migrate claims");
    let claims_context = claims::Context {
        db: claims_connection,
        idempotency: claims_db.settings.idempotency(),
        peers: claims::peers::Peers::new(
            channel(&preauth_server.url()),
            channel(&people.server.url()),
            channel(&facilities.server.url()),
        ),
        settings: std::sync::Arc::new(claims_settings),
        max_message_bytes: 4 << 20,
    };
    claims::start_background(claims_context.clone());
    let claims_server = testing::spawn(MeshService::Claims, claims::router(claims_context)).await;
    let claims = ayushman_proto::claims::v1::claims_service_client::ClaimsServiceClient::new(
        crate::connect(&claims_server.url()).await,
    );
    let mut databases = databases;
    databases.push(claims_db);
    let portability =
        ayushman_proto::portability::v1::portability_service_client::PortabilityServiceClient::new(
            crate::connect(&portability_server.url()).await,
        );
    Flow {
        people,
        facilities,
        portability,
        client,
        claims,
        beneficiary_link,
        portability_link,
        servers: vec![portability_server, preauth_server, claims_server],
        databases,
    }
}

/// Fast background passes and deemed approval far away: what most tests want.
pub fn quick_settings() -> preauth::config::PreauthSettings {
    preauth::config::PreauthSettings {
        background_interval_ms: 50,
        deemed_approval_minutes: 24 * 60,
        ..Default::default()
    }
}

/// RaisePreauth for `beneficiary_id` at `hfr_id`, treated by [`DOCTOR`] from today.
pub fn raise_request(
    key: &str,
    beneficiary_id: &str,
    hfr_id: &str,
    packages: &[&str],
) -> pb::RaisePreauthRequest {
    pb::RaisePreauthRequest {
        idempotency_key: key.into(),
        beneficiary_id: beneficiary_id.into(),
        hfr_id: hfr_id.into(),
        treating_hpr_id: DOCTOR.into(),
        packages: packages
            .iter()
            .map(|code| pb::PackageChoice {
                package_code: (*code).into(),
                add_on_codes: Vec::new(),
            })
            .collect(),
        admission_date: Some(today()),
        provisional_diagnosis: "triple vessel disease".into(),
        ..Default::default()
    }
}

/// Today as a `google.type.Date`.
pub fn today() -> Date {
    ayushman_platform::convert::date_to_proto(ayushman_platform::convert::today_in_india())
}

/// An eligibility row of a carded family head.
pub fn row(
    family: &str,
    name: &str,
    state: &str,
    district: &str,
    source: b::SourceList,
    category: &str,
) -> b::EligibilityRow {
    b::EligibilityRow {
        card_issued_on: None,
        source_list: source as i32,
        family_id: family.into(),
        member_name: name.into(),
        gender: ayushman_proto::common::v1::Gender::Female as i32,
        year_of_birth: 1975,
        relation: b::Relation::Head as i32,
        location: Some(Location {
            state_code: state.into(),
            district_code: district.into(),
            ..Default::default()
        }),
        eligibility_category: category.into(),
        aadhaar: String::new(),
        existing_card_number: format!("CARD-{family}"),
    }
}

fn package(code: &str, specialty: &str, base_rupees: i64, reserved: bool) -> pb::Package {
    pb::Package {
        package_code: code.into(),
        name: format!("{specialty} package {code}"),
        specialty_code: specialty.into(),
        base_rate_paise: base_rupees * 100,
        state_rates: vec![pb::StateRate {
            state_code: "22".into(),
            rate_paise: base_rupees * 90,
        }],
        reserved_for_public: reserved,
        add_ons: vec![pb::AddOn {
            add_on_code: "IMP-DES".into(),
            name: "Drug-eluting stent".into(),
            kind: pb::AddOnKind::Implant as i32,
            amount_paise: 30_000_00,
            percent_basis_points: 0,
        }],
        expected_stay_days: 3,
        active: true,
    }
}

impl Flow {
    /// People, hospitals, a linked doctor, PM-JAY empanelments, MAA portability and packages.
    pub async fn with_everything(mut self) -> Self {
        let rows = vec![
            row(
                CG_FAMILY,
                "Kamla Sahu",
                "22",
                "22-414",
                b::SourceList::Secc,
                "SECC-D1",
            ),
            row(
                RJ_FAMILY,
                "Meera Meena",
                "08",
                "08-110",
                b::SourceList::Nfsa,
                "NFSA-AAY",
            ),
            row(
                BR_FAMILY,
                "Rani Devi",
                "10",
                "10-230",
                b::SourceList::Nfsa,
                "NFSA-PHH",
            ),
            b::EligibilityRow {
                existing_card_number: String::new(),
                ..row(
                    "CG-FAM-2",
                    "Uncarded Person",
                    "22",
                    "22-414",
                    b::SourceList::Secc,
                    "SECC-D1",
                )
            },
        ];
        self.people
            .import("flow", rows)
            .await
            .expect("import people");
        for hospital in [bastar_district_hospital(), jaipur_private_hospital()] {
            let id = hospital.hfr_id.clone();
            self.facilities.register(hospital).await;
            self.facilities
                .empanel(&id, &["CARDIOLOGY", "GENERAL_SURGERY"])
                .await;
        }
        let professional = f::Professional {
            hpr_id: DOCTOR.into(),
            ..facility::cardiologist()
        };
        self.facilities.register_professional(professional).await;
        for hfr in ["IN2210000001", "IN0810000042"] {
            self.facilities
                .link_doctor(DOCTOR, hfr, facility::date(2024, 1, 1))
                .await;
        }
        self.portability
            .create_agreement(p::CreateAgreementRequest {
                idempotency_key: "maa".into(),
                agreement: Some(maa_outbound(p::AgreementStatus::Active)),
            })
            .await
            .expect("MAA agreement");
        let national = p::Agreement {
            agreement_id: "AGR-PMJAY-NATIONAL".into(),
            home_scheme_code: "PMJAY".into(),
            all_states: true,
            effective_from: Some(facility::date(2024, 4, 1)),
            rate_rule: p::RateRule::TreatingState as i32,
            status: p::AgreementStatus::Active as i32,
            ..Default::default()
        };
        self.portability
            .create_agreement(p::CreateAgreementRequest {
                idempotency_key: "pmjay".into(),
                agreement: Some(national),
            })
            .await
            .expect("PM-JAY agreement");
        for package in [
            package("MC011A", "CARDIOLOGY", 90_000, false),
            package("SG039A", "GENERAL_SURGERY", 25_000, false),
            package("MO001A", "ONCOLOGY", 60_000, false),
            package("MC099P", "CARDIOLOGY", 1_50_000, true),
            package("MC999X", "CARDIOLOGY", 6_00_000, false),
        ] {
            let code = package.package_code.clone();
            self.client
                .upsert_package(pb::UpsertPackageRequest {
                    idempotency_key: format!("pkg-{code}"),
                    package: Some(package),
                })
                .await
                .expect("package");
        }
        self
    }

    /// The beneficiary registry's database, for a test that runs the registry
    /// as a process of its own on the same data.
    pub fn registry_database(&self) -> &testing::TestDatabase {
        &self.databases[0]
    }

    /// The database of each of the flow's services.
    pub fn databases(&self) -> [(MeshService, &testing::TestDatabase); 5] {
        [
            MeshService::BeneficiaryRegistry,
            MeshService::FacilityRegistry,
            MeshService::Portability,
            MeshService::Preauth,
            MeshService::Claims,
        ]
        .map(|service| (service, self.database(service)))
    }

    /// The database of one of the flow's services.
    pub fn database(&self, service: MeshService) -> &testing::TestDatabase {
        let index = match service {
            MeshService::BeneficiaryRegistry => 0,
            MeshService::FacilityRegistry => 1,
            MeshService::Portability => 2,
            MeshService::Preauth => 3,
            MeshService::Claims => 4,
            other => panic!("{other} is not part of the preauth flow"),
        };
        &self.databases[index]
    }

    /// The beneficiary id of a family's first member.
    pub async fn member(&mut self, family: &str) -> String {
        self.people
            .family(family)
            .await
            .members
            .remove(0)
            .beneficiary_id
    }

    /// Imports one carded Bastar (SECC-D1) head per family, each called
    /// `name`, and returns their beneficiary ids in the families' order.
    pub async fn bastar_heads(
        &mut self,
        import_key: &str,
        families: &[String],
        name: &str,
    ) -> Vec<String> {
        let rows = families
            .iter()
            .map(|family| row(family, name, "22", "22-414", b::SourceList::Secc, "SECC-D1"))
            .collect();
        self.people.import(import_key, rows).await.expect("import");
        let mut heads = Vec::with_capacity(families.len());
        for family in families {
            heads.push(self.member(family).await);
        }
        heads
    }

    /// A wallet of a family by scheme.
    pub async fn wallet(&mut self, family: &str, scheme: &str) -> b::Wallet {
        self.people
            .family(family)
            .await
            .wallets
            .into_iter()
            .find(|w| w.scheme_code == scheme)
            .expect("wallet of the scheme")
    }

    /// Registers [`GUJARAT_HOSPITAL`], empanelled for cardiology under
    /// PM-JAY, with the flow's doctor linked to it.
    pub async fn with_gujarat_hospital(mut self) -> Self {
        self.facilities.register(ahmedabad_heart_hospital()).await;
        self.facilities
            .empanel(GUJARAT_HOSPITAL, &["CARDIOLOGY"])
            .await;
        self.facilities
            .link_doctor(DOCTOR, GUJARAT_HOSPITAL, facility::date(2024, 1, 1))
            .await;
        self
    }

    /// Imports [`SENIOR_FAMILY`]: returns the beneficiary ids of the
    /// grandfather (72 this year) and his son (35).
    pub async fn senior_family(&mut self) -> (String, String) {
        let year = chrono::Datelike::year(&ayushman_platform::convert::today_in_india());
        let member = |name: &str, born: i32, relation: b::Relation, card: &str| b::EligibilityRow {
            member_name: name.into(),
            year_of_birth: born,
            relation: relation as i32,
            existing_card_number: card.into(),
            gender: ayushman_proto::common::v1::Gender::Male as i32,
            ..row(
                SENIOR_FAMILY,
                name,
                "22",
                "22-414",
                b::SourceList::Secc,
                "SECC-D1",
            )
        };
        let rows = vec![
            member("Ramlal Netam", year - 72, b::Relation::Head, "CARD-CG-70-1"),
            member("Mohan Netam", year - 35, b::Relation::Son, "CARD-CG-70-2"),
        ];
        self.people
            .import("senior-family", rows)
            .await
            .expect("import the family");
        let members = self.people.family(SENIOR_FAMILY).await.members;
        let id = |name: &str| {
            members
                .iter()
                .find(|m| m.name == name)
                .map(|m| m.beneficiary_id.clone())
                .expect("member imported")
        };
        (id("Ramlal Netam"), id("Mohan Netam"))
    }

    /// RaisePreauth of `packages` at `hfr_id` by the linked doctor, admitted
    /// today, for the first member of `family`.
    pub async fn raise(
        &mut self,
        key: &str,
        family: &str,
        hfr_id: &str,
        packages: &[&str],
    ) -> Result<pb::Preauth, tonic::Status> {
        let beneficiary_id = self.member(family).await;
        self.raise_for(key, &beneficiary_id, hfr_id, packages).await
    }

    /// Like [`Flow::raise`], for one beneficiary.
    pub async fn raise_for(
        &mut self,
        key: &str,
        beneficiary_id: &str,
        hfr_id: &str,
        packages: &[&str],
    ) -> Result<pb::Preauth, tonic::Status> {
        self.client
            .raise_preauth(raise_request(key, beneficiary_id, hfr_id, packages))
            .await
            .map(|reply| reply.into_inner().preauth.expect("preauth in reply"))
    }

    /// `requests` sent all at once, each on its own task; the preauths
    /// raised, in the order of the requests.
    pub async fn raise_at_once(&self, requests: Vec<pb::RaisePreauthRequest>) -> Vec<pb::Preauth> {
        let racing: Vec<_> = requests
            .into_iter()
            .map(|request| {
                let mut client = self.client.clone();
                tokio::spawn(async move { client.raise_preauth(request).await })
            })
            .collect();
        let mut raised = Vec::new();
        for reply in racing {
            let reply = reply.await.expect("joined").expect("raised").into_inner();
            raised.push(reply.preauth.expect("preauth in reply"));
        }
        raised
    }

    /// GetPreauth.
    pub async fn get(&mut self, id: &str) -> pb::Preauth {
        self.client
            .get_preauth(pb::GetPreauthRequest {
                preauth_id: id.into(),
            })
            .await
            .expect("get preauth")
            .into_inner()
            .preauth
            .expect("preauth")
    }
}

/// Quick background passes with deemed approval after `minutes`.
pub fn preauth_settings_with_deemed_minutes(minutes: u64) -> preauth::config::PreauthSettings {
    preauth::config::PreauthSettings {
        deemed_approval_minutes: minutes,
        ..quick_settings()
    }
}
