//! The portability service's demo data: PM-JAY national portability, Rajasthan
//! MAA outbound to every state, Bihar's state scheme outbound as a draft the
//! demo switches on with one call. Nothing is owed between states: the home
//! state pays the treating hospital (DESIGN §4).

use anyhow::Context;
use ayushman_proto::{
    google::r#type::Date,
    portability::v1::{self as pb, portability_service_client::PortabilityServiceClient},
};
use tonic::transport::Channel;

fn agreement(
    id: &str,
    scheme: &str,
    home_state: &str,
    empanelment_scheme: &str,
    status: pb::AgreementStatus,
    reason: &str,
) -> pb::Agreement {
    pb::Agreement {
        agreement_id: id.into(),
        home_scheme_code: scheme.into(),
        home_state_code: home_state.into(),
        all_states: true,
        effective_from: Some(Date {
            year: 2024,
            month: 4,
            day: 1,
        }),
        rate_rule: pb::RateRule::TreatingState as i32,
        payer_scheme_code: scheme.into(),
        empanelment_scheme_code: empanelment_scheme.into(),
        status: status as i32,
        status_reason: reason.into(),
        ..Default::default()
    }
}

/// The demo's agreements.
pub fn agreements() -> [pb::Agreement; 3] {
    [
        agreement(
            "AGR-PMJAY-NATIONAL",
            "PMJAY",
            "",
            "",
            pb::AgreementStatus::Active,
            "PM-JAY national portability",
        ),
        agreement(
            "AGR-RJ-MAA-OUT",
            "RJ-MAA",
            "08",
            "PMJAY",
            pb::AgreementStatus::Active,
            "MAA outbound portability",
        ),
        agreement(
            "AGR-BR-MJAY-OUT",
            "BR-MJAY",
            "10",
            "PMJAY",
            pb::AgreementStatus::Draft,
            "awaiting the state's order",
        ),
    ]
}

/// What the portability seed wrote.
#[derive(Debug, Default)]
pub struct Summary {
    pub agreements: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "portability: {} agreements", self.agreements)
    }
}

/// Seeds the portability service at `client`.
pub async fn seed(client: &mut PortabilityServiceClient<Channel>) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    for agreement in agreements() {
        let id = agreement.agreement_id.clone();
        let created = client
            .create_agreement(pb::CreateAgreementRequest {
                idempotency_key: format!("seed-{id}"),
                agreement: Some(agreement),
            })
            .await;
        match created {
            Ok(_) => {}
            // Seeded before and changed since (e.g. the demo activated it): leave it as it is.
            Err(status) if status.code() == tonic::Code::AlreadyExists => {}
            Err(status) => return Err(status).with_context(|| format!("create agreement {id}")),
        }
        summary.agreements += 1;
    }
    Ok(summary)
}
