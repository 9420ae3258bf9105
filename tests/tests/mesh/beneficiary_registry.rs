//! The beneficiary registry over real gRPC, on SQLite and (with TEST_DATABASE_URL)
//! PostgreSQL: imports with exact rejects, search, cards with e-KYC, ABHA links,
//! eligibility, and wallets that never overdraw under concurrency.

use ayushman_platform::testing;
use ayushman_proto::{
    beneficiary::v1::{self as pb, search_beneficiaries_request::Query},
    common::v1::{DateRange, Location},
};
use mesh_tests::{
    bad_fields,
    beneficiary::{self, aadhaar, operator, saran_row},
    facility::date,
};
use tonic::Code;

#[tokio::test]
async fn an_import_accepts_valid_rows_reports_each_reject_and_is_idempotent() {
    for database in testing::all_databases().await {
        let mut registry = beneficiary::spawn(&database).await;
        let mut bad_aadhaar = saran_row("RC-1001", "Sunita Devi", 1982);
        bad_aadhaar.aadhaar = "234567890125".into();
        let mut bad_district = saran_row("RC-1002", "Ramesh Rai", 1975);
        bad_district.location = Some(Location {
            state_code: "10".into(),
            district_code: "22-414".into(),
            ..Default::default()
        });
        let mut not_covered = saran_row("RC-1003", "Meera", 1990);
        not_covered.source_list = pb::SourceList::Nfsa as i32;
        not_covered.location = Some(Location {
            state_code: "24".into(),
            district_code: "24-438".into(),
            ..Default::default()
        });
        not_covered.eligibility_category = "NFSA-PHH".into();
        let rows = vec![
            saran_row("RC-1000", "Lalita Devi", 1952),
            saran_row("RC-1000", "Mohan Prasad", 1950),
            bad_aadhaar,
            bad_district,
            not_covered,
            saran_row("RC-1000", "Lalita Devi", 1952),
        ];
        let summary = registry
            .import("saran-july", rows.clone())
            .await
            .expect("import");
        assert_eq!(
            (
                summary.rows_received,
                summary.accepted,
                summary.duplicates,
                summary.rejected,
                summary.families_created
            ),
            (6, 2, 1, 3, 1),
            "{}",
            database.backend
        );
        let rejects: Vec<_> = summary
            .rejects
            .iter()
            .map(|r| (r.row_number, r.field.as_str(), r.reason.as_str()))
            .collect();
        assert_eq!(
            rejects,
            [
                (3, "aadhaar", "Aadhaar check digit is wrong"),
                (
                    4,
                    "location.district_code",
                    "unknown district \"22-414\": district codes look like 10-230 and start with the state code"
                ),
                (
                    5,
                    "eligibility_category",
                    "no scheme covers NFSA families in state 24"
                ),
            ]
        );
        let replay = registry
            .import("saran-july", rows.clone())
            .await
            .expect("same import again");
        assert_eq!(
            replay, summary,
            "repeating a finished import returns its first result"
        );
        let again = registry
            .import("saran-july-again", rows)
            .await
            .expect("re-import");
        assert_eq!(
            (again.accepted, again.duplicates, again.rejected),
            (0, 3, 3),
            "re-importing creates no duplicates"
        );
    }
}

/// PostgreSQL takes imports through COPY as CSV: quotes, commas, empty and
/// missing values, and card dates must read back as they were sent.
#[tokio::test]
async fn an_imported_person_reads_back_exactly_as_sent() {
    for database in testing::all_databases().await {
        let mut registry = beneficiary::spawn(&database).await;
        let mut row = saran_row("RC-3000", "Rani \"Munni\" D'Souza, Devi", 1961);
        row.aadhaar = aadhaar(3000);
        row.existing_card_number = "PMJAY-10-3000".into();
        row.card_issued_on = Some(date(2024, 2, 29));
        let summary = registry
            .import("quoted", vec![row.clone()])
            .await
            .expect("import");
        assert_eq!(summary.accepted, 1, "{}", database.backend);
        let family = registry
            .client
            .get_family(pb::GetFamilyRequest {
                family_id: "RC-3000".into(),
            })
            .await
            .expect("family")
            .into_inner()
            .family
            .expect("a family");
        let [person] = family.members.as_slice() else {
            panic!("one member on {}: {:?}", database.backend, family.members);
        };
        assert_eq!(
            (
                person.name.as_str(),
                person.year_of_birth,
                person.aadhaar_last4.as_str(),
                person.abha_number.as_str(),
                person.card_number.as_str(),
                person.card_status,
                person.location.as_ref().map(|l| l.village_code.as_str()),
                person.scheme_codes.as_slice(),
            ),
            (
                "Rani \"Munni\" D'Souza, Devi",
                1961,
                &row.aadhaar[8..],
                "",
                "PMJAY-10-3000",
                pb::CardStatus::Issued as i32,
                Some(""),
                ["PMJAY".to_owned()].as_slice(),
            ),
            "{}",
            database.backend
        );
        let again = registry
            .import("quoted-again", vec![row])
            .await
            .expect("re-import");
        assert_eq!(
            (again.accepted, again.duplicates),
            (0, 1),
            "{}",
            database.backend
        );
    }
}

