//! `ayushctl seed`, `import-facilities`, `report opd` and `report portability`
//! against real services: the demo reproduces the published OPD figures exactly
//! and the Durg and Bihar claim figures (by computation over the imported
//! history), carries portability agreements and the demo schemes, repeating
//! the seed changes nothing, and a CSV import lists every reject by row.

use ayushman_platform::{MeshService, testing};
use ayushman_proto::facility::v1 as pb;
use chrono::Datelike;
use mesh_tests::{beneficiary, facility, preauth, service_binary};

async fn ayushctl(args: &[&str], facility_url: &str) -> (Option<i32>, String, String) {
    ayushctl_with(args, &["--facility-url", facility_url]).await
}

async fn ayushctl_with(args: &[&str], endpoints: &[&str]) -> (Option<i32>, String, String) {
    let binary = service_binary(MeshService::Gateway).with_file_name("ayushctl");
    let output = tokio::process::Command::new(binary)
        .args(args)
        .args(endpoints)
        .output()
        .await
        .expect("ayushctl runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_demo_seed_reproduces_the_published_figures_and_is_safe_to_repeat() {
    let mut flow = preauth::spawn("sqlite", preauth::quick_settings()).await;
    let (url, portability_url, beneficiary_url, preauth_url, claims_url) = (
        flow.facilities.server.url(),
        flow.servers[0].url(),
        flow.people.server.url(),
        flow.servers[1].url(),
        flow.servers[2].url(),
    );
    let endpoints = [
        "--facility-url",
        &url,
        "--portability-url",
        &portability_url,
        "--beneficiary-url",
        &beneficiary_url,
        "--preauth-url",
        &preauth_url,
        "--claims-url",
        &claims_url,
    ];

    let (code, stdout, stderr) = ayushctl_with(&["seed"], &endpoints).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout.lines().map(str::trim).collect::<Vec<_>>(),
        [
            "facility registry: 200 facilities, 222 professionals, 180 empanelments, 93,940 OPD registrations (93,940 new)",
            "portability: 3 agreements",
            "schemes: PMJAY, PMJAY-70PLUS, RJ-MAA, BR-MJAY, CG-MVSSY",
            "beneficiary registry: 37,454 people (37,454 new), 7,491 new families",
            "card drives: 44 areas; Saran began with 8,882 of 28,954 carded (30.68 %) in 3 sub-divisions, 105 cards today; Durg 100 cards today, logins active: 641 at choice centres, 93 others",
            "preauth: 102 packages in the catalogue",
            "claims: 15,878 paid claims (15,878 new, a tenth of Durg's and Bihar's): Durg ₹19,79,00,600 over 36 months; its government hospitals 4,678 patients and ₹1,58,40,000 in the last year, ₹17,00,000 last month; Bihar paid 32.9 % to other states",
        ]
    );
    assert_eq!(
        flow.facilities.opd_totals_may_to_july_2025("22-414").await,
        (60_045, 32_379, 5392)
    );
    assert_eq!(
        flow.facilities.opd_totals_may_to_july_2025("22-415").await,
        (33_895, 13_729, 4050)
    );

    let (code, stdout, stderr) = ayushctl_with(&["seed"], &endpoints).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout
            .lines()
            .next()
            .unwrap_or_default()
            .ends_with("93,940 OPD registrations (0 new)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("37,454 people (0 new)"),
        "seeding again adds nobody: {stdout}"
    );
    assert!(
        stdout.contains("15,878 paid claims (0 new"),
        "seeding again adds no claim: {stdout}"
    );
    assert_eq!(
        flow.facilities.opd_totals_may_to_july_2025("22-414").await,
        (60_045, 32_379, 5392)
    );

    let (code, table, _) = ayushctl(
        &[
            "report",
            "opd",
            "--district",
            "22-414",
            "--from",
            "2025-05",
            "--to",
            "2025-07",
        ],
        &url,
    )
    .await;
    assert_eq!(code, Some(0));
    let total_line = table
        .lines()
        .find(|l| l.contains("Total"))
        .expect("total line");
    assert!(
        total_line.contains("60,045")
            && total_line.contains("32,379")
            && total_line.contains("53.92 %"),
        "{table}"
    );

    let suspended = flow
        .facilities
        .check(
            "IN2217000100",
            "GENERAL_SURGERY",
            facility::date(2025, 6, 1),
        )
        .await;
    assert_eq!(
        suspended.denial,
        pb::EmpanelmentDenial::Suspended as i32,
        "the demo keeps one suspended hospital in Durg"
    );

    let route = |home: &str, scheme: &str| ayushman_proto::portability::v1::RouteCaseRequest {
        home_state_code: home.into(),
        scheme_code: scheme.into(),
        hfr_id: "IN2438000001".into(),
        specialty_code: "CARDIOLOGY".into(),
        treatment_date: Some(facility::date(2025, 6, 1)),
        treating_hpr_id: String::new(),
    };
    let maa_in_gujarat = flow
        .portability
        .route_case(route("08", "RJ-MAA"))
        .await
        .expect("route")
        .into_inner();
    assert!(
        maa_in_gujarat.allowed && maa_in_gujarat.portability_case,
        "{maa_in_gujarat:?}"
    );
    let bihar_in_gujarat = flow
        .portability
        .route_case(route("10", "BR-MJAY"))
        .await
        .expect("route")
        .into_inner();
    assert_eq!(
        bihar_in_gujarat.message,
        "agreement AGR-BR-MJAY-OUT is not in force yet (draft)"
    );

    let today = ayushman_platform::convert::today_in_india();
    let last_month = today.with_day(1).expect("first") - chrono::Duration::days(1);
    let year_before = last_month - chrono::Months::new(11);
    let (from, to) = (
        year_before.format("%Y-%m").to_string(),
        last_month.format("%Y-%m").to_string(),
    );
    let (code, report, stderr) = ayushctl_with(
        &[
            "report",
            "portability",
            "--home-state",
            "10",
            "--from",
            &from,
            "--to",
            &to,
        ],
        &["--claims-url", &claims_url],
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        report.starts_with("Claims paid by Bihar (10), by month of payment"),
        "{report}"
    );
    let total = report
        .lines()
        .find(|l| l.contains("Total"))
        .unwrap_or_else(|| panic!("no total in\n{report}"));
    assert!(
        total.contains("₹6,00,00,000")
            && total.contains("₹1,97,40,000")
            && total.contains("32.90 %"),
        "Bihar's year: ₹6 crore, 32.9 % of it to other states\n{report}"
    );
    assert!(
        report.contains("Uttar Pradesh (09)") && report.contains("CARDIOLOGY"),
        "by treating state and specialty\n{report}"
    );

    let cardiology = ayushman_proto::preauth::v1::ListPackagesRequest {
        specialty_code: "CARDIOLOGY".into(),
        ..Default::default()
    };
    assert_eq!(
        flow.client
            .list_packages(cardiology)
            .await
            .expect("packages")
            .into_inner()
            .packages
            .len(),
        17
    );

    let people_endpoint = ["--beneficiary-url", beneficiary_url.as_str()];
    let (code, coverage, stderr) = ayushctl_with(
        &[
            "report",
            "coverage",
            "--district",
            "10-230",
            "--level",
            "sub-division",
        ],
        &people_endpoint,
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    let sonpur = coverage
        .lines()
        .find(|l| l.contains("Sonpur (10-230-SD3)"))
        .unwrap_or_default();
    assert!(sonpur.contains("7,225"), "{coverage}");
    let (code, campaign, _) = ayushctl_with(&["report", "campaign"], &people_endpoint).await;
    assert_eq!(code, Some(0));
    assert!(
        campaign.starts_with("Durg Ayushman card drive"),
        "{campaign}"
    );
    assert!(
        campaign.contains("60 cards made for the campaign of a target of 1,000"),
        "{campaign}"
    );
    let csv = std::env::temp_dir().join(format!("durg-daily-{}.csv", std::process::id()));
    let (code, daily, stderr) = ayushctl_with(
        &[
            "report",
            "campaign",
            "--daily",
            "--csv",
            csv.to_str().expect("path"),
        ],
        &people_endpoint,
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        daily.contains("Cards today: 100 (self-service 0)")
            && daily.contains("Dhamdha (22-387-SD3)"),
        "{daily}"
    );
    let written = std::fs::read_to_string(&csv).expect("the CSV");
    let lines: Vec<_> = written.lines().collect();
    assert!(
        lines[0].starts_with("date,level,sub_division,code,name"),
        "{written}"
    );
    assert!(lines[1].contains(",district,,22-387,"), "{written}");
    assert_eq!(
        lines.len(),
        1 + 1 + 3 + 3,
        "district, 3 sub-divisions, 3 blocks"
    );
    let (code, operators, _) = ayushctl_with(
        &["report", "operators", "--district", "22-387"],
        &people_endpoint,
    )
    .await;
    assert_eq!(code, Some(0));
    let choice_centres = operators
        .lines()
        .find(|l| l.contains("Choice centres"))
        .unwrap_or_default();
    let others = operators
        .lines()
        .find(|l| l.contains("Others"))
        .unwrap_or_default();
    assert!(
        choice_centres.contains(" 641 ") && choice_centres.contains("₹1,200"),
        "{operators}"
    );
    assert!(
        others.contains(" 93 ") && others.contains(" 10.0 "),
        "ten cards a day at each special camp\n{operators}"
    );
    let (code, durg_years, _) = ayushctl_with(
        &[
            "report",
            "coverage",
            "--district",
            "22-387",
            "--compare-years",
            "2021,2022",
        ],
        &people_endpoint,
    )
    .await;
    assert_eq!(code, Some(0));
    assert!(
        durg_years.contains("1,969") && durg_years.contains("+131"),
        "Durg's proportions: 10,37,043 then 11,05,885\n{durg_years}"
    );
}

#[tokio::test]
async fn importing_an_eligibility_csv_streams_it_and_lists_every_reject_by_row() {
    let database = testing::sqlite();
    let registry = beneficiary::spawn(&database).await;
    let folder = tempfile::tempdir().expect("tempdir");
    let csv = folder.path().join("saran.csv");
    std::fs::write(
        &csv,
        "source_list,family_id,member_name,gender,year_of_birth,relation,state_code,district_code,block_code,village_code,eligibility_category,aadhaar,existing_card_number\n\
         SECC,RC-1,Sunita Devi,FEMALE,1982,HEAD,10,10-230,10-230-01,,SECC-D1,,\n\
         SECC,RC-1,Ramesh Rai,MALE,1979,SPOUSE,10,10-230,10-230-01,,SECC-D1,234567890125,\n\
         NFSA,RC-2,Kamla,FEMALE,1960,HEAD,10,10-230,10-230-02,,NFSA-PHH,,\n\
         SECC,RC-3,Nobody,ALIEN,1990,HEAD,10,99-999,,,SECC-D1,,\n",
    )
    .expect("write csv");
    let (code, stdout, stderr) = ayushctl_with(
        &["import", csv.to_str().expect("utf-8 path")],
        &["--beneficiary-url", &registry.server.url()],
    )
    .await;
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "4 rows: 2 accepted, 0 already registered, 2 rejected; 2 new families",
            "  row 2: aadhaar Aadhaar check digit is wrong",
            "  row 4: gender is required",
            "  row 4: location.district_code unknown district \"99-999\": district codes look like 10-230 and start with the state code",
        ]
    );
    assert_eq!(stderr.trim(), "ayushctl: 2 of 4 rows were not imported");
}

