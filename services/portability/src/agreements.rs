//! Portability agreements and their lifecycle: drawn up as DRAFT, put in
//! force, suspended and reinstated, each change kept in the history.

use ayushman_platform::{
    ApiError,
    lifecycle::{self, Actor, HistoryRow, Lifecycle},
};
use ayushman_proto::portability::v1::AgreementStatus;
use sea_orm::{ConnectionTrait, IntoActiveModel, Set};

use crate::store::{AGREEMENT_HISTORY, entities::agreement, queries};

/// An agreement with its status history, oldest first.
pub type FullAgreement = (agreement::Model, Vec<HistoryRow>);

/// The statuses of an agreement and the moves between them.
pub struct Agreements;

impl Lifecycle for Agreements {
    type Status = AgreementStatus;
    const NOUN: &'static str = "agreement";
    const MOVES: &'static [(AgreementStatus, AgreementStatus)] = &[
        (AgreementStatus::Draft, AgreementStatus::Active),
        (AgreementStatus::Draft, AgreementStatus::Suspended),
        (AgreementStatus::Active, AgreementStatus::Suspended),
        (AgreementStatus::Suspended, AgreementStatus::Active),
    ];
}

pub async fn get_agreement(db: &impl ConnectionTrait, id: &str) -> Result<FullAgreement, ApiError> {
    let row = queries::find_agreement(db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no agreement with id {id}")))?;
    let history = AGREEMENT_HISTORY.of(db, &[id]).await?;
    Ok((row, history))
}

/// Creates an agreement; its first status is recorded in the history.
pub async fn create_agreement(
    db: &impl ConnectionTrait,
    row: agreement::Model,
    reason: &str,
    actor: &Actor,
) -> Result<FullAgreement, ApiError> {
    if queries::find_agreement(db, &row.agreement_id)
        .await?
        .is_some()
    {
        return Err(ApiError::AlreadyExists(format!(
            "agreement {} exists already",
            row.agreement_id
        )));
    }
    let (id, status) = (row.agreement_id.clone(), row.status);
    queries::insert_agreement(db, row).await?;
    AGREEMENT_HISTORY
        .append(db, &[&id], status.as_str_name(), reason, actor)
        .await?;
    get_agreement(db, &id).await
}

/// Moves an agreement to `status` (suspend or activate), keeping the reason;
/// asking for the status it has already changes nothing.
pub async fn set_status(
    db: &impl ConnectionTrait,
    id: &str,
    status: AgreementStatus,
    reason: &str,
    actor: &Actor,
) -> Result<FullAgreement, ApiError> {
    let (row, _) = get_agreement(db, id).await?;
    if row.status == status {
        return get_agreement(db, id).await;
    }
    let transition = Agreements::transition(id, *row.status, status)?;
    let mut changed = row.into_active_model();
    changed.status_reason = Set(reason.to_owned());
    lifecycle::save(db, changed, agreement::Column::Status, transition).await?;
    AGREEMENT_HISTORY
        .append(db, &[id], status.as_str_name(), reason, actor)
        .await?;
    get_agreement(db, id).await
}
