//! Schemes as data over real gRPC on SQLite and PostgreSQL: a state's scheme
//! created with CreateScheme covers the people its lists already hold and is
//! drawn by the very next preauth, after the schemes before it, without a
//! restart; every field of a bad scheme is named.

use ayushman_proto::{
    beneficiary::v1::{self as b, CoverKind, Enrolment, SchemeSponsor, SourceList},
    google::r#type::Date,
};
use mesh_tests::{
    bad_fields,
    portability::backends,
    preauth::{self, CG_FAMILY, quick_settings},
};

/// A Chhattisgarh top-up of ₹1,00,000 for SECC-D1 families, drawn after PM-JAY
/// at PM-JAY's hospitals.
fn chhattisgarh_top_up() -> b::Scheme {
    b::Scheme {
        scheme_code: "CG-TOPUP".into(),
        name: "Chhattisgarh state top-up (test)".into(),
        sponsor: SchemeSponsor::State as i32,
        state_code: "22".into(),
        cover_kind: CoverKind::FamilyFloater as i32,
        cover_per_family_paise: 1_00_000_00,
        policy_year_start: Some(Date {
            year: 0,
            month: 4,
            day: 1,
        }),
        eligibility_categories: vec!["SECC-D1".into()],
        enrolments: vec![Enrolment {
            source_list: SourceList::Secc as i32,
            state_code: "22".into(),
        }],
        draw_order: 4,
        network_scheme_code: "PMJAY".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_state_scheme_created_over_grpc_is_drawn_by_the_next_preauth_without_a_restart() {
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await;
        let before = flow
            .raise("before", CG_FAMILY, "IN2210000001", &["MC999X"])
            .await
            .expect_err("₹5,40,000 is more than PM-JAY's ₹5,00,000");
        assert!(
            before
                .message()
                .contains("only ₹5,00,000 of PMJAY cover is available in ")
                && before.message().ends_with("; ₹5,40,000 asked"),
            "{before:?}"
        );

        let created = flow
            .people
            .client
            .create_scheme(b::CreateSchemeRequest {
                idempotency_key: "cg-topup".into(),
                scheme: Some(chhattisgarh_top_up()),
            })
            .await
            .expect("create")
            .into_inner()
            .scheme
            .expect("scheme");
        assert_eq!(created.status, b::SchemeStatus::Active as i32);
        let member = flow.member(CG_FAMILY).await;
        let record = flow
            .people
            .client
            .get_beneficiary(b::GetBeneficiaryRequest {
                beneficiary_id: member,
            })
            .await
            .expect("beneficiary")
            .into_inner()
            .beneficiary
            .expect("beneficiary");
        assert_eq!(
            record.scheme_codes,
            ["PMJAY", "CG-TOPUP"],
            "{backend}: the list's families are covered at once"
        );

        let raised = flow
            .raise("after", CG_FAMILY, "IN2210000001", &["MC999X"])
            .await
            .expect("raise");
        assert_eq!(raised.drawn_scheme_codes, ["PMJAY", "CG-TOPUP"]);
        let top_up = flow.wallet(CG_FAMILY, "CG-TOPUP").await;
        assert_eq!(
            (top_up.blocked_paise, top_up.available_paise),
            (40_000_00, 60_000_00)
        );
    }
}

#[tokio::test]
async fn a_bad_scheme_is_refused_naming_every_field() {
    let mut flow = preauth::spawn("sqlite", quick_settings()).await;
    let refused = flow
        .people
        .client
        .create_scheme(b::CreateSchemeRequest {
            idempotency_key: "bad".into(),
            scheme: Some(b::Scheme {
                scheme_code: "CG-BAD".into(),
                sponsor: SchemeSponsor::State as i32,
                cover_kind: CoverKind::SeniorTopUp as i32,
                cover_per_family_paise: -1,
                policy_year_start: Some(Date {
                    year: 0,
                    month: 2,
                    day: 30,
                }),
                enrolments: vec![Enrolment {
                    source_list: SourceList::Nfsa as i32,
                    state_code: "99".into(),
                }],
                ..Default::default()
            }),
        })
        .await
        .expect_err("refused");
    assert_eq!(
        bad_fields(&refused),
        [
            "scheme.name",
            "scheme.state_code",
            "scheme.cover_per_family_paise",
            "scheme.policy_year_start",
            "scheme.draw_order",
            "scheme.minimum_age_years",
            "scheme.enrolments[0].state_code",
        ]
    );
    let exists = flow
        .people
        .client
        .create_scheme(b::CreateSchemeRequest {
            idempotency_key: "again".into(),
            scheme: Some(b::Scheme {
                scheme_code: "PMJAY".into(),
                ..chhattisgarh_top_up()
            }),
        })
        .await
        .expect_err("PMJAY exists");
    assert_eq!(exists.code(), tonic::Code::AlreadyExists);
    assert_eq!(
        exists.message(),
        "scheme PMJAY exists; change it with UpdateScheme"
    );
}

#[tokio::test]
async fn a_personal_cover_gives_each_member_a_wallet_of_their_own() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let (senior, son) = flow.senior_family().await;
    flow.people
        .client
        .create_scheme(b::CreateSchemeRequest {
            idempotency_key: "cg-personal".into(),
            scheme: Some(b::Scheme {
                scheme_code: "CG-PERSONAL".into(),
                cover_kind: CoverKind::Personal as i32,
                cover_per_family_paise: 50_000_00,
                draw_order: 5,
                ..chhattisgarh_top_up()
            }),
        })
        .await
        .expect("create");
    for (key, person) in [("senior", &senior), ("son", &son)] {
        flow.people
            .client
            .block_amount(b::BlockAmountRequest {
                idempotency_key: format!("personal-{key}"),
                beneficiary_id: person.clone(),
                scheme_code: "CG-PERSONAL".into(),
                preauth_id: format!("PA-PERSONAL-{key}"),
                amount_paise: 30_000_00,
                reason: "test".into(),
                ..Default::default()
            })
            .await
            .expect("each member's own ₹50,000");
    }
    let family = flow.people.family(preauth::SENIOR_FAMILY).await;
    let personal: Vec<_> = family
        .wallets
        .iter()
        .filter(|w| w.scheme_code == "CG-PERSONAL")
        .map(|w| (w.kind, w.beneficiary_id.clone(), w.available_paise))
        .collect();
    assert_eq!(personal.len(), 2, "{personal:?}");
    for (kind, holder, available) in personal {
        assert_eq!(kind, b::WalletKind::Personal as i32);
        assert!(holder == senior || holder == son, "{holder}");
        assert_eq!(available, 20_000_00);
    }
}