/// Two uploads of the same list at once (a district officer's double click)
/// insert each person once: on PostgreSQL the second COPY meets the first's
/// rows, rolls back to its savepoint and counts them as duplicates.
#[tokio::test]
async fn the_same_list_imported_twice_at_once_adds_each_person_once() {
    for database in testing::all_databases().await {
        let registry = beneficiary::spawn(&database).await;
        let rows: Vec<pb::EligibilityRow> = (0..3_000)
            .map(|i| {
                saran_row(
                    &format!("RC-{:05}", 40_000 + i / 4),
                    &format!("Member {i}"),
                    1970,
                )
            })
            .collect();
        let imports = ["twice-a", "twice-b"].map(|key| {
            let mut client = registry.client.clone();
            let rows = rows.clone();
            tokio::spawn(async move { beneficiary::import_through(&mut client, key, rows).await })
        });
        let mut accepted = 0;
        let mut duplicates = 0;
        for import in imports {
            let summary = import.await.expect("joins").expect("import");
            accepted += summary.accepted;
            duplicates += summary.duplicates;
        }
        assert_eq!(
            (accepted, duplicates),
            (3_000, 3_000),
            "{}",
            database.backend
        );
    }
}

#[tokio::test]
async fn a_hundred_thousand_row_import_reports_exactly_its_bad_rows() {
    let database = testing::sqlite();
    let mut registry = beneficiary::spawn(&database).await;
    let rows: Vec<pb::EligibilityRow> = (0..100_000)
        .map(|i| {
            let mut row = saran_row(
                &format!("RC-{:06}", i / 4),
                &format!("Member {i}"),
                1950 + (i % 60),
            );
            if i % 100 == 37 {
                row.year_of_birth = 1800;
            }
            row
        })
        .collect();
    let summary = registry.import("saran-full", rows).await.expect("import");
    assert_eq!(
        (summary.rows_received, summary.accepted, summary.rejected),
        (100_000, 99_000, 1_000)
    );
    let bad_rows: Vec<i64> = summary.rejects.iter().map(|r| r.row_number).collect();
    let expected: Vec<i64> = (0..100_000)
        .filter(|i| i % 100 == 37)
        .map(|i| i + 1)
        .collect();
    assert_eq!(bad_rows, expected);
    assert!(summary.rejects.iter().all(|r| r.field == "year_of_birth"));
}

#[tokio::test]
async fn people_are_found_by_name_family_aadhaar_abha_and_card() {
    for database in testing::all_databases().await {
        let mut registry = beneficiary::spawn(&database).await;
        let person = registry.carded_person("RC-2000", "Sita Kumari", 4242).await;
        registry
            .client
            .link_abha(pb::LinkAbhaRequest {
                idempotency_key: "abha".into(),
                beneficiary_id: person.beneficiary_id.clone(),
                abha_number: "91234567890123".into(),
                abha_address: "Sita.Kumari@abdm".into(),
            })
            .await
            .expect("link ABHA");
        let find = |query: Query| {
            let mut client = registry.client.clone();
            async move {
                let reply = client
                    .search_beneficiaries(pb::SearchBeneficiariesRequest {
                        query: Some(query),
                        ..Default::default()
                    })
                    .await
                    .expect("search");
                reply
                    .into_inner()
                    .beneficiaries
                    .into_iter()
                    .map(|b| b.beneficiary_id)
                    .collect::<Vec<_>>()
            }
        };
        let id = vec![person.beneficiary_id.clone()];
        assert_eq!(
            find(Query::Name(pb::NameQuery {
                name_prefix: "sita".into(),
                district_code: "10-230".into()
            }))
            .await,
            id,
            "{}",
            database.backend
        );
        assert_eq!(find(Query::FamilyId("RC-2000".into())).await, id);
        assert_eq!(find(Query::Aadhaar(aadhaar(4242))).await, id);
        assert_eq!(find(Query::Abha("91-2345-6789-0123".into())).await, id);
        assert_eq!(find(Query::Abha("sita.kumari@abdm".into())).await, id);
        assert_eq!(
            find(Query::CardNumber(person.card_number.clone())).await,
            id
        );
        assert!(
            find(Query::Name(pb::NameQuery {
                name_prefix: "sita".into(),
                district_code: "22-414".into()
            }))
            .await
            .is_empty()
        );

        let fetched = registry
            .client
            .get_beneficiary(pb::GetBeneficiaryRequest {
                beneficiary_id: person.beneficiary_id.clone(),
            })
            .await
            .expect("get");
        let fetched = fetched.into_inner().beneficiary.expect("beneficiary");
        assert_eq!(fetched.abha_number, "91-2345-6789-0123");
        assert_eq!(fetched.aadhaar_last4, aadhaar(4242)[8..]);
    }
}

