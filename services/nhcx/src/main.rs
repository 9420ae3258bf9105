//! The `nhcx` binary. Start-up is shared by every service; see
//! `ayushman_platform::server::run`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ayushman_platform::server::run(nhcx::SERVICE, nhcx::build).await
}
