//! Card drives as districts run them (DESIGN §1), over real gRPC on SQLite
//! and PostgreSQL: the area master rolls coverage up by sub-division and
//! village; the operator master counts logins by kind and cards per login
//! per day; the daily report shows each sub-division and block against its
//! target, the camps whose operator did not come and who stood in, the best
//! and weakest blocks and what each mobiliser brought; a person can make
//! their own card with no centre; coverage compares two policy years.

use ayushman_platform::{
    convert::{date_to_proto, today_in_india},
    testing,
};
use ayushman_proto::{
    beneficiary::v1::{self as pb, AreaLevel, OperatorKind, OperatorStatus},
    common::v1::{DateRange, Location, Role},
    gateway::v1 as g,
};
use mesh_tests::{
    bad_fields,
    beneficiary::{
        self, BeneficiaryRegistry, aadhaar, area, card_request, operator, saran_areas, saran_row_in,
    },
    gateway::{self as gw, as_user},
    preauth::{self, quick_settings},
};
use tonic::Code;

fn login(id: &str, kind: OperatorKind, status: OperatorStatus, fee_paise: i64) -> pb::Operator {
    pb::Operator {
        login_id: id.into(),
        name: format!("Login {id}"),
        kind: kind as i32,
        centre_id: format!("CENTRE-{id}"),
        district_code: "10-230".into(),
        block_code: String::new(),
        status: status as i32,
        fee_per_card_paise: fee_paise,
        updated_at: None,
    }
}

fn camp(id: &str, block: &str, operator: &str, standby: &str) -> pb::Camp {
    pb::Camp {
        camp_id: id.into(),
        venue: format!("Fair price shop of {id}"),
        location: Some(Location {
            state_code: "10".into(),
            district_code: "10-230".into(),
            block_code: block.into(),
            village_code: String::new(),
        }),
        operator_id: operator.into(),
        standby_operator_id: standby.into(),
        dates: None,
    }
}

/// People of four Saran blocks (block 04 is not in the area master):
/// block 01 has a family of two (F01-1) and eight singles, two carded;
/// block 02 ten singles, five carded; block 03 five singles in the village
/// Shahpur, none carded; block 04 five singles, one carded.
fn people() -> Vec<pb::EligibilityRow> {
    let mut rows = vec![
        saran_row_in("10-230-01", "F01-1", "Asha Devi", 1980),
        saran_row_in("10-230-01", "F01-1", "Babu Ram", 1978),
    ];
    let singles = |block: &str, prefix: &str, count: u32, carded_from: u32| {
        (1..=count)
            .map(|n| {
                let mut row = saran_row_in(
                    block,
                    &format!("{prefix}-{n}"),
                    &format!("{prefix} person {n}"),
                    1985,
                );
                if n >= carded_from {
                    row.existing_card_number = format!("BIS-{prefix}-{n}");
                }
                if block == "10-230-03"
                    && let Some(location) = row.location.as_mut()
                {
                    location.village_code = "10-230-03-001".into();
                }
                row
            })
            .collect::<Vec<_>>()
    };
    rows.extend(singles("10-230-01", "F01", 9, 8).into_iter().skip(1));
    rows.extend(singles("10-230-02", "F02", 10, 6));
    rows.extend(singles("10-230-03", "F03", 5, 6));
    rows.extend(singles("10-230-04", "F04", 5, 5));
    rows
}

