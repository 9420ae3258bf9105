//! gRPC handlers of `GatewayAdminService`: validate and translate, call the
//! partner functions, translate back. Only callers with scope `gateway.admin`
//! get here (the edge checks).

use ayushman_domain::StateCode;
use ayushman_platform::{
    ApiError, Caller, FieldViolations,
    convert::{self, PageRequest},
};
use ayushman_proto::gateway::v1::{
    self as pb, PartnerKind, PartnerStatus, gateway_admin_service_server::GatewayAdminService,
};
use std::sync::{Arc, Mutex};
use tonic::{Request, Response, Status};

use crate::{
    AppState,
    partners::{self, NewPartner},
    store::{
        entities::{api_key, audit_record, partner},
        queries::{self, AuditFilter},
    },
};

/// The `GatewayAdminService` implementation.
pub struct GatewayAdminApi {
    /// Database, audit log and settings shared by the handlers.
    pub state: AppState,
}

type Reply<T> = Result<Response<T>, Status>;

fn partner_to_proto(row: partner::Model) -> pb::Partner {
    pb::Partner {
        partner_id: row.partner_id,
        name: row.name,
        kind: PartnerKind::from_str_name(&row.kind).unwrap_or_default() as i32,
        home_state_code: row.home_state_code,
        scopes: row
            .scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        rate_limit_per_second: row.rate_limit_per_second,
        rate_limit_burst: row.rate_limit_burst,
        status: PartnerStatus::from_str_name(&row.status).unwrap_or_default() as i32,
        created_at: Some(convert::timestamp_to_proto(row.created_at)),
    }
}

fn key_to_proto(row: api_key::Model) -> pb::ApiKey {
    pb::ApiKey {
        key_id: row.key_id,
        partner_id: row.partner_id,
        prefix: row.prefix,
        created_at: Some(convert::timestamp_to_proto(row.created_at)),
        revoked_at: row.revoked_at.map(convert::timestamp_to_proto),
        last_used_at: row.last_used_at.map(convert::timestamp_to_proto),
    }
}

