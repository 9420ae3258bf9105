//! `ayushctl up`: the whole mesh on one machine, as child processes.

use std::{
    fs::File,
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use ayushman_platform::MeshService;
use nix::{sys::signal::Signal, unistd::Pid};
use tokio::process::{Child, Command};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// How to start the mesh.
pub struct Options {
    /// Where the service binaries are; `None` means next to ayushctl.
    pub bin_dir: Option<PathBuf>,
    /// Where each service keeps `<service>.db`, and logs go to `logs/<service>.log`.
    pub data_dir: PathBuf,
    /// Added to every default port.
    pub port_offset: u16,
    /// Load the demo dataset once the services are up.
    pub seed: bool,
}

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

struct Running {
    service: MeshService,
    child: Child,
    log: PathBuf,
}

/// Starts every service, waits for SERVING, prints how to try it, stops all on Ctrl-C.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let bin_dir = match options.bin_dir {
        Some(dir) => dir,
        None => std::env::current_exe()?
            .parent()
            .context("ayushctl has no folder")?
            .to_owned(),
    };
    preflight(&bin_dir, options.port_offset)?;
    // A fresh operator key each start: the gateway replaces the previous one.
    let admin_key = crate::partners::fresh_admin_key()?;
    let log_dir = options.data_dir.join("logs");
    std::fs::create_dir_all(&log_dir)
        .with_context(|| format!("cannot create {}", log_dir.display()))?;

    let mut running = Vec::new();
    for service in MeshService::ALL {
        match start(
            service,
            &bin_dir,
            &options.data_dir,
            &log_dir,
            options.port_offset,
            &admin_key,
        ) {
            Ok(process) => running.push(process),
            Err(error) => {
                stop_all(&mut running).await;
                return Err(error);
            }
        }
    }
    if let Err(error) = wait_until_serving(&mut running, options.port_offset).await {
        stop_all(&mut running).await;
        return Err(error);
    }
    if options.seed
        && let Err(error) = seed_demo_data(options.port_offset).await
    {
        stop_all(&mut running).await;
        return Err(error);
    }
    if let Err(error) = demo_hospital(options.port_offset, &options.data_dir).await {
        stop_all(&mut running).await;
        return Err(error);
    }
    let partners = match demo_partners(options.port_offset, &admin_key).await {
        Ok(partners) => partners,
        Err(error) => {
            stop_all(&mut running).await;
            return Err(error);
        }
    };
    print_banner(options.port_offset, &log_dir);
    print_gateway(options.port_offset, &admin_key, &partners);

    let exited = tokio::select! {
        () = ayushman_platform::server::shutdown_signal() => None,
        exited = first_exit(&mut running) => Some(exited),
    };
    if let Some((service, log)) = &exited {
        eprintln!(
            "\n{service} stopped unexpectedly; last lines of {}:\n{}",
            log.display(),
            tail(log, 15)
        );
    }
    say("\nstopping the mesh...");
    stop_all(&mut running).await;
    match exited {
        Some((service, _)) => bail!("{service} stopped unexpectedly"),
        None => {
            say("all services stopped");
            Ok(())
        }
    }
}

/// A partner's name up to its first comma or parenthesis, for the users table.
fn short(name: &str) -> &str {
    name.split([',', '(']).next().unwrap_or(name).trim()
}

/// Prints a line while shutting down; whoever read our output may be gone
/// (Ctrl-C closes a pipe too), which must not stop the shutdown.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

async fn seed_demo_data(offset: u16) -> anyhow::Result<()> {
    println!("\nloading demo data...");
    let url = |service| format!("http://127.0.0.1:{}", port(service, offset));
    let endpoints = crate::Endpoints::at(url);
    endpoints
        .seed(crate::seed::beneficiaries::Scale::Small)
        .await
}

