//! The six real service binaries: each starts with its own config, database and
//! ports, answers health and reflection over a real socket, stops cleanly on
//! SIGTERM, and refuses a bad configuration with one line and exit status 64.

use std::process::Stdio;

use ayushman_platform::MeshService;
use mesh_tests::{
    ServiceProcess, connect, gateway, grpcurl, health_of, http_get, reflected_services_as,
    service_binary,
};
use tonic_health::pb::health_check_response::ServingStatus;

fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

#[tokio::test]
async fn every_service_binary_serves_health_and_reflection_and_stops_on_sigterm() {
    let mut running = Vec::new();
    for service in MeshService::ALL {
        running.push(ServiceProcess::start(service, None).await);
    }
    for process in &running {
        let channel = connect(&process.url()).await;
        let grpc_service = process.service.grpc_service();
        assert_eq!(
            health_of(channel.clone(), grpc_service).await,
            ServingStatus::Serving,
            "{}",
            process.service
        );
        assert!(
            reflected_services_as(channel, Some(gateway::ADMIN_KEY))
                .await
                .iter()
                .any(|name| name == grpc_service),
            "{}",
            process.service
        );
        assert!(
            http_get(process.admin_addr, "/metrics")
                .await
                .contains("grpc_server_handled_total")
        );
    }
    for process in running {
        let service = process.service;
        assert_eq!(
            process.terminate().await,
            Some(0),
            "{service} exits cleanly on SIGTERM"
        );
    }
}

#[tokio::test]
async fn a_service_binary_runs_on_postgresql_when_database_url_is_set() {
    let Some(admin_url) = postgres_url() else {
        return;
    };
    let database = ayushman_platform::testing::postgres()
        .await
        .expect("TEST_DATABASE_URL set");
    let url =
        secrecy::ExposeSecret::expose_secret(database.settings.url.as_ref().expect("postgres url"))
            .to_owned();
    assert!(url.starts_with(admin_url.rsplit_once('/').map_or("", |(base, _)| base)));
    let process = ServiceProcess::start(MeshService::BeneficiaryRegistry, Some(&url)).await;
    let channel = connect(&process.url()).await;
    assert_eq!(health_of(channel, "").await, ServingStatus::Serving);
    assert_eq!(process.terminate().await, Some(0));
}

#[tokio::test]
async fn a_bad_configuration_value_stops_the_binary_with_one_line_naming_the_key() {
    let output = tokio::process::Command::new(service_binary(MeshService::Claims))
        .env_clear()
        .env("AYUSHMAN__SERVER__CONCURRENCY_LIMIT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .expect("binary runs");
    assert_eq!(output.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr,
        "claims: invalid configuration: server.concurrency_limit: must be at least 1\n"
    );
}

#[tokio::test]
async fn grpcurl_lists_and_describes_a_running_service() {
    let process = ServiceProcess::start(MeshService::BeneficiaryRegistry, None).await;
    let address = process.addr.to_string();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(grpcurl())
            .arg("-plaintext")
            .args(args)
            .output()
            .expect("grpcurl runs");
        assert!(
            output.status.success(),
            "grpcurl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    };

    let list = run(&[&address, "list"]);
    assert_eq!(
        list.lines().collect::<Vec<_>>(),
        [
            "ayushman.beneficiary.v1.BeneficiaryRegistryService",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        ]
    );
    let service = run(&[
        &address,
        "describe",
        "ayushman.beneficiary.v1.BeneficiaryRegistryService",
    ]);
    assert!(
        service.contains("rpc BlockAmount ( .ayushman.beneficiary.v1.BlockAmountRequest )"),
        "{service}"
    );
    let message = run(&[&address, "describe", "ayushman.beneficiary.v1.Wallet"]);
    assert!(
        message.contains(
            "// What can still be blocked: cover − blocked − consumed, in paise; never negative."
        ),
        "{message}"
    );
    let health = run(&[
        "-d",
        r#"{"service":"ayushman.beneficiary.v1.BeneficiaryRegistryService"}"#,
        &address,
        "grpc.health.v1.Health/Check",
    ]);
    assert!(health.contains(r#""status": "SERVING""#), "{health}");
}

#[tokio::test]
async fn grpcurl_shows_which_field_is_wrong_in_a_refused_request() {
    let process = ServiceProcess::start(MeshService::FacilityRegistry, None).await;
    let output = std::process::Command::new(grpcurl())
        .args([
            "-plaintext",
            "-d",
            r#"{"hfr_id":"XX22"}"#,
            &process.addr.to_string(),
        ])
        .arg("ayushman.facility.v1.FacilityRegistryService/GetFacility")
        .output()
        .expect("grpcurl runs");
    assert!(!output.status.success());
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(printed.contains("Code: InvalidArgument"), "{printed}");
    assert!(
        printed.contains(
            r#""fieldViolations":[{"field":"hfr_id","description":"HFR id must start with IN"}]"#
        ),
        "grpcurl could not decode google.rpc.BadRequest:\n{printed}"
    );
}
