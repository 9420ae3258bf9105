//! `ayushctl up`, the command behind `make run`: it starts all six binaries,
//! waits until each is SERVING, prints partner keys that work through the
//! gateway, and stops them all on Ctrl-C; it refuses to start with a clear
//! list of problems when binaries are missing.

use std::{process::Stdio, time::Duration};

use ayushman_platform::MeshService;
use ayushman_proto::beneficiary::v1::{
    VerifyEligibilityRequest, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
};
use mesh_tests::{connect, gateway::with_key, health_of, service_binary};
use tokio::io::{AsyncBufReadExt, BufReader};
use tonic_health::pb::health_check_response::ServingStatus;

fn ayushctl() -> tokio::process::Command {
    let binary = service_binary(MeshService::Gateway).with_file_name("ayushctl");
    let mut command = tokio::process::Command::new(binary);
    command.kill_on_drop(true);
    command
}

#[tokio::test]
async fn up_refuses_to_start_when_binaries_are_missing_and_says_how_to_build_them() {
    let empty = tempfile::tempdir().expect("tempdir");
    let output = ayushctl()
        .args(["up", "--port-offset", "2100", "--bin-dir"])
        .arg(empty.path())
        .output()
        .await
        .expect("ayushctl runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("ayushctl: cannot start the mesh:"),
        "{stderr}"
    );
    for service in MeshService::ALL {
        assert!(
            stderr.contains(&format!(
                "{}/{} is missing",
                empty.path().display(),
                service.name()
            )),
            "{stderr}"
        );
    }
    assert!(
        stderr.contains("cargo build --release --workspace"),
        "{stderr}"
    );
}

#[tokio::test]
async fn up_starts_every_service_and_stops_them_all_on_ctrl_c() {
    let data = tempfile::tempdir().expect("tempdir");
    // Above Linux's ephemeral range (32768-60999), so no client socket of a
    // test running alongside can hold one of these ports when `up` binds it.
    let offset = 11_000;
    let mut up = ayushctl()
        .args(["up", "--port-offset", &offset.to_string(), "--data-dir"])
        .arg(data.path())
        .stdout(Stdio::piped())
        .spawn()
        .expect("ayushctl starts");
    let mut lines = BufReader::new(up.stdout.take().expect("stdout")).lines();
    let hospital_key = tokio::time::timeout(Duration::from_secs(90), async {
        let mut key = None;
        while let Some(line) = lines.next_line().await.expect("read output") {
            if key.is_none() && line.contains("Maharani District Hospital HIS") {
                key = line.split_whitespace().last().map(str::to_owned);
            }
            if line.starts_with("Press Ctrl-C") {
                return key.expect("the hospital's key is printed");
            }
        }
        panic!("ayushctl up ended before the mesh was up");
    })
    .await
    .expect("the mesh comes up within 90 s");

    for service in MeshService::ALL {
        let url = format!("http://127.0.0.1:{}", service.default_port() + offset);
        assert_eq!(
            health_of(connect(&url).await, service.grpc_service()).await,
            ServingStatus::Serving,
            "{service}"
        );
    }

    // The printed key works through the gateway, on the demo data.
    let gateway = format!(
        "http://127.0.0.1:{}",
        MeshService::Gateway.default_port() + offset
    );
    let answer = BeneficiaryRegistryServiceClient::new(connect(&gateway).await)
        .verify_eligibility(with_key(
            VerifyEligibilityRequest {
                card_number: "BIS-JPR-00000001".into(),
                ..Default::default()
            },
            &hospital_key,
        ))
        .await
        .expect("verify through the gateway with the printed key")
        .into_inner();
    assert_eq!(answer.home_state_code, "08");

    let pid =
        nix::unistd::Pid::from_raw(i32::try_from(up.id().expect("running")).expect("pid fits"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("send Ctrl-C");
    let status = tokio::time::timeout(Duration::from_secs(60), up.wait())
        .await
        .expect("stops within 60 s")
        .expect("wait");
    assert!(status.success(), "{status}");
    for service in MeshService::ALL {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], service.default_port() + offset));
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "{service} still listening after Ctrl-C"
        );
    }
}
