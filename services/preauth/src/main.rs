//! The `preauth` binary. Start-up is shared by every service; see
//! `ayushman_platform::server::run`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ayushman_platform::server::run(preauth::SERVICE, preauth::build).await
}