#[tokio::test]
async fn a_name_search_pages_through_every_match_once_in_name_order() {
    for database in testing::all_databases().await {
        let mut registry = beneficiary::spawn(&database).await;
        let names = [
            "Sunil Rai",
            "Sunita Devi",
            "Sunaina Kumari",
            "Suman Das",
            "Sunita Bai",
            "Sundar Lal",
            "Ramesh Sahu",
        ];
        let rows = names
            .iter()
            .enumerate()
            .map(|(i, name)| saran_row(&format!("RC-N{i}"), name, 1970 + i as i32))
            .collect();
        registry.import("names", rows).await.expect("import");
        let mut found = Vec::new();
        let mut token = String::new();
        loop {
            let page = registry
                .client
                .search_beneficiaries(pb::SearchBeneficiariesRequest {
                    query: Some(Query::Name(pb::NameQuery {
                        name_prefix: "SUN".into(),
                        district_code: "10-230".into(),
                    })),
                    page_size: 2,
                    page_token: token.clone(),
                })
                .await
                .expect("search")
                .into_inner();
            found.extend(page.beneficiaries.into_iter().map(|b| b.name));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        assert_eq!(
            found,
            [
                "Sunaina Kumari",
                "Sundar Lal",
                "Sunil Rai",
                "Sunita Bai",
                "Sunita Devi"
            ],
            "{}",
            database.backend
        );
    }
}

#[tokio::test]
async fn a_card_is_issued_after_e_kyc_once_and_failures_say_why() {
    let database = testing::sqlite();
    let mut registry = beneficiary::spawn(&database).await;
    let person = registry.carded_person("RC-3000", "Geeta Devi", 77).await;
    assert_eq!(person.card_status, pb::CardStatus::Issued as i32);
    assert!(
        person.card_number.starts_with("C10-"),
        "{}",
        person.card_number
    );

    let reprint = registry
        .client
        .issue_card(pb::IssueCardRequest {
            mobiliser_id: String::new(),
            self_service: false,
            kyc_proof: String::new(),
            idempotency_key: "reprint".into(),
            beneficiary_id: person.beneficiary_id.clone(),
            aadhaar: aadhaar(77),
            kyc_method: pb::KycMethod::AadhaarFace as i32,
            operator: Some(operator("SELF")),
            centre_id: "MOBILE".into(),
            campaign_id: String::new(),
        })
        .await
        .expect("re-print")
        .into_inner();
    assert_eq!(
        reprint.beneficiary.map(|b| b.card_number),
        Some(person.card_number.clone())
    );

    registry
        .import("rc-3001", vec![saran_row("RC-3001", "Kamla Devi", 1970)])
        .await
        .expect("import");
    let kamla = registry.family("RC-3001").await.members.remove(0);
    let card = |aadhaar: String, method: pb::KycMethod| pb::IssueCardRequest {
        mobiliser_id: String::new(),
        self_service: false,
        kyc_proof: String::new(),
        idempotency_key: format!("card-{aadhaar}-{}", method as i32),
        beneficiary_id: kamla.beneficiary_id.clone(),
        aadhaar,
        kyc_method: method as i32,
        operator: Some(operator("CSC-SARAN-017")),
        centre_id: "CSC-10230-017".into(),
        campaign_id: String::new(),
    };
    let wrong = registry
        .client
        .issue_card(card("234567890125".into(), pb::KycMethod::AadhaarOtp))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&wrong), ["aadhaar"]);
    // A test number the offline provider is configured to refuse.
    let deactivated = "999999990019".to_owned();
    let refused = registry
        .client
        .issue_card(card(deactivated, pb::KycMethod::AadhaarOtp))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(
        refused.message(),
        "e-KYC failed: Aadhaar is deactivated; the beneficiary must visit an Aadhaar centre"
    );
    let taken = registry
        .client
        .issue_card(card(aadhaar(77), pb::KycMethod::AadhaarOtp))
        .await
        .unwrap_err();
    assert_eq!(
        taken.code(),
        Code::AlreadyExists,
        "Geeta's Aadhaar cannot card Kamla"
    );
}