async fn demo_partners(
    offset: u16,
    admin_key: &str,
) -> anyhow::Result<Vec<crate::partners::DemoPartner>> {
    let url = format!("http://127.0.0.1:{}", port(MeshService::Gateway, offset));
    let channel = crate::connect(&url, "gateway").await?;
    crate::partners::ensure(channel, admin_key)
        .await
        .context("creating the demo partners at the gateway")
}

/// Registers the demo hospital with the NHCX service, its keys under `data/nhcx`.
async fn demo_hospital(offset: u16, data_dir: &Path) -> anyhow::Result<()> {
    let url = format!("http://127.0.0.1:{}", port(MeshService::Nhcx, offset));
    let channel = crate::connect(&url, "NHCX service").await?;
    crate::participants::register_demo_hospital(channel, &data_dir.join("nhcx"))
        .await
        .context("registering the demo hospital with the NHCX service")
}

fn port(service: MeshService, offset: u16) -> u16 {
    service.default_port() + offset
}

fn admin_port(service: MeshService, offset: u16) -> u16 {
    service.default_admin_port() + offset
}

/// Reports every missing binary and taken port at once, before starting anything.
fn preflight(bin_dir: &Path, offset: u16) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    for service in MeshService::ALL {
        let binary = bin_dir.join(service.name());
        if !binary.is_file() {
            problems.push(format!(
                "binary {} is missing: build it with `cargo build --release --workspace` (or `make run`)",
                binary.display()
            ));
        }
        for port in [port(service, offset), admin_port(service, offset)] {
            if TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).is_err() {
                problems.push(format!(
                    "port {port} ({service}) is already in use: stop what holds it, or pass --port-offset N"
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("cannot start the mesh:\n  {}", problems.join("\n  "))
    }
}

fn start(
    service: MeshService,
    bin_dir: &Path,
    data_dir: &Path,
    log_dir: &Path,
    offset: u16,
    admin_key: &str,
) -> anyhow::Result<Running> {
    let log = log_dir.join(format!("{}.log", service.name()));
    let log_file =
        File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let mut command = Command::new(bin_dir.join(service.name()));
    command
        .env("AYUSHMAN__SERVER__PORT", port(service, offset).to_string())
        .env(
            "AYUSHMAN__SERVER__ADMIN_PORT",
            admin_port(service, offset).to_string(),
        )
        .env("AYUSHMAN__DATABASE__DATA_DIR", data_dir)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .kill_on_drop(true);
    if service == MeshService::Gateway {
        command.env("AYUSHMAN__SERVICE__BOOTSTRAP_ADMIN_KEY", admin_key);
    }
    // A laptop's mesh: e-KYC and ABDM are the offline stand-ins, chosen
    // explicitly (each service warns about it at start).
    for provider in service.outside_providers() {
        command.env(provider, "offline");
    }
    for peer in service.calls() {
        let key = format!("AYUSHMAN__PEERS__{}__URL", peer.config_key().to_uppercase());
        command.env(key, format!("http://127.0.0.1:{}", port(*peer, offset)));
    }
    let child = command
        .spawn()
        .with_context(|| format!("cannot start {service}"))?;
    Ok(Running {
        service,
        child,
        log,
    })
}

async fn wait_until_serving(running: &mut [Running], offset: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    for process in running.iter_mut() {
        let url = format!("http://127.0.0.1:{}", port(process.service, offset));
        loop {
            if let Some(status) = process.child.try_wait()? {
                bail!(
                    "{} exited ({status}) while starting; last lines of {}:\n{}",
                    process.service,
                    process.log.display(),
                    tail(&process.log, 15)
                );
            }
            if is_serving(&url, process.service.grpc_service()).await {
                println!(
                    "  {:<22} SERVING on 127.0.0.1:{}",
                    process.service.name(),
                    port(process.service, offset)
                );
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "{} did not report SERVING within {} s; see {}",
                    process.service,
                    STARTUP_TIMEOUT.as_secs(),
                    process.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

pub(crate) async fn is_serving(url: &str, grpc_service: &str) -> bool {
    let Ok(endpoint) = tonic::transport::Endpoint::from_shared(url.to_owned()) else {
        return false;
    };
    let Ok(channel) = endpoint
        .connect_timeout(Duration::from_millis(500))
        .connect()
        .await
    else {
        return false;
    };
    let request = HealthCheckRequest {
        service: grpc_service.to_owned(),
    };
    matches!(
        HealthClient::new(channel).check(request).await,
        Ok(response) if response.get_ref().status() == ServingStatus::Serving
    )
}

async fn first_exit(running: &mut [Running]) -> (MeshService, PathBuf) {
    loop {
        for process in running.iter_mut() {
            if let Ok(Some(_)) = process.child.try_wait() {
                return (process.service, process.log.clone());
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// SIGTERM to callers first, then callees; anything still running after the timeout is killed.
async fn stop_all(running: &mut [Running]) {
    for process in running.iter().rev() {
        if let Some(pid) = process.child.id().and_then(|id| i32::try_from(id).ok()) {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
    }
    for process in running.iter_mut().rev() {
        match tokio::time::timeout(STOP_TIMEOUT, process.child.wait()).await {
            Ok(_) => {}
            Err(_) => {
                eprintln!(
                    "{} did not stop within {} s; killing it",
                    process.service,
                    STOP_TIMEOUT.as_secs()
                );
                let _ = process.child.kill().await;
            }
        }
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn print_banner(offset: u16, log_dir: &Path) {
    let beneficiary = port(MeshService::BeneficiaryRegistry, offset);
    println!("\nThe Ayushman mesh is up.\n");
    println!(
        "  {:<22} {:<8} {:<8} gRPC service",
        "service", "gRPC", "metrics"
    );
    for service in MeshService::ALL {
        println!(
            "  {:<22} {:<8} {:<8} {}",
            service.name(),
            port(service, offset),
            admin_port(service, offset),
            service.grpc_service()
        );
    }
    let facility = port(MeshService::FacilityRegistry, offset);
    println!(
        "\nTry it (grpcurl is installed by `make tools` into .tools/bin; docs/API.md walks through every service):\n"
    );
    println!("  # what a service offers, with every field explained");
    println!("  .tools/bin/grpcurl -plaintext localhost:{beneficiary} list");
    println!(
        "  .tools/bin/grpcurl -plaintext localhost:{facility} describe ayushman.facility.v1.CheckEmpanelmentRequest"
    );
    println!("  # Saran's coverage by sub-division, and the Durg drive's daily report");
    println!(
        "  ./target/release/ayushctl report coverage --district 10-230 --level sub-division --beneficiary-url http://127.0.0.1:{beneficiary}"
    );
    println!(
        "  ./target/release/ayushctl report campaign --daily --beneficiary-url http://127.0.0.1:{beneficiary}"
    );
    println!("  # hospitals in Bastar, Chhattisgarh");
    println!(
        "  .tools/bin/grpcurl -plaintext -d '{{\"district_code\":\"22-414\",\"facility_type\":\"FACILITY_TYPE_DISTRICT_HOSPITAL\"}}' localhost:{facility} ayushman.facility.v1.FacilityRegistryService/ListFacilities"
    );
    println!("  # may Maharani District Hospital treat a cardiac case under PM-JAY today?");
    println!(
        "  .tools/bin/grpcurl -plaintext -d '{{\"hfr_id\":\"IN2214000001\",\"scheme_code\":\"PMJAY\",\"specialty_code\":\"CARDIOLOGY\"}}' localhost:{facility} ayushman.facility.v1.FacilityRegistryService/CheckEmpanelment"
    );
    println!("  # its doctors");
    println!(
        "  .tools/bin/grpcurl -plaintext -d '{{\"hfr_id\":\"IN2214000001\"}}' localhost:{facility} ayushman.facility.v1.FacilityRegistryService/ListProfessionals"
    );
    let portability = port(MeshService::Portability, offset);
    println!("  # a Rajasthan MAA card holder at Civil Hospital, Ahmedabad (Gujarat)");
    println!(
        "  .tools/bin/grpcurl -plaintext -d '{{\"home_state_code\":\"08\",\"scheme_code\":\"RJ-MAA\",\"hfr_id\":\"IN2438000001\",\"specialty_code\":\"CARDIOLOGY\"}}' localhost:{portability} ayushman.portability.v1.PortabilityService/RouteCase"
    );
    println!(
        "  ./target/release/ayushctl report portability --from 2025-06 --to 2025-06 --portability-url http://127.0.0.1:{portability}"
    );
    println!("  # a pre-authorisation from raise to discharge: docs/API.md, \"Pre-authorisation\"");
    println!("  # ABHA Scan & Share at the OPD counter, May-Jul 2025");
    println!(
        "  ./target/release/ayushctl report opd --district 22-414 --from 2025-05 --to 2025-07 --facility-url http://127.0.0.1:{facility}"
    );
    let nhcx = port(MeshService::Nhcx, offset);
    println!(
        "  # a hospital on the National Health Claims Exchange (FHIR in JWE): docs/NHCX.md; its registration"
    );
    println!("  ./target/release/ayushctl participant list --nhcx-url http://127.0.0.1:{nhcx}");
    println!(
        "  curl -s localhost:{}/metrics",
        admin_port(MeshService::BeneficiaryRegistry, offset)
    );
    println!("\nLogs: {}/<service>.log.", log_dir.display());
}

fn print_gateway(offset: u16, admin_key: &str, partners: &[crate::partners::DemoPartner]) {
    let gateway = port(MeshService::Gateway, offset);
    println!(
        "\nPartners reach the mesh through the gateway on port {gateway}. Keys issued now (shown once):\n"
    );
    println!("  {:<44} {:<18} key", "partner", "id");
    println!(
        "  {:<44} {:<18} {admin_key}",
        "Mesh operator (gateway.admin)", "PTN-MESH-OPERATOR"
    );
    for partner in partners {
        println!(
            "  {:<44} {:<18} {}",
            partner.name, partner.partner_id, partner.key
        );
    }
    println!(
        "\nTheir users: a call names one with `x-partner-user: <id>` beside the partner's key.\n"
    );
    for partner in partners {
        for user in &partner.users {
            println!(
                "  user {:<21} {:<40} {}",
                user.label,
                format!("{}, {}", user.name, short(partner.name)),
                user.user_id
            );
        }
    }
    if let [state_portal, hospital, ..] = partners {
        println!("\n  # what a partner may call");
        println!(
            "  .tools/bin/grpcurl -plaintext -H 'authorization: Bearer {}' localhost:{gateway} list",
            hospital.key
        );
        println!(
            "  # the hospital verifies a Rajasthan MAA card holder; Bihar's portal may not see her"
        );
        for key in [&hospital.key, &state_portal.key] {
            println!(
                "  .tools/bin/grpcurl -plaintext -H 'authorization: Bearer {key}' -d '{{\"card_number\":\"BIS-JPR-00000001\"}}' localhost:{gateway} ayushman.beneficiary.v1.BeneficiaryRegistryService/VerifyEligibility"
            );
        }
        println!("  # the same over HTTP/JSON");
        println!(
            "  curl -s -H 'authorization: Bearer {}' -d '{{\"cardNumber\":\"BIS-JPR-00000001\"}}' localhost:{gateway}/v1/ayushman.beneficiary.v1.BeneficiaryRegistryService/VerifyEligibility",
            hospital.key
        );
        println!("  # raising a preauth and the audit log: docs/API.md, \"Partner gateway\"");
    }
    println!("\nPress Ctrl-C to stop every service.");
}
