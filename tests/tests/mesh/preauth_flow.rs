//! The preauth saga across the beneficiary registry, facility registry and
//! portability, all in-process over real gRPC: the whole flow, each refusal,
//! idempotency, compensation when a peer is down, and deemed approval.

use std::time::Duration;

use ayushman_proto::preauth::v1::{self as pb, PreauthStatus};
use mesh_tests::{
    bad_fields,
    portability::backends,
    preauth::{self, BR_FAMILY, CG_FAMILY, RJ_FAMILY, quick_settings, raise_request, today},
};
use tonic::Code;

fn statuses(preauth: &pb::Preauth) -> Vec<String> {
    preauth
        .history
        .iter()
        .map(|h| h.status.trim_start_matches("PREAUTH_STATUS_").to_owned())
        .collect()
}

#[tokio::test]
async fn a_preauth_is_raised_approved_enhanced_and_discharged_and_the_wallet_follows() {
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await;
        let raised = flow
            .raise("pa-flow", CG_FAMILY, "IN2210000001", &["MC011A"])
            .await
            .expect("raise");
        assert_eq!(raised.status, PreauthStatus::Raised as i32, "{backend}");
        assert!(!raised.portability_case);
        // Chhattisgarh's own rate (90 % of the base) at a Chhattisgarh hospital.
        assert_eq!(
            raised.lines[0].rate_source,
            pb::RateSource::TreatingState as i32
        );
        assert_eq!(
            (raised.requested_amount_paise, raised.blocked_amount_paise),
            (81_000_00, 81_000_00)
        );
        assert_eq!(
            flow.wallet(CG_FAMILY, "PMJAY").await.blocked_paise,
            81_000_00
        );

        let id = raised.preauth_id.clone();
        let approved = flow
            .client
            .review_preauth(pb::ReviewPreauthRequest {
                idempotency_key: "approve".into(),
                preauth_id: id.clone(),
                decision: pb::ReviewDecision::Approve as i32,
                ..Default::default()
            })
            .await
            .expect("approve")
            .into_inner()
            .preauth
            .expect("preauth");
        assert_eq!(
            (approved.status, approved.approved_amount_paise),
            (PreauthStatus::Approved as i32, 81_000_00)
        );

        let asked = flow
            .client
            .request_enhancement(pb::RequestEnhancementRequest {
                idempotency_key: "enhance-1".into(),
                preauth_id: id.clone(),
                packages: vec![pb::PackageChoice {
                    package_code: "SG039A".into(),
                    add_on_codes: Vec::new(),
                }],
                additional_amount_paise: 5_000_00,
                reason: "two more days in ICU".into(),
                actor: None,
            })
            .await
            .expect("enhance")
            .into_inner();
        let pending = asked.preauth.expect("preauth");
        assert_eq!(
            (
                pending.blocked_amount_paise,
                pending.enhancements[0].status,
                pending.enhancements[0].amount_paise
            ),
            (
                81_000_00,
                pb::EnhancementStatus::Requested as i32,
                22_500_00 + 5_000_00
            ),
            "a request blocks nothing until a reviewer approves it"
        );
        let enhanced = flow
            .client
            .decide_enhancement(pb::DecideEnhancementRequest {
                idempotency_key: "enhance-1-approve".into(),
                preauth_id: id.clone(),
                enhancement_id: asked.enhancement_id.clone(),
                decision: pb::EnhancementDecision::Approve as i32,
                reason: "ICU stay justified".into(),
                actor: None,
            })
            .await
            .expect("approve enhancement")
            .into_inner()
            .preauth
            .expect("preauth");
        assert_eq!(
            (
                enhanced.requested_amount_paise,
                enhanced.blocked_amount_paise,
                enhanced.approved_amount_paise
            ),
            (1_08_500_00, 1_08_500_00, 1_08_500_00)
        );
        assert_eq!(
            flow.wallet(CG_FAMILY, "PMJAY").await.blocked_paise,
            1_08_500_00,
            "{backend}"
        );

        let discharged = flow
            .client
            .discharge(pb::DischargeRequest {
                idempotency_key: "discharge".into(),
                preauth_id: id.clone(),
                discharge_date: Some(today()),
                discharge_summary: "stable".into(),
                actor: None,
            })
            .await
            .expect("discharge")
            .into_inner()
            .preauth
            .expect("preauth");
        assert_eq!(
            statuses(&discharged),
            [
                "PENDING",
                "RAISED",
                "APPROVED",
                "APPROVED",
                "APPROVED",
                "DISCHARGED"
            ]
        );
        let approval = format!(
            "enhancement {} of ₹27,500 approved and blocked",
            asked.enhancement_id
        );
        assert!(
            discharged.history.iter().any(|h| h.reason == approval),
            "{:?}",
            discharged.history
        );
    }
}

