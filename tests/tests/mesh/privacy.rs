//! Logs never contain a full Aadhaar number (DESIGN §4, §5): the real binary at
//! debug level imports and cards people with Aadhaar numbers and every line it
//! prints is searched.

use ayushman_platform::MeshService;
use ayushman_proto::beneficiary::v1::{
    self as pb, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
    import_eligibility_request::Item,
};
use mesh_tests::{
    ServiceProcess,
    beneficiary::{aadhaar, operator, saran_row},
    connect,
};

#[tokio::test]
async fn no_log_line_contains_a_full_aadhaar_number() {
    let process =
        ServiceProcess::start_with_log_filter(MeshService::BeneficiaryRegistry, None, "debug")
            .await;
    let mut client = BeneficiaryRegistryServiceClient::new(connect(&process.url()).await);
    let numbers: Vec<String> = (0..20).map(|i| aadhaar(9_000 + i)).collect();
    let mut rows: Vec<_> = numbers
        .iter()
        .enumerate()
        .map(|(i, number)| {
            let mut row = saran_row(&format!("RC-P{i}"), &format!("Person {i}"), 1980);
            row.aadhaar = number.clone();
            row
        })
        .collect();
    let mut bad = saran_row("RC-BAD", "Wrong Digit", 1980);
    bad.aadhaar = "234567890125".into();
    rows.push(bad);
    let header = pb::ImportEligibilityRequest {
        item: Some(Item::Header(pb::ImportHeader {
            idempotency_key: "privacy".into(),
            file_name: "privacy.csv".into(),
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
        .expect("import");

    let people = client
        .search_beneficiaries(pb::SearchBeneficiariesRequest {
            query: Some(pb::search_beneficiaries_request::Query::Name(
                pb::NameQuery {
                    name_prefix: "Person".into(),
                    district_code: "10-230".into(),
                },
            )),
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("search")
        .into_inner()
        .beneficiaries;
    for person in &people {
        let index: usize = person
            .name
            .trim_start_matches("Person ")
            .parse()
            .expect("index");
        let _ = client
            .issue_card(pb::IssueCardRequest {
                mobiliser_id: String::new(),
                self_service: false,
                kyc_proof: String::new(),
                idempotency_key: format!("card-{index}"),
                beneficiary_id: person.beneficiary_id.clone(),
                aadhaar: numbers[index].clone(),
                kyc_method: pb::KycMethod::AadhaarOtp as i32,
                operator: Some(operator("OP-1")),
                centre_id: "CSC-1".into(),
                campaign_id: String::new(),
            })
            .await
            .expect("card");
        let _ = client
            .search_beneficiaries(pb::SearchBeneficiariesRequest {
                query: Some(pb::search_beneficiaries_request::Query::Aadhaar(
                    numbers[index].clone(),
                )),
                ..Default::default()
            })
            .await;
    }
    let _ = client
        .issue_card(pb::IssueCardRequest {
            idempotency_key: "bad".into(),
            aadhaar: "234567890125".into(),
            ..Default::default()
        })
        .await;

    let log = process.log_lines();
    assert!(log.len() > 5, "the service logged at debug level: {log:?}");
    for number in numbers.iter().chain([&"234567890125".to_owned()]) {
        if let Some(line) = log.iter().find(|line| line.contains(number.as_str())) {
            panic!("a full Aadhaar number was logged: {line}");
        }
    }
}