/// The day of a drive in Saran, started yesterday: CAMP-1 (block 01) run
/// by its operator OP-A, who cards Asha and Babu of F01-1 and F01-2, all
/// three brought by the Jeevika didi M1; CAMP-2 (block 02) run by OP-D in
/// place of OP-C, two cards; CAMP-3 (block 03) by nobody. Beside the drive:
/// F03-1 makes her own card, the choice centre CC-1 cards F04-2 and F04-3
/// for ₹30 each, and OP-X, a login the master does not hold, cards F04-1.
async fn drive_day(registry: &mut BeneficiaryRegistry) -> String {
    registry.upsert_areas("areas", saran_areas()).await;
    let import = registry
        .import("drive-people", people())
        .await
        .expect("import");
    assert_eq!(import.rejected, 0, "{:?}", import.rejects);
    let operators = registry
        .client
        .upsert_operators(pb::UpsertOperatorsRequest {
            idempotency_key: "logins".into(),
            operators: vec![
                login("OP-A", OperatorKind::Csc, OperatorStatus::Active, 0),
                login("OP-D", OperatorKind::Csc, OperatorStatus::Active, 0),
                login(
                    "CC-1",
                    OperatorKind::ChoiceCentre,
                    OperatorStatus::Active,
                    3_000,
                ),
                login(
                    "CC-2",
                    OperatorKind::ChoiceCentre,
                    OperatorStatus::Inactive,
                    3_000,
                ),
                login("OT-1", OperatorKind::Other, OperatorStatus::Active, 0),
            ],
        })
        .await
        .expect("operators")
        .into_inner();
    assert_eq!((operators.created, operators.updated), (5, 0));
    registry
        .client
        .upsert_mobilisers(pb::UpsertMobilisersRequest {
            idempotency_key: "didis".into(),
            mobilisers: vec![pb::Mobiliser {
                mobiliser_id: "M1".into(),
                name: "Rinku Devi".into(),
                group_name: "Jeevika, Durga SHG, Chapra".into(),
                district_code: "10-230".into(),
                block_code: "10-230-01".into(),
                active: true,
            }],
        })
        .await
        .expect("mobilisers");
    let today = today_in_india();
    let campaign = registry
        .client
        .create_campaign(pb::CreateCampaignRequest {
            idempotency_key: "drive".into(),
            campaign: Some(pb::Campaign {
                name: "Saran card drive".into(),
                state_code: "10".into(),
                district_code: "10-230".into(),
                dates: Some(DateRange {
                    start_date: Some(date_to_proto(today - chrono::Duration::days(1))),
                    end_date: Some(date_to_proto(today + chrono::Duration::days(1))),
                }),
                target_cards: 30,
                camps: vec![
                    camp("CAMP-1", "10-230-01", "OP-A", "OP-B"),
                    camp("CAMP-2", "10-230-02", "OP-C", "OP-D"),
                    camp("CAMP-3", "10-230-03", "OP-E", "OP-F"),
                ],
                blocks: vec![
                    pb::CampaignBlock {
                        block_code: "10-230-01".into(),
                        nodal_officer: Some(pb::NodalOfficer {
                            name: "Ajay Kumar".into(),
                            designation: "Block Development Officer".into(),
                            mobile: "9876500001".into(),
                        }),
                        target_cards: 10,
                    },
                    pb::CampaignBlock {
                        block_code: "10-230-02".into(),
                        nodal_officer: Some(pb::NodalOfficer {
                            name: "Priya Sinha".into(),
                            designation: "Block Development Officer".into(),
                            mobile: String::new(),
                        }),
                        target_cards: 0,
                    },
                ],
                ..Default::default()
            }),
        })
        .await
        .expect("campaign")
        .into_inner()
        .campaign
        .expect("campaign")
        .campaign_id;
    let asha_and_babu = registry.family("F01-1").await.members;
    let mut seed = 500;
    let mut card = |person: &pb::Beneficiary, operator: &str, centre: &str| {
        seed += 1;
        card_request(
            &format!("card-{seed}"),
            &person.beneficiary_id,
            seed,
            operator,
            centre,
        )
    };
    let mut at_camp = Vec::new();
    for person in &asha_and_babu {
        at_camp.push(pb::IssueCardRequest {
            mobiliser_id: "M1".into(),
            campaign_id: campaign.clone(),
            ..card(person, "OP-A", "CAMP-1")
        });
    }
    let f01_2 = registry.first_member("F01-2").await;
    at_camp.push(pb::IssueCardRequest {
        mobiliser_id: "M1".into(),
        campaign_id: campaign.clone(),
        ..card(&f01_2, "OP-A", "CAMP-1")
    });
    for family in ["F02-1", "F02-2"] {
        let person = registry.first_member(family).await;
        at_camp.push(pb::IssueCardRequest {
            campaign_id: campaign.clone(),
            ..card(&person, "OP-D", "CAMP-2")
        });
    }
    let f03_1 = registry.first_member("F03-1").await;
    at_camp.push(pb::IssueCardRequest {
        self_service: true,
        centre_id: String::new(),
        kyc_method: pb::KycMethod::AadhaarFace as i32,
        ..card(&f03_1, "APP", "")
    });
    for family in ["F04-2", "F04-3"] {
        let person = registry.first_member(family).await;
        at_camp.push(card(&person, "CC-1", "CENTRE-CC-1"));
    }
    let f04_1 = registry.first_member("F04-1").await;
    at_camp.push(card(&f04_1, "OP-X", "CSC-99"));
    for request in at_camp {
        registry.client.issue_card(request).await.expect("card");
    }
    campaign
}