#[tokio::test]
async fn one_abha_per_beneficiary() {
    let database = testing::sqlite();
    let mut registry = beneficiary::spawn(&database).await;
    let first = registry.carded_person("RC-4000", "Asha", 1).await;
    let second = registry.carded_person("RC-4001", "Usha", 2).await;
    let link = |id: &str, key: &str, number: &str| pb::LinkAbhaRequest {
        idempotency_key: key.into(),
        beneficiary_id: id.into(),
        abha_number: number.into(),
        abha_address: String::new(),
    };
    registry
        .client
        .link_abha(link(&first.beneficiary_id, "a", "91-2345-6789-0123"))
        .await
        .expect("link");
    let other = registry
        .client
        .link_abha(link(&first.beneficiary_id, "b", "91-2345-6789-0999"))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::AlreadyExists);
    let shared = registry
        .client
        .link_abha(link(&second.beneficiary_id, "c", "91-2345-6789-0123"))
        .await
        .unwrap_err();
    assert_eq!(shared.code(), Code::AlreadyExists);
    let malformed = registry
        .client
        .link_abha(link(&second.beneficiary_id, "d", "12"))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&malformed), ["abha_number"]);
}

#[tokio::test]
async fn eligibility_names_the_home_state_schemes_and_balances() {
    for database in testing::all_databases().await {
        let mut registry = beneficiary::spawn(&database).await;
        registry
            .import(
                "rc-5000",
                vec![
                    saran_row("RC-5000", "Bhola Ram", 1950),
                    saran_row("RC-5000", "Phool Devi", 1960),
                ],
            )
            .await
            .expect("import");
        let family = registry.family("RC-5000").await;
        let bhola = family
            .members
            .iter()
            .find(|m| m.name == "Bhola Ram")
            .expect("Bhola")
            .clone();
        let uncarded = registry
            .client
            .verify_eligibility(pb::VerifyEligibilityRequest {
                beneficiary_id: bhola.beneficiary_id.clone(),
                ..Default::default()
            })
            .await
            .expect("verify")
            .into_inner();
        assert_eq!(uncarded.home_state_code, "10");
        let answers: Vec<_> = uncarded
            .schemes
            .iter()
            .map(|s| (s.scheme_code.as_str(), s.eligible, s.reason))
            .collect();
        assert_eq!(
            answers,
            [
                ("PMJAY", false, pb::IneligibilityReason::NoCard as i32),
                (
                    "PMJAY-70PLUS",
                    false,
                    pb::IneligibilityReason::NoCard as i32
                )
            ],
            "a 70+ member also has the senior top-up"
        );
        let wallets: Vec<_> = family
            .wallets
            .iter()
            .map(|w| (w.scheme_code.as_str(), w.available_paise))
            .collect();
        assert_eq!(
            wallets,
            [("PMJAY", 5_00_000_00), ("PMJAY-70PLUS", 5_00_000_00)],
            "{}",
            database.backend
        );

        let maa = registry
            .client
            .verify_eligibility(pb::VerifyEligibilityRequest {
                beneficiary_id: bhola.beneficiary_id,
                scheme_code: "RJ-MAA".into(),
                ..Default::default()
            })
            .await
            .expect("verify")
            .into_inner();
        assert_eq!(
            maa.schemes[0].reason,
            pb::IneligibilityReason::NotInScheme as i32
        );
    }
}

