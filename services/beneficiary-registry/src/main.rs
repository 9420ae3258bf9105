//! The `beneficiary-registry` binary. Start-up is shared by every service; see
//! `ayushman_platform::server::run`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ayushman_platform::server::run(beneficiary_registry::SERVICE, beneficiary_registry::build).await
}