#[tokio::test]
async fn coverage_rolls_blocks_up_into_sub_divisions_and_names_every_area() {
    for database in testing::all_databases().await {
        let mut registry = beneficiary::spawn(&database).await;
        drive_day(&mut registry).await;
        let coverage = |level: pb::CoverageLevel| pb::CoverageReportRequest {
            district_code: "10-230".into(),
            level: level as i32,
            ..Default::default()
        };
        let by_sub_division = registry
            .client
            .coverage_report(coverage(pb::CoverageLevel::SubDivision))
            .await
            .expect("coverage")
            .into_inner();
        let rows: Vec<_> = by_sub_division
            .rows
            .iter()
            .map(|r| {
                (
                    r.sub_division_code.as_str(),
                    r.name.as_str(),
                    r.eligible,
                    r.carded,
                    r.self_service,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("", "", 5, 4, 0),
                ("10-230-SD1", "Sadar", 20, 12, 0),
                ("10-230-SD3", "Sonpur", 5, 1, 1),
            ],
            "{}: block 04 is in no sub-division",
            database.backend
        );
        let total = by_sub_division.total.expect("total");
        assert_eq!(
            (total.eligible, total.carded, total.carded_basis_points),
            (30, 17, 5667)
        );

        let by_village = registry
            .client
            .coverage_report(coverage(pb::CoverageLevel::Village))
            .await
            .expect("coverage")
            .into_inner();
        let shahpur = by_village
            .rows
            .iter()
            .find(|r| r.village_code == "10-230-03-001")
            .expect("Shahpur");
        assert_eq!(
            (
                shahpur.name.as_str(),
                shahpur.sub_division_code.as_str(),
                shahpur.eligible,
                shahpur.carded
            ),
            ("Shahpur", "10-230-SD3", 5, 1)
        );
        let by_block = registry
            .client
            .coverage_report(coverage(pb::CoverageLevel::Block))
            .await
            .expect("coverage")
            .into_inner();
        let names: Vec<_> = by_block.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["Chapra", "Revelganj", "Sonpur", ""]);
    }
}