#[tokio::test]
async fn eligibility_reads_the_wallet_of_the_policy_year_of_treatment() {
    use ayushman_platform::convert::{date_to_proto, today_in_india};
    for database in testing::all_databases().await {
        let mut registry = beneficiary::spawn(&database).await;
        let person = registry.carded_person("RC-5100", "Kamla", 51).await;
        registry
            .block("pa-51", &person.beneficiary_id, "PA-51", 1_00_000_00)
            .await
            .expect("block");
        let today = today_in_india();
        let years = [
            ("this year", today, 4_00_000_00),
            ("a year on", today + chrono::Months::new(12), 5_00_000_00),
            (
                "a year before",
                today - chrono::Months::new(12),
                5_00_000_00,
            ),
        ];
        for (when, date, available) in years {
            for (id, card) in [
                (person.beneficiary_id.clone(), String::new()),
                (String::new(), person.card_number.clone()),
            ] {
                let answer = registry
                    .client
                    .verify_eligibility(pb::VerifyEligibilityRequest {
                        beneficiary_id: id,
                        card_number: card,
                        scheme_code: "PMJAY".into(),
                        treatment_date: Some(date_to_proto(date)),
                    })
                    .await
                    .expect("verify")
                    .into_inner();
                assert_eq!(
                    answer.beneficiary.expect("person").beneficiary_id,
                    person.beneficiary_id
                );
                let wallets: Vec<_> = answer.schemes[0]
                    .wallets
                    .iter()
                    .map(|w| (w.available_paise, w.blocked_paise))
                    .collect();
                assert_eq!(
                    wallets,
                    [(available, 5_00_000_00 - available)],
                    "{when} on {}",
                    database.backend
                );
            }
        }
        let unknown = registry
            .client
            .verify_eligibility(pb::VerifyEligibilityRequest {
                card_number: "NO-SUCH-CARD".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(
            (unknown.code(), unknown.message()),
            (Code::NotFound, "no beneficiary holds card NO-SUCH-CARD")
        );
    }
}

#[tokio::test]
async fn blocks_consumes_and_releases_move_the_wallet_and_write_the_ledger() {
    for database in testing::all_databases().await {
        let mut registry = beneficiary::spawn(&database).await;
        let person = registry.carded_person("RC-6000", "Shanti", 6).await;
        let blocked = registry
            .block("pa-1", &person.beneficiary_id, "PA-1", 1_00_000_00)
            .await
            .expect("block");
        let wallet = blocked.wallet.clone().expect("wallet");
        assert_eq!(
            (wallet.blocked_paise, wallet.available_paise),
            (1_00_000_00, 4_00_000_00)
        );
        let held = |reply: &pb::BlockAmountResponse| -> Vec<(String, i64)> {
            reply
                .holds
                .iter()
                .map(|h| (h.wallet_id.clone(), h.held_paise))
                .collect()
        };
        assert_eq!(
            held(&blocked),
            [(wallet.wallet_id.clone(), 1_00_000_00)],
            "{}",
            database.backend
        );
        let enhanced = registry
            .block("pa-1-enhance", &person.beneficiary_id, "PA-1", 20_000_00)
            .await
            .expect("enhancement");
        assert_eq!(
            held(&enhanced),
            [(wallet.wallet_id.clone(), 1_20_000_00)],
            "{}: the enhancement's reply holds both blocks",
            database.backend
        );

        let consumed = registry
            .client
            .consume_amount(pb::ConsumeAmountRequest {
                idempotency_key: "cl-1".into(),
                preauth_id: "PA-1".into(),
                claim_id: "CL-1".into(),
                amount_paise: 95_000_00,
                release_remainder: true,
                reason: "claim approved with deductions".into(),
                actor: None,
            })
            .await
            .expect("consume")
            .into_inner();
        let wallet = consumed.wallet.expect("wallet");
        assert_eq!(
            (
                wallet.blocked_paise,
                wallet.consumed_paise,
                wallet.available_paise
            ),
            (0, 95_000_00, 4_05_000_00),
            "{}",
            database.backend
        );
        let kinds: Vec<_> = consumed
            .entries
            .iter()
            .map(|e| (e.kind, e.amount_paise))
            .collect();
        assert_eq!(
            kinds,
            [
                (pb::LedgerEntryKind::Consume as i32, 95_000_00),
                (pb::LedgerEntryKind::Release as i32, 25_000_00)
            ]
        );

        registry
            .block("pa-2", &person.beneficiary_id, "PA-2", 10_000_00)
            .await
            .expect("block");
        let released = registry
            .client
            .release_amount(pb::ReleaseAmountRequest {
                idempotency_key: "cancel-2".into(),
                preauth_id: "PA-2".into(),
                ..Default::default()
            })
            .await
            .expect("release")
            .into_inner();
        assert_eq!(
            released.wallet.map(|w| w.available_paise),
            Some(4_05_000_00)
        );

        let ledger = registry
            .client
            .list_ledger_entries(pb::ListLedgerEntriesRequest {
                wallet_id: wallet.wallet_id.clone(),
                ..Default::default()
            })
            .await
            .expect("ledger")
            .into_inner();
        let movements: Vec<_> = ledger
            .entries
            .iter()
            .map(|e| (e.kind, e.amount_paise, e.available_after_paise))
            .collect();
        assert_eq!(
            movements,
            [
                (pb::LedgerEntryKind::Block as i32, 1_00_000_00, 4_00_000_00),
                (pb::LedgerEntryKind::Block as i32, 20_000_00, 3_80_000_00),
                (pb::LedgerEntryKind::Consume as i32, 95_000_00, 3_80_000_00),
                (pb::LedgerEntryKind::Release as i32, 25_000_00, 4_05_000_00),
                (pb::LedgerEntryKind::Block as i32, 10_000_00, 3_95_000_00),
                (pb::LedgerEntryKind::Release as i32, 10_000_00, 4_05_000_00),
            ]
        );
    }
}

#[tokio::test]
async fn two_hundred_concurrent_blocks_of_thirty_thousand_fit_exactly_sixteen_times_in_five_lakh() {
    for database in testing::all_databases().await {
        let mut registry = beneficiary::spawn(&database).await;
        let person = registry.carded_person("RC-7000", "Parvati", 7).await;
        let attempts = (0..200).map(|i| {
            let mut client = registry.client.clone();
            let id = person.beneficiary_id.clone();
            tokio::spawn(async move {
                client
                    .block_amount(pb::BlockAmountRequest {
                        idempotency_key: format!("concurrent-{i}"),
                        beneficiary_id: id,
                        scheme_code: "PMJAY".into(),
                        preauth_id: format!("PA-C{i:03}"),
                        amount_paise: 30_000_00,
                        ..Default::default()
                    })
                    .await
            })
        });
        let mut succeeded = 0;
        for attempt in attempts.collect::<Vec<_>>() {
            match attempt.await.expect("task") {
                Ok(_) => succeeded += 1,
                Err(status) => assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}"),
            }
        }
        assert_eq!(succeeded, 16, "{}", database.backend);
        let wallet = registry.pmjay_wallet("RC-7000").await;
        assert_eq!(
            (wallet.blocked_paise, wallet.available_paise),
            (16 * 30_000_00, 20_000_00)
        );
        let ledger = registry
            .client
            .list_ledger_entries(pb::ListLedgerEntriesRequest {
                wallet_id: wallet.wallet_id,
                page_size: 1000,
                ..Default::default()
            })
            .await
            .expect("ledger")
            .into_inner();
        assert_eq!(ledger.entries.len(), 16);
        assert_eq!(
            ledger.entries.iter().map(|e| e.amount_paise).sum::<i64>(),
            wallet.blocked_paise
        );
        // Each row's balance is the wallet's after that block, as the
        // locked wallet had it: the sixteen steps down, none seen twice.
        let mut after: Vec<i64> = ledger
            .entries
            .iter()
            .map(|e| e.available_after_paise)
            .collect();
        after.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(
            after,
            (1..=16)
                .map(|k| 5_00_000_00 - k * 30_000_00)
                .collect::<Vec<i64>>(),
            "{}",
            database.backend
        );
    }
}

#[tokio::test]
async fn the_same_block_sent_ten_times_at_once_has_one_effect_and_its_key_serves_no_other() {
    for database in testing::all_databases().await {
        let mut registry = beneficiary::spawn(&database).await;
        let person = registry.carded_person("RC-8000", "Radha", 8).await;
        let id = person.beneficiary_id.clone();
        let block = pb::BlockAmountRequest {
            idempotency_key: "pa-80".into(),
            beneficiary_id: id.clone(),
            scheme_code: "PMJAY".into(),
            preauth_id: "PA-80".into(),
            amount_paise: 50_000_00,
            ..Default::default()
        };
        let repeats = (0..10).map(|_| {
            let mut client = registry.client.clone();
            let block = block.clone();
            tokio::spawn(async move {
                client
                    .block_amount(block)
                    .await
                    .map(tonic::Response::into_inner)
            })
        });
        let mut replies = Vec::new();
        for repeat in repeats.collect::<Vec<_>>() {
            replies.push(repeat.await.expect("task").expect("block"));
        }
        assert!(
            replies.windows(2).all(|w| w[0] == w[1]),
            "every repeat returns the first answer ({})",
            database.backend
        );
        assert_eq!(
            replies[0].wallet.as_ref().map(|w| w.blocked_paise),
            Some(50_000_00)
        );

        let other = registry
            .block("pa-80", &id, "PA-80", 40_000_00)
            .await
            .unwrap_err();
        assert_eq!(other.code(), Code::AlreadyExists, "{}", database.backend);
        registry
            .block("pa-81", &id, "PA-81", 4_50_000_00)
            .await
            .expect("the rest of the cover");
        let repeat = registry
            .client
            .block_amount(block)
            .await
            .expect("a repeat once no cover is left")
            .into_inner();
        assert_eq!(repeat, replies[0], "{}", database.backend);
        let wallet = registry.pmjay_wallet("RC-8000").await;
        assert_eq!(
            (wallet.blocked_paise, wallet.available_paise),
            (5_00_000_00, 0),
            "{}",
            database.backend
        );
    }
}

#[tokio::test]
async fn bad_wallet_requests_are_refused_naming_the_field_or_the_reason() {
    let database = testing::sqlite();
    let mut registry = beneficiary::spawn(&database).await;
    let person = registry.carded_person("RC-9000", "Kanti", 9).await;
    let id = person.beneficiary_id.clone();
    assert_eq!(
        bad_fields(&registry.block("z", &id, "PA-9", 0).await.unwrap_err()),
        ["amount_paise"]
    );
    assert_eq!(
        bad_fields(&registry.block("n", &id, "PA-9", -5).await.unwrap_err()),
        ["amount_paise"]
    );

    let unknown_scheme = registry
        .client
        .block_amount(pb::BlockAmountRequest {
            idempotency_key: "s".into(),
            beneficiary_id: id.clone(),
            scheme_code: "GOLD".into(),
            preauth_id: "PA-9".into(),
            amount_paise: 100,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&unknown_scheme), ["scheme_code"]);

    let expired = registry
        .client
        .block_amount(pb::BlockAmountRequest {
            idempotency_key: "old".into(),
            beneficiary_id: id.clone(),
            scheme_code: "PMJAY".into(),
            preauth_id: "PA-9".into(),
            amount_paise: 100,
            treatment_date: Some(date(2023, 6, 1)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(expired.code(), Code::FailedPrecondition);
    assert_eq!(
        expired.message(),
        "policy year 2023-24 of PMJAY has ended; cover cannot be blocked in it"
    );

    let too_much = registry
        .block("big", &id, "PA-9", 6_00_000_00)
        .await
        .unwrap_err();
    assert_eq!(too_much.code(), Code::FailedPrecondition);
    assert!(
        too_much
            .message()
            .starts_with("only ₹5,00,000 of PMJAY cover is available in 20"),
        "{}",
        too_much.message()
    );

    let nobody = registry
        .block("nobody", "BEN-UNKNOWN", "PA-10", 100)
        .await
        .unwrap_err();
    assert_eq!(nobody.code(), Code::NotFound);
    let no_block = registry
        .client
        .release_amount(pb::ReleaseAmountRequest {
            idempotency_key: "r".into(),
            preauth_id: "PA-NONE".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(no_block.code(), Code::NotFound);
}

#[tokio::test]
async fn coverage_operator_activity_and_campaign_progress_count_cards() {
    for database in testing::all_databases().await {
        let mut registry = beneficiary::spawn(&database).await;
        let mut rows: Vec<_> = (0..10)
            .map(|i| saran_row(&format!("RC-{i}"), &format!("Person {i}"), 1980))
            .collect();
        rows[0].existing_card_number = "LEGACY-0001".into();
        registry.import("coverage", rows).await.expect("import");
        let today =
            ayushman_platform::convert::date_to_proto(ayushman_platform::convert::today_in_india());
        let campaign = registry
            .client
            .create_campaign(pb::CreateCampaignRequest {
                idempotency_key: "drive".into(),
                campaign: Some(pb::Campaign {
                    name: "Saran card drive".into(),
                    state_code: "10".into(),
                    district_code: "10-230".into(),
                    dates: Some(DateRange {
                        start_date: Some(today),
                        end_date: Some(today),
                    }),
                    target_cards: 100,
                    camps: vec![pb::Camp {
                        camp_id: "CAMP-1".into(),
                        venue: "Ration shop 12".into(),
                        operator_id: "OP-A".into(),
                        standby_operator_id: "OP-B".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            })
            .await
            .expect("campaign")
            .into_inner()
            .campaign
            .expect("campaign");
        let members = registry
            .client
            .search_beneficiaries(pb::SearchBeneficiariesRequest {
                query: Some(Query::Name(pb::NameQuery {
                    name_prefix: "Person".into(),
                    district_code: "10-230".into(),
                })),
                page_size: 20,
                ..Default::default()
            })
            .await
            .expect("search")
            .into_inner()
            .beneficiaries;
        for (i, person) in members
            .iter()
            .filter(|m| m.card_number.is_empty())
            .take(3)
            .enumerate()
        {
            registry
                .client
                .issue_card(pb::IssueCardRequest {
                    mobiliser_id: String::new(),
                    self_service: false,
                    kyc_proof: String::new(),
                    idempotency_key: format!("camp-card-{i}"),
                    beneficiary_id: person.beneficiary_id.clone(),
                    aadhaar: aadhaar(100 + i as u64),
                    kyc_method: pb::KycMethod::AadhaarOtp as i32,
                    operator: Some(operator("OP-B")),
                    centre_id: "CAMP-1".into(),
                    campaign_id: campaign.campaign_id.clone(),
                })
                .await
                .expect("card");
        }
        let coverage = registry
            .client
            .coverage_report(pb::CoverageReportRequest {
                state_code: "10".into(),
                level: pb::CoverageLevel::District as i32,
                ..Default::default()
            })
            .await
            .expect("coverage")
            .into_inner();
        let total = coverage.total.expect("total");
        assert_eq!(
            (total.eligible, total.carded, total.carded_basis_points),
            (10, 4, 4000),
            "{}",
            database.backend
        );

        let activity = registry
            .client
            .operator_activity_report(pb::OperatorActivityReportRequest {
                district_code: "10-230".into(),
                ..Default::default()
            })
            .await
            .expect("activity")
            .into_inner();
        assert_eq!((activity.active_operators, activity.total_cards), (1, 3));

        let progress = registry
            .client
            .campaign_progress(pb::CampaignProgressRequest {
                date: None,
                campaign_id: campaign.campaign_id.clone(),
            })
            .await
            .expect("progress")
            .into_inner();
        assert_eq!(
            (
                progress.eligible,
                progress.carded_at_start,
                progress.carded_now,
                progress.cards_issued
            ),
            (10, 1, 4, 3)
        );
        let day = progress.days.first().expect("today");
        assert_eq!(
            (day.cards_issued, day.active_camps, day.camps_run_by_standby),
            (3, 1, 1),
            "the stand-in ran the camp"
        );
    }
}

#[tokio::test]
async fn a_block_computed_from_a_wallet_that_moved_since_it_was_read_writes_nothing() {
    use ayushman_platform::{MeshService, db};
    use beneficiary_registry::store::{
        Migrator,
        entities::{hold, ledger_entry, wallet},
        queries,
    };
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, PaginatorTrait};
    use sea_orm_migration::MigratorTrait;

    for database in testing::all_databases().await {
        let backend = database.backend;
        let connection = db::connect(MeshService::BeneficiaryRegistry, &database.settings)
            .await
            .expect("connect");
        Migrator::up(&connection, None).await.expect("migrate");
        let read = wallet::Model {
            wallet_id: "WAL-F1-PMJAY-2026".into(),
            family_id: "F1".into(),
            beneficiary_id: String::new(),
            scheme_code: "PMJAY".into(),
            kind: "WALLET_KIND_FAMILY_FLOATER".into(),
            policy_year_start: chrono::NaiveDate::from_ymd_opt(2026, 4, 1).expect("a date"),
            cover_paise: 5_00_000_00,
            blocked_paise: 0,
            consumed_paise: 0,
        };
        read.clone()
            .into_active_model()
            .insert(&connection)
            .await
            .expect("the wallet");
        // Another block moved the wallet after this one read it.
        let moved = wallet::Model {
            blocked_paise: 1_00_000_00,
            ..read.clone()
        };
        moved
            .clone()
            .into_active_model()
            .reset_all()
            .update(&connection)
            .await
            .expect("the other block");
        let block = |on: &wallet::Model| {
            let hold = hold::Model {
                preauth_id: "PA-1".into(),
                wallet_id: on.wallet_id.clone(),
                scheme_code: "PMJAY".into(),
                draw_order: 1,
                beneficiary_id: "BEN-1".into(),
                held_paise: 50_000_00,
                consumed_paise: 0,
                released_paise: 0,
            };
            let entry = ledger_entry::Model {
                entry_id: format!("LED-{}", on.blocked_paise),
                wallet_id: on.wallet_id.clone(),
                kind: "LEDGER_ENTRY_KIND_BLOCK".into(),
                amount_paise: 50_000_00,
                preauth_id: "PA-1".into(),
                claim_id: String::new(),
                reason: "preauth raised".into(),
                actor_id: "test".into(),
                actor_kind: "ACTOR_KIND_SYSTEM".into(),
                trace_id: String::new(),
                available_after_paise: on.available_paise() - 50_000_00,
                created_at: db::now(),
            };
            queries::block_with_hold(on, 50_000_00, hold, entry)
        };

        let stale = block(&read)
            .commit::<wallet::Model>(&connection)
            .await
            .expect("a guarded write");
        assert_eq!(stale, None, "{backend}");
        let written = (
            hold::Entity::find()
                .count(&connection)
                .await
                .expect("holds"),
            ledger_entry::Entity::find()
                .count(&connection)
                .await
                .expect("ledger"),
        );
        assert_eq!(written, (0, 0), "{backend}: nothing of the stale block");

        let fresh = block(&moved)
            .commit::<wallet::Model>(&connection)
            .await
            .expect("a guarded write")
            .expect("the wallet as read");
        assert_eq!(fresh.blocked_paise, 1_50_000_00, "{backend}");
        let entries = ledger_entry::Entity::find()
            .all(&connection)
            .await
            .expect("ledger");
        assert_eq!(
            entries
                .iter()
                .map(|e| e.available_after_paise)
                .collect::<Vec<_>>(),
            [3_50_000_00],
            "{backend}"
        );
    }
}
