//! The demo's partners at the gateway: a state portal (Bihar), a hospital's
//! information system, a claims-processing TPA and a card app people use
//! for themselves, each with users in the roles their work needs. `ayushctl up` creates them with the mesh
//! operator's key and issues each a fresh key on every start (revoking the
//! previous ones), so the keys it prints always work.

use anyhow::Context;
use ayushman_proto::{
    common::v1::Role,
    gateway::v1::{
        CreatePartnerRequest, CreateUserRequest, IssueApiKeyRequest, ListApiKeysRequest, Partner,
        PartnerKind, RevokeApiKeyRequest, User,
        gateway_admin_service_client::GatewayAdminServiceClient,
    },
};
use tonic::{Request, transport::Channel};

/// A demo partner, the key issued to it now, and its users.
pub struct DemoPartner {
    pub name: &'static str,
    pub partner_id: String,
    pub key: String,
    pub users: Vec<DemoUser>,
}

/// A demo user: the label the banner and docs/API.md call them by (their
/// role, e.g. `PPD`), their name and id.
pub struct DemoUser {
    pub label: &'static str,
    pub name: &'static str,
    pub user_id: String,
}

/// A demo user to create: (label, name, roles).
type UserSpec = (&'static str, &'static str, &'static [Role]);

struct Spec {
    name: &'static str,
    kind: PartnerKind,
    state: &'static str,
    hfr_ids: &'static [&'static str],
    scopes: &'static [&'static str],
    users: &'static [UserSpec],
}

const PARTNERS: [Spec; 4] = [
    Spec {
        name: "Bihar State Health Society portal",
        kind: PartnerKind::StatePortal,
        state: "10",
        hfr_ids: &[],
        scopes: &[
            "beneficiary.read",
            "beneficiary.write",
            "beneficiary.import",
            "beneficiary.drives",
            "facility.read",
            "preauth.read",
            "claims.read",
            "portability.read",
        ],
        users: &[
            (
                "SHA_ADMIN",
                "Bihar SHA eligibility officer",
                &[Role::ShaAdmin],
            ),
            ("OPERATOR", "CSC operator, Chapra", &[Role::Operator]),
            (
                "DISTRICT_COORDINATOR",
                "Saran district programme coordinator",
                &[Role::DistrictCoordinator],
            ),
        ],
    },
    // A hospital treats patients of every state (portability), so its system is
    // not confined to one state; it acts for its own hospital only, and its
    // scopes keep it to a hospital's work.
    Spec {
        name: "Maharani District Hospital HIS, Jagdalpur",
        kind: PartnerKind::HospitalHis,
        state: "",
        hfr_ids: &["IN2214000001"],
        scopes: &[
            "beneficiary.read",
            "facility.read",
            "facility.opd",
            "preauth.read",
            "preauth.write",
            "claims.read",
            "claims.write",
        ],
        users: &[
            ("PMAM", "Arogya Mitra, help desk", &[Role::Pmam]),
            ("MEDCO", "Dr. Sunil Netam, MEDCO", &[Role::Medco]),
        ],
    },
    Spec {
        name: "Demo TPA (claims processing)",
        kind: PartnerKind::Tpa,
        state: "",
        hfr_ids: &[],
        scopes: &[
            "preauth.read",
            "preauth.review",
            "claims.read",
            "claims.adjudicate",
            "claims.pay",
        ],
        users: &[
            ("PPD", "Dr. Anjali Meena, preauth doctor", &[Role::Ppd]),
            ("CPD", "Dr. Rakesh Sahu, claim doctor", &[Role::Cpd]),
            ("CPD2", "Dr. Kavita Rao, senior claim doctor", &[Role::Cpd]),
            ("CEX", "Claim executive", &[Role::Cex]),
            ("ACO", "Accounts officer", &[Role::Aco]),
        ],
    },
    // People make their own card on a phone: the app's one user stands for
    // whoever signs in, and e-KYC proves who that is on every card.
    Spec {
        name: "Ayushman app (self-service cards)",
        kind: PartnerKind::BeneficiaryApp,
        state: "10",
        hfr_ids: &[],
        scopes: &["beneficiary.read", "beneficiary.write"],
        users: &[(
            "BENEFICIARY",
            "The app's signed-in person",
            &[Role::Beneficiary],
        )],
    },
];

/// A fresh key for the mesh operator: the prefix and 128 random bits in hex.
pub fn fresh_admin_key() -> anyhow::Result<String> {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("no randomness: {error}"))?;
    Ok(format!("aym_{}", hex::encode(bytes)))
}

fn as_operator<T>(message: T, admin_key: &str) -> anyhow::Result<Request<T>> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {admin_key}").parse()?);
    Ok(request)
}

/// Creates the demo partners (once) and gives each a fresh key.
pub async fn ensure(channel: Channel, admin_key: &str) -> anyhow::Result<Vec<DemoPartner>> {
    let mut admin = GatewayAdminServiceClient::new(channel);
    let run = chrono::Utc::now().timestamp_micros();
    let mut partners = Vec::new();
    for spec in PARTNERS {
        let partner = admin
            .create_partner(as_operator(
                CreatePartnerRequest {
                    idempotency_key: format!("demo-partner-{}", spec.name),
                    partner: Some(Partner {
                        name: spec.name.into(),
                        kind: spec.kind as i32,
                        home_state_code: spec.state.into(),
                        scopes: spec.scopes.iter().map(|s| (*s).to_owned()).collect(),
                        hfr_ids: spec.hfr_ids.iter().map(|h| (*h).to_owned()).collect(),
                        ..Default::default()
                    }),
                },
                admin_key,
            )?)
            .await
            .with_context(|| format!("create partner {}", spec.name))?
            .into_inner()
            .partner
            .context("partner missing from reply")?;
        let old_keys = admin
            .list_api_keys(as_operator(
                ListApiKeysRequest {
                    partner_id: partner.partner_id.clone(),
                },
                admin_key,
            )?)
            .await
            .context("list keys")?
            .into_inner()
            .keys;
        for key in old_keys.into_iter().filter(|k| k.revoked_at.is_none()) {
            admin
                .revoke_api_key(as_operator(
                    RevokeApiKeyRequest {
                        idempotency_key: format!("demo-revoke-{}", key.key_id),
                        key_id: key.key_id,
                    },
                    admin_key,
                )?)
                .await
                .context("revoke an old demo key")?;
        }
        let issued = admin
            .issue_api_key(as_operator(
                IssueApiKeyRequest {
                    idempotency_key: format!("demo-key-{}-{run}", partner.partner_id),
                    partner_id: partner.partner_id.clone(),
                },
                admin_key,
            )?)
            .await
            .with_context(|| format!("issue a key to {}", spec.name))?
            .into_inner();
        let mut users = Vec::new();
        for (label, name, roles) in spec.users {
            let user = admin
                .create_user(as_operator(
                    CreateUserRequest {
                        idempotency_key: format!("demo-user-{}-{label}", partner.partner_id),
                        user: Some(User {
                            partner_id: partner.partner_id.clone(),
                            name: (*name).into(),
                            roles: roles.iter().map(|r| *r as i32).collect(),
                            ..Default::default()
                        }),
                    },
                    admin_key,
                )?)
                .await
                .with_context(|| format!("create user {name}"))?
                .into_inner()
                .user
                .context("user missing from reply")?;
            users.push(DemoUser {
                label,
                name,
                user_id: user.user_id,
            });
        }
        partners.push(DemoPartner {
            name: spec.name,
            partner_id: partner.partner_id,
            key: issued.api_key,
            users,
        });
    }
    Ok(partners)
}
