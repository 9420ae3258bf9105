//! gRPC handlers of `NhcxService`: the participant registry and the log of
//! what was exchanged. Reached from inside the mesh (operators, `ayushctl`);
//! a partner identity, should one arrive, needs the SHA administrator's role.

use ayushman_platform::{ApiError, Caller, convert};
use ayushman_proto::{
    common::v1::Role,
    nhcx::v1::{self as pb, Direction, nhcx_service_server::NhcxService},
};
use tonic::{Request, Response, Status};

use crate::{
    Context, participants,
    store::{entities::exchange, queries},
};

/// The `NhcxService` implementation.
pub struct NhcxApi {
    /// Database and settings shared by the handlers.
    pub context: Context,
}

type Reply<T> = Result<Response<T>, Status>;

fn exchange_to_proto(row: exchange::Model) -> pb::Exchange {
    pb::Exchange {
        api_call_id: row.api_call_id,
        correlation_id: row.correlation_id,
        workflow_id: row.workflow_id,
        direction: Direction::from_str_name(&row.direction).unwrap_or_default() as i32,
        action: row.action,
        participant_code: row.participant_code,
        status: row.status,
        hcx_status: row.hcx_status,
        mesh_reference: row.mesh_reference,
        attempts: row.attempts,
        last_error: row.last_error,
        created_at: Some(convert::timestamp_to_proto(row.created_at)),
        updated_at: Some(convert::timestamp_to_proto(row.updated_at)),
    }
}

#[tonic::async_trait]
impl NhcxService for NhcxApi {
    async fn upsert_participant(
        &self,
        request: Request<pb::UpsertParticipantRequest>,
    ) -> Reply<pb::UpsertParticipantResponse> {
        let caller = Caller::of(&request);
        caller.require_role(&[Role::ShaAdmin], "UpsertParticipant")?;
        let request = request.into_inner();
        let row = participants::validate(request.participant.as_ref())?;
        let reply = self
            .context
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.context.db, |txn| {
                Box::pin(async move {
                    let code = row.participant_code.clone();
                    queries::save_participant(txn, row).await?;
                    let stored = queries::find_participant(txn, &code)
                        .await?
                        .ok_or_else(|| ApiError::internal("participant vanished"))?;
                    Ok(pb::UpsertParticipantResponse {
                        participant: Some(participants::to_proto(stored)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn get_participant(
        &self,
        request: Request<pb::GetParticipantRequest>,
    ) -> Reply<pb::GetParticipantResponse> {
        Caller::of(&request).require_role(&[Role::ShaAdmin], "GetParticipant")?;
        let code = convert::required_text("participant_code", &request.get_ref().participant_code)?;
        let row = queries::find_participant(&self.context.db, &code)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no participant {code}")))?;
        Ok(Response::new(pb::GetParticipantResponse {
            participant: Some(participants::to_proto(row)),
        }))
    }

    async fn list_participants(
        &self,
        request: Request<pb::ListParticipantsRequest>,
    ) -> Reply<pb::ListParticipantsResponse> {
        Caller::of(&request).require_role(&[Role::ShaAdmin], "ListParticipants")?;
        let rows = queries::list_participants(&self.context.db)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::ListParticipantsResponse {
            participants: rows.into_iter().map(participants::to_proto).collect(),
        }))
    }

    async fn list_exchanges(
        &self,
        request: Request<pb::ListExchangesRequest>,
    ) -> Reply<pb::ListExchangesResponse> {
        Caller::of(&request).require_role(&[Role::ShaAdmin], "ListExchanges")?;
        let request = request.into_inner();
        let size = match request.page_size {
            0 => 50,
            n @ 1..=500 => n,
            _ => {
                return Err(ApiError::invalid("page_size", "must be between 0 and 500").into());
            }
        };
        let rows = queries::list_exchanges(
            &self.context.db,
            convert::optional_text(&request.correlation_id).as_deref(),
            convert::optional_text(&request.participant_code).as_deref(),
            u64::try_from(size).unwrap_or(50),
        )
        .await
        .map_err(ApiError::from)?;
        Ok(Response::new(pb::ListExchangesResponse {
            exchanges: rows.into_iter().map(exchange_to_proto).collect(),
        }))
    }
}
