//! The portability service's demo data: PM-JAY national portability, Rajasthan
//! MAA outbound to every state, Bihar's state scheme outbound as a draft the
//! demo switches on with one call, and June 2025 settlements between states.

use anyhow::Context;
use ayushman_proto::{
    common::v1::YearMonth,
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

/// June 2025: (claim, payer scheme, payer state, treating state, paise).
const JUNE_2025: [(&str, &str, &str, &str, i64); 10] = [
    ("CL-DEMO-2025-06-001", "RJ-MAA", "08", "24", 1_45_000_00),
    ("CL-DEMO-2025-06-002", "RJ-MAA", "08", "24", 2_10_500_00),
    ("CL-DEMO-2025-06-003", "PMJAY", "24", "08", 65_000_00),
    ("CL-DEMO-2025-06-004", "PMJAY", "10", "22", 1_20_000_00),
    ("CL-DEMO-2025-06-005", "PMJAY", "10", "22", 48_750_00),
    ("CL-DEMO-2025-06-006", "PMJAY", "22", "10", 30_000_00),
    ("CL-DEMO-2025-06-007", "PMJAY", "10", "08", 3_40_000_00),
    ("CL-DEMO-2025-06-008", "RJ-MAA", "08", "10", 55_200_00),
    ("CL-DEMO-2025-06-009", "PMJAY", "22", "24", 2_75_000_00),
    ("CL-DEMO-2025-06-010", "PMJAY", "24", "22", 90_000_00),
];

/// What the portability seed wrote.
#[derive(Debug, Default)]
pub struct Summary {
    pub agreements: usize,
    pub settlements: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "portability: {} agreements, {} settlements in June 2025",
            self.agreements, self.settlements
        )
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
    for (claim, scheme, payer, treating, paise) in JUNE_2025 {
        let entry = pb::SettlementEntry {
            claim_id: claim.into(),
            payer_scheme_code: scheme.into(),
            payer_state_code: payer.into(),
            treating_state_code: treating.into(),
            amount_paise: paise,
            month: Some(YearMonth {
                year: 2025,
                month: 6,
            }),
            ..Default::default()
        };
        client
            .record_settlement(pb::RecordSettlementRequest {
                idempotency_key: String::new(),
                entry: Some(entry),
            })
            .await
            .with_context(|| format!("record settlement {claim}"))?;
        summary.settlements += 1;
    }
    Ok(summary)
}
