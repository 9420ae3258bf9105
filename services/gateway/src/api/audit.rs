//! QueryAudit.

use ayushman_platform::{
    ApiError,
    convert::{self, PageRequest},
};
use ayushman_proto::gateway::v1 as pb;
use tonic::{Request, Response};

use super::{Reply, timestamp};
use crate::{
    AppState,
    store::{
        entities::audit_record,
        queries::{self, AuditFilter},
    },
};

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
        user_id: row.user_id,
    }
}

pub(super) async fn query_audit(
    state: &AppState,
    request: Request<pb::QueryAuditRequest>,
) -> Reply<pb::QueryAuditResponse> {
    let r = request.into_inner();
    let page = PageRequest::parse(r.page_size, &r.page_token, 100, 1000)?;
    let filter = AuditFilter {
        partner_id: convert::optional_text(&r.partner_id),
        user_id: convert::optional_text(&r.user_id),
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
    state.audit.flush().await;
    let rows = queries::query_audit(&state.db, &filter, page.after.as_deref(), page.size)
        .await
        .map_err(ApiError::from)?;
    let (rows, next_page_token) = page.finish(rows, |r| r.audit_id.clone());
    Ok(Response::new(pb::QueryAuditResponse {
        records: rows.into_iter().map(audit_to_proto).collect(),
        next_page_token,
    }))
}