#[tokio::test]
async fn the_operator_report_counts_logins_by_kind_and_cards_per_login_per_day() {
    for database in testing::all_databases().await {
        let mut registry = beneficiary::spawn(&database).await;
        drive_day(&mut registry).await;
        let report = registry
            .client
            .operator_activity_report(pb::OperatorActivityReportRequest {
                district_code: "10-230".into(),
                ..Default::default()
            })
            .await
            .expect("report")
            .into_inner();
        let kinds: Vec<_> = report
            .by_kind
            .iter()
            .map(|k| {
                (
                    OperatorKind::try_from(k.kind).expect("kind"),
                    k.active_logins,
                    k.inactive_logins,
                    k.logins_that_carded,
                    k.cards,
                    k.login_days,
                    k.cards_per_login_per_day,
                    k.fees_paise,
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                (OperatorKind::ChoiceCentre, 1, 1, 1, 2, 1, 2.0, 6_000),
                (OperatorKind::Csc, 2, 0, 2, 5, 2, 2.5, 0),
                (OperatorKind::Other, 1, 0, 0, 0, 0, 0.0, 0),
            ],
            "{}",
            database.backend
        );
        assert_eq!(
            (
                report.self_service_cards,
                report.unregistered_cards,
                report.total_cards
            ),
            (1, 1, 9)
        );
        let own = report
            .rows
            .iter()
            .find(|r| r.self_service)
            .expect("the self-service row");
        assert_eq!(
            (own.operator_id.as_str(), own.centre_id.as_str()),
            ("APP", "")
        );
    }
}

#[tokio::test]
async fn the_daily_report_shows_each_sub_division_and_block_against_its_target() {
    for database in testing::all_databases().await {
        let mut registry = beneficiary::spawn(&database).await;
        let campaign = drive_day(&mut registry).await;
        let report = registry
            .client
            .campaign_progress(pb::CampaignProgressRequest {
                campaign_id: campaign.clone(),
                date: None,
            })
            .await
            .expect("progress")
            .into_inner();
        assert_eq!(report.date, Some(date_to_proto(today_in_india())));
        assert_eq!(
            (
                report.eligible,
                report.carded_at_start,
                report.carded_now,
                report.cards_today,
                report.cards_to_date,
                report.self_service_today,
                report.cards_issued,
            ),
            (30, 8, 17, 9, 9, 1, 5),
            "{}: the district counts every card; the campaign its camps'",
            database.backend
        );
        let blocks: Vec<_> = report
            .blocks
            .iter()
            .map(|b| {
                (
                    b.block_code.as_str(),
                    b.name.as_str(),
                    b.sub_division_code.as_str(),
                    (b.eligible, b.carded_at_start, b.carded_now),
                    (b.cards_today, b.cards_to_date, b.self_service_to_date),
                    b.target_cards,
                    b.nodal_officer.as_ref().map(|o| o.name.as_str()),
                )
            })
            .collect();
        assert_eq!(
            blocks,
            [
                (
                    "10-230-01",
                    "Chapra",
                    "10-230-SD1",
                    (10, 2, 5),
                    (3, 3, 0),
                    10,
                    Some("Ajay Kumar")
                ),
                (
                    "10-230-02",
                    "Revelganj",
                    "10-230-SD1",
                    (10, 5, 7),
                    (2, 2, 0),
                    7,
                    Some("Priya Sinha")
                ),
                (
                    "10-230-03",
                    "Sonpur",
                    "10-230-SD3",
                    (5, 0, 1),
                    (1, 1, 1),
                    7,
                    None
                ),
                ("10-230-04", "", "", (5, 1, 4), (3, 3, 0), 6, None),
            ],
            "blocks without their own target share the rest by their uncarded people"
        );
        let sub_divisions: Vec<_> = report
            .sub_divisions
            .iter()
            .map(|s| {
                (
                    s.sub_division_code.as_str(),
                    s.name.as_str(),
                    (s.eligible, s.carded_at_start, s.carded_now),
                    (s.cards_today, s.cards_to_date, s.target_cards),
                )
            })
            .collect();
        assert_eq!(
            sub_divisions,
            [
                ("", "", (5, 1, 4), (3, 3, 6)),
                ("10-230-SD1", "Sadar", (20, 7, 12), (5, 5, 17)),
                ("10-230-SD3", "Sonpur", (5, 0, 1), (1, 1, 7)),
            ]
        );
        let gaps: Vec<_> = report
            .camps_without_operator
            .iter()
            .map(|c| {
                (
                    c.camp_id.as_str(),
                    c.assigned_operator_id.as_str(),
                    c.stood_in.clone(),
                    c.cards_today,
                )
            })
            .collect();
        assert_eq!(
            gaps,
            [
                ("CAMP-2", "OP-C", vec!["OP-D".to_owned()], 2),
                ("CAMP-3", "OP-E", Vec::new(), 0),
            ]
        );
        assert_eq!(report.top_blocks, ["10-230-04", "10-230-02"]);
        assert_eq!(report.bottom_blocks, ["10-230-03", "10-230-01"]);
        let didis: Vec<_> = report
            .mobilisers
            .iter()
            .map(|m| {
                (
                    m.mobiliser_id.as_str(),
                    m.name.as_str(),
                    m.families,
                    m.cards,
                )
            })
            .collect();
        assert_eq!(didis, [("M1", "Rinku Devi", 2, 3)]);
        let days: Vec<_> = report
            .days
            .iter()
            .map(|d| (d.cards_issued, d.active_camps, d.camps_run_by_standby))
            .collect();
        assert_eq!(days, [(0, 0, 0), (5, 2, 1)], "yesterday and today");

        let outside = registry
            .client
            .campaign_progress(pb::CampaignProgressRequest {
                campaign_id: campaign,
                date: Some(date_to_proto(today_in_india() + chrono::Duration::days(5))),
            })
            .await
            .expect_err("a day after the drive");
        assert_eq!(outside.code(), Code::InvalidArgument);
        assert_eq!(bad_fields(&outside), ["date"]);
    }
}

#[tokio::test]
async fn a_card_names_its_channel_and_mobiliser_and_inactive_logins_cannot_card() {
    for database in testing::all_databases().await {
        let mut registry = beneficiary::spawn(&database).await;
        drive_day(&mut registry).await;
        let asha = registry.first_member("F01-1").await;
        assert_eq!(
            (
                pb::CardChannel::try_from(asha.card_channel).expect("channel"),
                asha.card_mobiliser_id.as_str()
            ),
            (pb::CardChannel::Operator, "M1")
        );
        let own = registry.first_member("F03-1").await;
        assert_eq!(own.card_channel, pb::CardChannel::SelfService as i32);
        let imported = registry.first_member("F02-6").await;
        assert_eq!(imported.card_channel, pb::CardChannel::Imported as i32);

        let someone = registry.first_member("F02-3").await;
        let inactive = registry
            .client
            .issue_card(card_request(
                "inactive",
                &someone.beneficiary_id,
                900,
                "CC-2",
                "CENTRE-CC-2",
            ))
            .await
            .expect_err("an inactive login");
        assert_eq!(inactive.code(), Code::FailedPrecondition);
        assert!(
            inactive.message().contains("CC-2 is inactive"),
            "{}",
            inactive.message()
        );

        let unknown = registry
            .client
            .issue_card(pb::IssueCardRequest {
                mobiliser_id: "M-NOBODY".into(),
                ..card_request(
                    "unknown-didi",
                    &someone.beneficiary_id,
                    901,
                    "OP-A",
                    "CAMP-1",
                )
            })
            .await
            .expect_err("an unknown mobiliser");
        assert_eq!(bad_fields(&unknown), ["mobiliser_id"]);

        let own_with_centre = registry
            .client
            .issue_card(pb::IssueCardRequest {
                self_service: true,
                kyc_method: pb::KycMethod::AadhaarBiometric as i32,
                ..card_request("own-centre", &someone.beneficiary_id, 902, "APP", "CAMP-1")
            })
            .await
            .expect_err("a self-service card at a centre by fingerprint");
        assert_eq!(bad_fields(&own_with_centre), ["centre_id", "kyc_method"]);
        let no_centre = registry
            .client
            .issue_card(card_request(
                "no-centre",
                &someone.beneficiary_id,
                903,
                "OP-A",
                "",
            ))
            .await
            .expect_err("an operator's card needs a centre");
        assert_eq!(bad_fields(&no_centre), ["centre_id"]);
    }
}

#[tokio::test]
async fn coverage_compares_the_cards_held_at_the_end_of_two_policy_years() {
    for database in testing::all_databases().await {
        let mut registry = beneficiary::spawn(&database).await;
        let day = |y, m, d| {
            Some(date_to_proto(
                chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date"),
            ))
        };
        let dated = |family: &str, issued_on| pb::EligibilityRow {
            existing_card_number: format!("BIS-{family}"),
            card_issued_on: issued_on,
            ..saran_row_in("10-230-01", family, &format!("{family} head"), 1970)
        };
        let rows = vec![
            dated("Y1", day(2021, 6, 1)),
            dated("Y2", day(2022, 3, 31)),
            dated("Y3", day(2022, 4, 1)),
            dated("Y4", day(2023, 5, 1)),
            dated("Y5", None),
            saran_row_in("10-230-01", "Y6", "Y6 head", 1970),
            dated(
                "Y7",
                Some(date_to_proto(today_in_india() + chrono::Duration::days(3))),
            ),
        ];
        let import = registry.import("years", rows).await.expect("import");
        let rejects: Vec<_> = import
            .rejects
            .iter()
            .map(|r| (r.row_number, r.field.as_str()))
            .collect();
        assert_eq!(
            rejects,
            [(7, "card_issued_on")],
            "a card cannot be issued in the future"
        );
        let compare = |first_year, second_year| pb::CoverageReportRequest {
            district_code: "10-230".into(),
            compare_years: Some(pb::PolicyYearComparison {
                first_year,
                second_year,
            }),
            ..Default::default()
        };
        let report = registry
            .client
            .coverage_report(compare(2021, 2022))
            .await
            .expect("coverage")
            .into_inner();
        let years = report
            .total
            .and_then(|t| t.year_on_year)
            .expect("comparison");
        assert_eq!(
            years,
            pb::YearOnYear {
                first_year: "2021-22".into(),
                carded_by_first_year_end: 3,
                second_year: "2022-23".into(),
                carded_by_second_year_end: 4,
                change: 1,
            },
            "{}: Y1, Y2 and the undated Y5 by March 2022; Y3 in 2022-23",
            database.backend
        );
        let backwards = registry
            .client
            .coverage_report(compare(2022, 2021))
            .await
            .expect_err("years out of order");
        assert_eq!(bad_fields(&backwards), ["compare_years.second_year"]);
    }
}

#[tokio::test]
async fn areas_hang_from_the_right_parent_and_refused_rows_are_numbered() {
    for database in testing::all_databases().await {
        let mut registry = beneficiary::spawn(&database).await;
        let mut areas = saran_areas();
        areas.push(area("10-230-09", AreaLevel::Block, "Garkha", "10-230-SD9"));
        areas.push(area(
            "10-230-03-002",
            AreaLevel::Village,
            "Bhairopur",
            "10-230-SD3",
        ));
        areas.push(area("22-387-01", AreaLevel::Block, "Durg", "10-230-SD1"));
        let reply = registry
            .client
            .upsert_areas(pb::UpsertAreasRequest {
                idempotency_key: "areas".into(),
                areas: areas.clone(),
            })
            .await
            .expect("upsert")
            .into_inner();
        let rejects: Vec<_> = reply
            .rejects
            .iter()
            .map(|r| (r.row_number, r.field.as_str()))
            .collect();
        assert_eq!(
            rejects,
            [(8, "parent_code"), (9, "parent_code"), (10, "parent_code")],
            "{}",
            database.backend
        );
        assert_eq!((reply.created, reply.updated), (7, 0));

        let mut renamed = saran_areas();
        renamed[1].name = "Sadar (Chapra)".into();
        let again = registry.upsert_areas("rename", renamed).await;
        assert_eq!(
            (again.created, again.updated),
            (0, 1),
            "only the renamed one changes"
        );
        let sub_divisions = registry
            .client
            .list_areas(pb::ListAreasRequest {
                district_code: "10-230".into(),
                level: AreaLevel::SubDivision as i32,
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner()
            .areas;
        let names: Vec<_> = sub_divisions.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["Sadar (Chapra)", "Sonpur"]);
    }
}

#[tokio::test]
async fn concurrent_upserts_of_one_new_login_all_succeed_and_leave_one_login() {
    for database in testing::all_databases().await {
        let registry = beneficiary::spawn(&database).await;
        let calls = (0..8).map(|i| {
            let mut client = registry.client.clone();
            async move {
                client
                    .upsert_operators(pb::UpsertOperatorsRequest {
                        idempotency_key: format!("race-{i}"),
                        operators: vec![login(
                            "CG-NEW-0001",
                            OperatorKind::ChoiceCentre,
                            OperatorStatus::Active,
                            1_000 + i,
                        )],
                    })
                    .await
            }
        });
        for reply in futures::future::join_all(calls).await {
            reply.expect("every upsert succeeds");
        }
        let logins = registry
            .client
            .clone()
            .list_operators(pb::ListOperatorsRequest {
                district_code: "10-230".into(),
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner()
            .operators;
        assert_eq!(logins.len(), 1, "{}", database.backend);
        assert!((1_000..1_008).contains(&logins[0].fee_per_card_paise));
    }
}

#[tokio::test]
async fn a_beneficiary_app_user_makes_their_own_card_and_nothing_else() {
    let mut flow = preauth::spawn("sqlite", quick_settings()).await;
    let gateway = gw::spawn(&flow, "sqlite").await;
    let app = gateway
        .create_partner(g::Partner {
            name: "Ayushman app".into(),
            kind: g::PartnerKind::BeneficiaryApp as i32,
            home_state_code: "10".into(),
            scopes: vec!["beneficiary.read".into(), "beneficiary.write".into()],
            rate_limit_per_second: 100,
            rate_limit_burst: 100,
            ..Default::default()
        })
        .await;
    let person_id = gateway
        .user(&app, "the app's people", &[Role::Beneficiary])
        .await;
    let refused_role = gateway
        .admin()
        .await
        .create_user(gw::with_key(
            g::CreateUserRequest {
                idempotency_key: "operator-in-app".into(),
                user: Some(g::User {
                    partner_id: app.partner_id.clone(),
                    name: "an operator".into(),
                    roles: vec![Role::Operator as i32],
                    ..Default::default()
                }),
            },
            gw::ADMIN_KEY,
        ))
        .await
        .expect_err("an app's users act only for themselves");
    assert_eq!(bad_fields(&refused_role), ["user.roles"]);

    flow.people
        .import(
            "app-people",
            vec![saran_row_in("10-230-01", "APP-FAM-1", "Sita Devi", 1990)],
        )
        .await
        .expect("import");
    let sita = flow.people.first_member("APP-FAM-1").await;
    let mut through =
        pb::beneficiary_registry_service_client::BeneficiaryRegistryServiceClient::new(
            gateway.channel().await,
        );
    let card = through
        .issue_card(as_user(
            pb::IssueCardRequest {
                idempotency_key: "my-card".into(),
                beneficiary_id: sita.beneficiary_id.clone(),
                aadhaar: aadhaar(77),
                kyc_method: pb::KycMethod::AadhaarFace as i32,
                operator: Some(operator("ignored")),
                centre_id: String::new(),
                campaign_id: String::new(),
                kyc_proof: String::new(),
                mobiliser_id: String::new(),
                self_service: false,
            },
            &app.key,
            &person_id,
        ))
        .await
        .expect("a self-service card through the app")
        .into_inner()
        .beneficiary
        .expect("beneficiary");
    assert_eq!(card.card_channel, pb::CardChannel::SelfService as i32);

    let campaign = through
        .create_campaign(as_user(
            pb::CreateCampaignRequest::default(),
            &app.key,
            &person_id,
        ))
        .await
        .expect_err("a beneficiary runs no campaign");
    assert_eq!(campaign.code(), Code::PermissionDenied);

    let portal = gateway
        .partner(
            "Bihar portal",
            "10",
            &["beneficiary.read", "beneficiary.write"],
        )
        .await;
    let csc = gateway
        .user(&portal, "CSC operator", &[Role::Operator])
        .await;
    let pretending = through
        .issue_card(as_user(
            pb::IssueCardRequest {
                self_service: true,
                ..card_request("pretend", &sita.beneficiary_id, 78, "x", "")
            },
            &portal.key,
            &csc,
        ))
        .await
        .expect_err("an operator cannot make a self-service card");
    assert_eq!(bad_fields(&pretending), ["self_service", "centre_id"]);
}