#[tokio::test]
async fn importing_a_csv_registers_good_rows_and_lists_every_reject_by_row() {
    let database = testing::sqlite();
    let registry = facility::spawn(&database).await;
    let folder = tempfile::tempdir().expect("tempdir");
    let csv = folder.path().join("facilities.csv");
    std::fs::write(
        &csv,
        "hfr_id,name,facility_type,ownership,state_code,district_code,block_code,beds,abdm_enabled,society_name,society_account_id\n\
         IN1030000500,Shanti Nursing Home,PRIVATE_HOSPITAL,PRIVATE,10,10-230,,40,true,,\n\
         IN1030000501,Bad Row,SPACESHIP,PRIVATE,10,10-230,,40,true,,\n\
         IN103000,Short Id,PRIVATE_HOSPITAL,PRIVATE,10,10-230,,-5,true,,\n\
         IN1030000502,Sadar Hospital Annexe,district_hospital,public,10,10-230,,60,false,Rogi Kalyan Samiti Saran,RKS-230\n",
    )
    .expect("write csv");

    let (code, stdout, stderr) = ayushctl(
        &["import-facilities", csv.to_str().expect("utf-8 path")],
        &registry.server.url(),
    )
    .await;
    assert_eq!(code, Some(1));
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "4 rows: 2 registered, 2 rejected",
            "  row 2: facility_type \"SPACESHIP\" is not a facility type (e.g. DISTRICT_HOSPITAL)",
            "  row 3: hfr_id HFR id must be IN followed by 10 digits",
            "  row 3: beds cannot be negative",
        ]
    );
    assert_eq!(stderr.trim(), "ayushctl: 2 of 4 rows were not imported");
}