fn audit_to_proto(row: audit_record::Model) -> pb::AuditRecord {
    pb::AuditRecord {
        audit_id: row.audit_id,
        partner_id: row.partner_id,
        key_id: row.key_id,
        method: row.method,
        status_code: row.status_code,
        latency_micros: row.latency_micros,
        trace_id: row.trace_id,
        received_at: Some(convert::timestamp_to_proto(row.received_at)),
        transport: row.transport,
    }
}

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
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let given = request.partner.clone().unwrap_or_default();
        let mut v = FieldViolations::new();
        v.require("partner.name", &given.name);
        if given.name.len() > 200 {
            v.add("partner.name", "must be at most 200 characters");
        }
        let kind = v.check(
            "partner.kind",
            convert::required_enum::<PartnerKind>("partner.kind", given.kind)
                .map_err(|_| "is required: state portal, hospital HIS, insurer or TPA"),
        );
        let home_state = if given.home_state_code.trim().is_empty() {
            None
        } else {
            v.check(
                "partner.home_state_code",
                StateCode::parse(given.home_state_code.trim()),
            )
        };
        let scopes = v.check("partner.scopes", partners::normalise_scopes(&given.scopes));
        let defaults = &self.state.settings;
        let rate = match given.rate_limit_per_second {
            0 => defaults.default_rate_limit_per_second,
            rate => rate,
        };
        let burst = match given.rate_limit_burst {
            0 => defaults.default_rate_limit_burst,
            burst => burst,
        };
        if !(1..=100_000).contains(&rate) {
            v.add(
                "partner.rate_limit_per_second",
                "must be between 1 and 100000 (0 for the default)",
            );
        }
        if !(1..=100_000).contains(&burst) {
            v.add(
                "partner.rate_limit_burst",
                "must be between 1 and 100000 (0 for the default)",
            );
        }
        v.into_result()?;
        let (Some(kind), Some(scopes)) = (kind, scopes) else {
            return Err(ApiError::internal("validated fields missing").into());
        };
        let new = NewPartner {
            name: given.name,
            kind,
            home_state,
            scopes: Vec::new(),
            rate_limit_per_second: rate,
            rate_limit_burst: burst,
        };
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let row = partners::create(txn, new, scopes).await?;
                    Ok(pb::CreatePartnerResponse {
                        partner: Some(partner_to_proto(row)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn get_partner(
        &self,
        request: Request<pb::GetPartnerRequest>,
    ) -> Reply<pb::GetPartnerResponse> {
        let id = convert::required_text("partner_id", &request.get_ref().partner_id)?;
        let row = partners::get(&self.state.db, &id).await?;
        Ok(Response::new(pb::GetPartnerResponse {
            partner: Some(partner_to_proto(row)),
        }))
    }

    async fn list_partners(
        &self,
        request: Request<pb::ListPartnersRequest>,
    ) -> Reply<pb::ListPartnersResponse> {
        let r = request.into_inner();
        let page = PageRequest::parse(r.page_size, &r.page_token, 50, 500)?;
        let state = convert::optional_text(&r.home_state_code);
        let rows = queries::list_partners(
            &self.state.db,
            state.as_deref(),
            page.after.as_deref(),
            page.size,
        )
        .await
        .map_err(ApiError::from)?;
        let (rows, next_page_token) = page.finish(rows, |p| p.partner_id.clone());
        Ok(Response::new(pb::ListPartnersResponse {
            partners: rows.into_iter().map(partner_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn set_partner_scopes(
        &self,
        request: Request<pb::SetPartnerScopesRequest>,
    ) -> Reply<pb::SetPartnerScopesResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let id = convert::required_text("partner_id", &request.partner_id)?;
        let scopes = partners::normalise_scopes(&request.scopes)
            .map_err(|reason| ApiError::invalid("scopes", reason))?;
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let row = partners::set_scopes(txn, &id, scopes).await?;
                    Ok(pb::SetPartnerScopesResponse {
                        partner: Some(partner_to_proto(row)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn issue_api_key(
        &self,
        request: Request<pb::IssueApiKeyRequest>,
    ) -> Reply<pb::IssueApiKeyResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let id = convert::required_text("partner_id", &request.partner_id)?;
        // The key is shown once: the kept reply (replayed for a repeat of the
        // same request) has the key's metadata only, never the key.
        let shown = Arc::new(Mutex::new(None));
        let first = shown.clone();
        let mut reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let (row, key) = partners::issue_key(txn, &id).await?;
                    *first.lock().unwrap_or_else(|p| p.into_inner()) = Some(key);
                    Ok(pb::IssueApiKeyResponse {
                        key: Some(key_to_proto(row)),
                        api_key: String::new(),
                    })
                })
            })
            .await?;
        if let Some(key) = shown.lock().unwrap_or_else(|p| p.into_inner()).take() {
            reply.api_key = key;
        }
        Ok(Response::new(reply))
    }

    async fn revoke_api_key(
        &self,
        request: Request<pb::RevokeApiKeyRequest>,
    ) -> Reply<pb::RevokeApiKeyResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let id = convert::required_text("key_id", &request.key_id)?;
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let row = partners::revoke_key(txn, &id).await?;
                    Ok(pb::RevokeApiKeyResponse {
                        key: Some(key_to_proto(row)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn list_api_keys(
        &self,
        request: Request<pb::ListApiKeysRequest>,
    ) -> Reply<pb::ListApiKeysResponse> {
        let id = convert::required_text("partner_id", &request.get_ref().partner_id)?;
        partners::get(&self.state.db, &id).await?;
        let keys = queries::keys_of(&self.state.db, &id)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::ListApiKeysResponse {
            keys: keys.into_iter().map(key_to_proto).collect(),
        }))
    }

    async fn query_audit(
        &self,
        request: Request<pb::QueryAuditRequest>,
    ) -> Reply<pb::QueryAuditResponse> {
        let r = request.into_inner();
        let page = PageRequest::parse(r.page_size, &r.page_token, 100, 1000)?;
        let filter = AuditFilter {
            partner_id: convert::optional_text(&r.partner_id),
            method: convert::optional_text(&r.method),
            status_code: match r.status_code {
                Some(code) if !(0..=16).contains(&code) => {
                    return Err(
                        ApiError::invalid("status_code", "must be a gRPC code, 0 to 16").into(),
                    );
                }
                code => code,
            },
            from: timestamp("from_time", r.from_time.as_ref())?,
            until: timestamp("to_time", r.to_time.as_ref())?,
        };
        // Rows of calls that have ended are handed to the writer; wait for them.
        self.state.audit.flush().await;
        let rows = queries::query_audit(&self.state.db, &filter, page.after.as_deref(), page.size)
            .await
            .map_err(ApiError::from)?;
        let (rows, next_page_token) = page.finish(rows, |r| r.audit_id.clone());
        Ok(Response::new(pb::QueryAuditResponse {
            records: rows.into_iter().map(audit_to_proto).collect(),
            next_page_token,
        }))
    }
}
