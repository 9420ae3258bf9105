//! Separation of duties (DESIGN §4): the user who adjudicated a claim does not
//! give its final approval, and no user who approved a claim marks it paid.
//! Who did what is read from the claims' histories, whose actors are the
//! authenticated users of partners' calls.

use ayushman_platform::{ApiError, Caller};
use ayushman_proto::{ProtoEnum, claims::v1::ClaimStatus};
use sea_orm::ConnectionTrait;

use crate::store::CLAIM_HISTORY;

/// Statuses a claim enters when someone approves it (in part, or for final approval).
const APPROVALS: [ClaimStatus; 3] = [
    ClaimStatus::PendingFinalApproval,
    ClaimStatus::Approved,
    ClaimStatus::PartiallyApproved,
];

/// PERMISSION_DENIED when the caller adjudicated `claim_id` (sent it for the
/// final approval it now tries to give).
pub async fn ensure_not_adjudicator(
    db: &impl ConnectionTrait,
    caller: &Caller,
    claim_id: &str,
) -> Result<(), ApiError> {
    if caller.user().is_none() {
        return Ok(());
    }
    let adjudicator = CLAIM_HISTORY
        .of(db, &[claim_id])
        .await?
        .into_iter()
        .rev()
        .find(|row| row.status == ClaimStatus::PendingFinalApproval.as_str_name())
        .map(|row| row.actor.id)
        .unwrap_or_default();
    caller.ensure_other_user(
        &adjudicator,
        &format!("adjudicated claim {claim_id}"),
        "give its final approval",
    )
}

/// PERMISSION_DENIED when the caller approved any of `claim_ids` (a batch
/// it now tries to mark paid).
pub async fn ensure_not_approver(
    db: &impl ConnectionTrait,
    caller: &Caller,
    claim_ids: &[String],
    batch_id: &str,
) -> Result<(), ApiError> {
    let Some(user) = caller.user() else {
        return Ok(());
    };
    let approvals: Vec<&str> = APPROVALS.iter().map(ProtoEnum::as_str_name).collect();
    for (claim_id, history) in CLAIM_HISTORY.of_many(db, claim_ids).await? {
        let approved = history
            .iter()
            .any(|row| row.actor.id == user.user_id && approvals.contains(&row.status.as_str()));
        if approved {
            caller.ensure_other_user(
                &user.user_id,
                &format!("approved claim {claim_id}"),
                &format!("mark payment batch {batch_id} paid"),
            )?;
        }
    }
    Ok(())
}
