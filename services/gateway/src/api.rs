//! gRPC handlers of `GatewayAdminService`: they translate proto <-> domain and call plain
//! functions. RPCs not built yet answer UNIMPLEMENTED (the generated default).

use ayushman_proto::gateway::v1::gateway_admin_service_server::GatewayAdminService;

use crate::AppState;

/// The `GatewayAdminService` implementation.
pub struct GatewayAdminApi {
    /// Database and limits shared by the handlers.
    pub state: AppState,
}

#[tonic::async_trait]
impl GatewayAdminService for GatewayAdminApi {}
