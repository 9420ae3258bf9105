//! gRPC handlers of `GatewayAdminService`, one file per area: partners,
//! keys, users, audit. Each validates and translates, calls the domain
//! functions, and translates back. Only callers with scope `gateway.admin`
//! get here (the edge checks).

mod audit;
mod keys;
mod partners;
mod users;

use ayushman_platform::ApiError;
use ayushman_proto::gateway::v1::{self as pb, gateway_admin_service_server::GatewayAdminService};
use tonic::{Request, Response, Status};

use crate::AppState;

/// The `GatewayAdminService` implementation.
pub struct GatewayAdminApi {
    /// Database, audit log and settings shared by the handlers.
    pub state: AppState,
}

type Reply<T> = Result<Response<T>, Status>;

fn timestamp(
    field: &str,
    value: Option<&prost_types::Timestamp>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    value
        .map(|t| {
            u32::try_from(t.nanos)
                .ok()
                .and_then(|nanos| chrono::DateTime::from_timestamp(t.seconds, nanos))
                .ok_or_else(|| ApiError::invalid(field, "is not a valid instant"))
        })
        .transpose()
}

#[tonic::async_trait]
impl GatewayAdminService for GatewayAdminApi {
    async fn create_partner(
        &self,
        request: Request<pb::CreatePartnerRequest>,
    ) -> Reply<pb::CreatePartnerResponse> {
        partners::create_partner(&self.state, request).await
    }

    async fn get_partner(
        &self,
        request: Request<pb::GetPartnerRequest>,
    ) -> Reply<pb::GetPartnerResponse> {
        partners::get_partner(&self.state, request).await
    }

    async fn list_partners(
        &self,
        request: Request<pb::ListPartnersRequest>,
    ) -> Reply<pb::ListPartnersResponse> {
        partners::list_partners(&self.state, request).await
    }

    async fn set_partner_scopes(
        &self,
        request: Request<pb::SetPartnerScopesRequest>,
    ) -> Reply<pb::SetPartnerScopesResponse> {
        partners::set_partner_scopes(&self.state, request).await
    }

    async fn issue_api_key(
        &self,
        request: Request<pb::IssueApiKeyRequest>,
    ) -> Reply<pb::IssueApiKeyResponse> {
        keys::issue_api_key(&self.state, request).await
    }

    async fn revoke_api_key(
        &self,
        request: Request<pb::RevokeApiKeyRequest>,
    ) -> Reply<pb::RevokeApiKeyResponse> {
        keys::revoke_api_key(&self.state, request).await
    }

    async fn list_api_keys(
        &self,
        request: Request<pb::ListApiKeysRequest>,
    ) -> Reply<pb::ListApiKeysResponse> {
        keys::list_api_keys(&self.state, request).await
    }

    async fn query_audit(
        &self,
        request: Request<pb::QueryAuditRequest>,
    ) -> Reply<pb::QueryAuditResponse> {
        audit::query_audit(&self.state, request).await
    }

    async fn create_user(
        &self,
        request: Request<pb::CreateUserRequest>,
    ) -> Reply<pb::CreateUserResponse> {
        users::create_user(&self.state, request).await
    }

    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Reply<pb::ListUsersResponse> {
        users::list_users(&self.state, request).await
    }

    async fn set_user_roles(
        &self,
        request: Request<pb::SetUserRolesRequest>,
    ) -> Reply<pb::SetUserRolesResponse> {
        users::set_user_roles(&self.state, request).await
    }

    async fn disable_user(
        &self,
        request: Request<pb::DisableUserRequest>,
    ) -> Reply<pb::DisableUserResponse> {
        users::disable_user(&self.state, request).await
    }
}
