//! The `facility-registry` binary. Start-up is shared by every service; see
//! `ayushman_platform::server::run`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ayushman_platform::server::run(facility_registry::SERVICE, facility_registry::build).await
}