#[tokio::test]
async fn a_rajasthan_card_holder_in_a_bastar_hospital_is_a_portability_case_paid_by_maa() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let raised = flow
        .raise("pa-maa", RJ_FAMILY, "IN2210000001", &["MC011A"])
        .await
        .expect("raise");
    assert!(raised.portability_case);
    assert_eq!(
        (
            raised.payer_scheme_code.as_str(),
            raised.payer_state_code.as_str(),
            raised.agreement_id.as_str()
        ),
        ("RJ-MAA", "08", "AGR-RJ-MAA-OUT")
    );
    assert_eq!(
        raised.lines[0].rate_source,
        pb::RateSource::TreatingState as i32,
        "Chhattisgarh's rate, where the treatment happens"
    );
    assert_eq!(
        flow.wallet(RJ_FAMILY, "RJ-MAA").await.blocked_paise,
        81_000_00
    );
}

#[tokio::test]
async fn only_a_case_outside_the_home_state_is_routed_through_portability() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    flow.portability_link.down();
    let in_state = flow
        .raise("pa-home", CG_FAMILY, "IN2210000001", &["MC011A"])
        .await
        .expect("a Chhattisgarh patient at a Chhattisgarh hospital needs no portability");
    assert_eq!(
        (
            in_state.status,
            in_state.portability_case,
            in_state.payer_scheme_code.as_str(),
            in_state.payer_state_code.as_str(),
            in_state.facility_state_code.as_str()
        ),
        (PreauthStatus::Raised as i32, false, "PMJAY", "22", "22")
    );
    let out_of_state = flow
        .raise("pa-away", RJ_FAMILY, "IN2210000001", &["MC011A"])
        .await
        .unwrap_err();
    assert_eq!(out_of_state.code(), Code::Unavailable, "{out_of_state:?}");
    flow.portability_link.up();
    let routed = flow
        .raise("pa-away", RJ_FAMILY, "IN2210000001", &["MC011A"])
        .await
        .expect("raised once portability answers");
    assert!(routed.portability_case);
}

async fn refusal(
    flow: &mut preauth::Flow,
    key: &str,
    family: &str,
    hfr: &str,
    packages: &[&str],
) -> String {
    let status = flow
        .raise(key, family, hfr, packages)
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    status.message().to_owned()
}

#[tokio::test]
async fn each_refusal_says_why_and_leaves_no_cover_blocked() {
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await;
        let message = refusal(
            &mut flow,
            "uncarded",
            "CG-FAM-2",
            "IN2210000001",
            &["MC011A"],
        )
        .await;
        assert!(
            message.ends_with("not eligible under PMJAY: no card has been issued yet"),
            "{message}"
        );
        let message = refusal(
            &mut flow,
            "oncology",
            CG_FAMILY,
            "IN2210000001",
            &["MO001A"],
        )
        .await;
        assert!(message.contains("ONCOLOGY at IN2210000001: Maharani District Hospital, Jagdalpur is not empanelled for ONCOLOGY under PMJAY"), "{message}");
        let message = refusal(
            &mut flow,
            "reserved",
            CG_FAMILY,
            "IN0810000042",
            &["MC099P"],
        )
        .await;
        assert!(
            message.ends_with(
                "package MC099P is reserved for public hospitals; IN0810000042 is not public"
            ),
            "{message}"
        );
        let message = refusal(
            &mut flow,
            "too-much",
            CG_FAMILY,
            "IN2210000001",
            &["MC999X"],
        )
        .await;
        assert!(
            message
                .contains("cover could not be blocked: only ₹5,00,000 of PMJAY cover is available"),
            "{message}"
        );
        let message = refusal(&mut flow, "bihar", BR_FAMILY, "IN2210000001", &["MC011A"]).await;
        assert!(message.contains("no portability agreement lets BR-MJAY card holders from Bihar be treated in Chhattisgarh"), "{message}");

        flow.facilities
            .client
            .unlink_professional(ayushman_proto::facility::v1::UnlinkProfessionalRequest {
                idempotency_key: "unlink".into(),
                hpr_id: preauth::DOCTOR.into(),
                hfr_id: "IN2210000001".into(),
                linked_until: Some(mesh_tests::facility::date(2024, 12, 31)),
            })
            .await
            .expect("unlink");
        let message = refusal(&mut flow, "doctor", CG_FAMILY, "IN2210000001", &["MC011A"]).await;
        assert!(
            message.contains("doctor 71-4324-5678-1234 is not linked to facility IN2210000001"),
            "{message}"
        );

        let wallet = flow.wallet(CG_FAMILY, "PMJAY").await;
        assert_eq!(
            (wallet.blocked_paise, wallet.available_paise),
            (0, 5_00_000_00),
            "{backend}: nothing leaked"
        );
        let failed = flow
            .client
            .list_preauths(pb::ListPreauthsRequest {
                status: PreauthStatus::Failed as i32,
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner();
        assert_eq!(failed.preauths.len(), 6, "every refusal stays on record");
    }
}

#[tokio::test]
async fn bad_requests_name_each_field() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let status = flow
        .client
        .raise_preauth(pb::RaisePreauthRequest {
            idempotency_key: "bad".into(),
            hfr_id: "IN22".into(),
            treating_hpr_id: "7".into(),
            packages: vec![pb::PackageChoice {
                package_code: "NOPE".into(),
                add_on_codes: Vec::new(),
            }],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        [
            "beneficiary_id",
            "hfr_id",
            "treating_hpr_id",
            "admission_date",
            "packages[0].package_code"
        ]
    );
}

#[tokio::test]
async fn raising_again_with_the_same_key_makes_one_preauth_and_one_block() {
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await;
        let patient = flow.member(CG_FAMILY).await;
        // Five at once: the key is found only when PENDING is stored, so
        // every twin but one must meet the stored one there.
        let ids: Vec<String> = flow
            .raise_at_once(
                (0..5)
                    .map(|_| raise_request("same-key", &patient, "IN2210000001", &["MC011A"]))
                    .collect(),
            )
            .await
            .into_iter()
            .map(|preauth| preauth.preauth_id)
            .collect();
        let first = flow
            .raise("same-key", CG_FAMILY, "IN2210000001", &["MC011A"])
            .await
            .expect("repeat");
        assert!(
            ids.iter().all(|id| *id == first.preauth_id),
            "{backend}: {ids:?}"
        );
        assert_eq!(
            flow.wallet(CG_FAMILY, "PMJAY").await.blocked_paise,
            81_000_00,
            "{backend}"
        );
        let all = flow
            .client
            .list_preauths(pb::ListPreauthsRequest::default())
            .await
            .expect("list")
            .into_inner();
        assert_eq!(all.preauths.len(), 1, "{backend}");
        let other = flow
            .raise("same-key", CG_FAMILY, "IN2210000001", &["SG039A"])
            .await
            .unwrap_err();
        assert_eq!(other.code(), Code::AlreadyExists, "{backend}");
    }
}

#[tokio::test]
async fn a_retry_after_its_package_is_withdrawn_answers_as_the_first_call() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let first = flow
        .raise("before-withdrawal", CG_FAMILY, "IN2210000001", &["MC011A"])
        .await
        .expect("first");
    let mut package = flow
        .client
        .get_package(pb::GetPackageRequest {
            package_code: "MC011A".into(),
        })
        .await
        .expect("package")
        .into_inner()
        .package
        .expect("package in reply");
    package.active = false;
    flow.client
        .upsert_package(pb::UpsertPackageRequest {
            idempotency_key: "withdraw-MC011A".into(),
            package: Some(package),
        })
        .await
        .expect("withdrawn");

    let again = flow
        .raise("before-withdrawal", CG_FAMILY, "IN2210000001", &["MC011A"])
        .await
        .expect("the retry answers as the first call did");
    assert_eq!(again.preauth_id, first.preauth_id);
    assert_eq!(again.status, first.status);
    let new = flow
        .raise("after-withdrawal", CG_FAMILY, "IN2210000001", &["MC011A"])
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&new), ["packages[0].package_code"]);
}

#[tokio::test]
async fn a_cancellation_while_the_registry_is_down_releases_the_block_once_it_is_back() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let raised = flow
        .raise("pa-down", CG_FAMILY, "IN2210000001", &["MC011A"])
        .await
        .expect("raise");
    flow.beneficiary_link.down();
    let cancelled = flow
        .client
        .cancel_preauth(pb::CancelPreauthRequest {
            idempotency_key: "cancel".into(),
            preauth_id: raised.preauth_id.clone(),
            reason: "patient left".into(),
            actor: None,
        })
        .await
        .expect("cancel is accepted")
        .into_inner()
        .preauth
        .expect("preauth");
    assert_eq!(cancelled.status, PreauthStatus::Cancelled as i32);
    assert_eq!(
        cancelled.blocked_amount_paise, 81_000_00,
        "still held: the registry is unreachable"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        flow.wallet(CG_FAMILY, "PMJAY").await.blocked_paise,
        81_000_00
    );

    flow.beneficiary_link.up();
    let mut released = false;
    for _ in 0..100 {
        if flow.get(&raised.preauth_id).await.blocked_amount_paise == 0 {
            released = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(released, "the background worker released the block");
    let wallet = flow.wallet(CG_FAMILY, "PMJAY").await;
    assert_eq!(
        (wallet.blocked_paise, wallet.available_paise),
        (0, 5_00_000_00)
    );
}

#[tokio::test]
async fn a_saga_stopped_by_an_unreachable_registry_finishes_when_it_is_back() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let beneficiary_id = flow.member(CG_FAMILY).await;
    flow.beneficiary_link.down();
    let pending = flow
        .client
        .raise_preauth(pb::RaisePreauthRequest {
            idempotency_key: "pa-resume".into(),
            beneficiary_id,
            hfr_id: "IN2210000001".into(),
            treating_hpr_id: preauth::DOCTOR.into(),
            packages: vec![pb::PackageChoice {
                package_code: "MC011A".into(),
                add_on_codes: Vec::new(),
            }],
            admission_date: Some(today()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(pending.code(), Code::Unavailable);
    assert!(
        pending
            .message()
            .contains("retry with the same idempotency_key"),
        "{}",
        pending.message()
    );
    flow.beneficiary_link.up();
    let mut raised = None;
    for _ in 0..100 {
        let list = flow
            .client
            .list_preauths(pb::ListPreauthsRequest::default())
            .await
            .expect("list")
            .into_inner();
        if let Some(preauth) = list
            .preauths
            .into_iter()
            .find(|p| p.status == PreauthStatus::Raised as i32)
        {
            raised = Some(preauth);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let raised = raised.expect("the background worker resumed the saga");
    assert_eq!(raised.blocked_amount_paise, 81_000_00);
    assert_eq!(
        flow.wallet(CG_FAMILY, "PMJAY").await.blocked_paise,
        81_000_00
    );
}

#[tokio::test]
async fn an_unreviewed_preauth_is_deemed_approved_after_the_turnaround_time() {
    let settings = preauth::preauth_settings_with_deemed_minutes(0);
    let mut flow = preauth::spawn("sqlite", settings)
        .await
        .with_everything()
        .await;
    let raised = flow
        .raise("pa-deemed", CG_FAMILY, "IN2210000001", &["MC011A"])
        .await
        .expect("raise");
    let mut deemed = None;
    for _ in 0..100 {
        let preauth = flow.get(&raised.preauth_id).await;
        if preauth.status == PreauthStatus::Approved as i32 {
            deemed = Some(preauth);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deemed = deemed.expect("deemed approved");
    assert!(deemed.deemed_approval);
    assert_eq!(deemed.approved_amount_paise, 81_000_00);
    assert_eq!(
        deemed.history.last().map(|h| h.reason.as_str()),
        Some("deemed approved: not reviewed within 0 minutes")
    );
}

#[tokio::test]
async fn overlapping_admissions_and_repeated_packages_are_flagged_for_the_reviewer() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let first = flow
        .raise("pa-1", CG_FAMILY, "IN2210000001", &["SG039A"])
        .await
        .expect("first");
    let second = flow
        .raise("pa-2", CG_FAMILY, "IN0810000042", &["SG039A"])
        .await
        .expect("second");
    let kinds: Vec<_> = second
        .fraud_flags
        .iter()
        .map(|f| (f.kind, f.related_preauth_id.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                pb::FraudFlagKind::OverlappingAdmission as i32,
                first.preauth_id.as_str()
            ),
            (
                pb::FraudFlagKind::DuplicatePackage as i32,
                first.preauth_id.as_str()
            ),
        ]
    );
    let flagged = flow
        .client
        .list_preauths(pb::ListPreauthsRequest {
            flagged_only: true,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(
        flagged
            .preauths
            .iter()
            .map(|p| p.preauth_id.as_str())
            .collect::<Vec<_>>(),
        [second.preauth_id.as_str()]
    );
}

#[tokio::test]
async fn a_hospital_receiving_far_more_preauths_than_usual_is_flagged_with_each_one_counted() {
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await;
        let patient = flow.member(CG_FAMILY).await;
        // Twelve at once: each is counted, whatever their transactions interleave.
        flow.raise_at_once(
            (0..12)
                .map(|n| raise_request(&format!("busy-{n}"), &patient, "IN2210000001", &["SG039A"]))
                .collect(),
        )
        .await;
        let thirteenth = flow
            .raise("busy-12", CG_FAMILY, "IN2210000001", &["SG039A"])
            .await
            .expect("thirteenth");
        let volume: Vec<_> = thirteenth
            .fraud_flags
            .iter()
            .filter(|f| f.kind == pb::FraudFlagKind::HighFacilityVolume as i32)
            .map(|f| f.reason.as_str())
            .collect();
        assert_eq!(
            volume,
            ["IN2210000001 has 13 preauths today against a daily average of 0.0"],
            "{backend}"
        );
    }
}
