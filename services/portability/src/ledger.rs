//! The inter-state settlement ledger and its monthly netting.

use ayushman_platform::ApiError;
use ayushman_proto::portability::v1::StatementStatus;
use sea_orm::ConnectionTrait;

use crate::{
    rules::{self, NettedPair},
    store::{
        entities::{netting_statement, settlement},
        queries,
    },
};

/// Records what a payer state owes a treating state for a claim. The same
/// claim again returns the first entry; different amounts or states for a
/// recorded claim are refused, and so is a month already settled.
pub async fn record(
    db: &impl ConnectionTrait,
    entry: settlement::Model,
) -> Result<settlement::Model, ApiError> {
    if let Some(existing) = queries::find_settlement(db, &entry.claim_id).await? {
        let as_stored = settlement::Model {
            recorded_at: existing.recorded_at,
            statement_id: existing.statement_id.clone(),
            ..entry.clone()
        };
        return if as_stored == existing {
            Ok(existing)
        } else {
            Err(ApiError::AlreadyExists(format!(
                "claim {} is already in the ledger with other details",
                entry.claim_id
            )))
        };
    }
    if let Some(statement) = queries::statement_of_month(db, entry.month).await?
        && statement.status == StatementStatus::Settled.as_str_name()
    {
        return Err(ApiError::FailedPrecondition(format!(
            "{} is settled; record claim {} in an open month",
            statement.statement_id, entry.claim_id
        )));
    }
    queries::insert_settlement(db, entry.clone()).await?;
    Ok(entry)
}

/// A netting statement with its pairs.
pub type Statement = (netting_statement::Model, Vec<NettedPair>);

fn statement_id(month: i32) -> String {
    format!("NET-{}-{:02}", month / 100, month % 100)
}

/// Nets a month. While the statement is open this recomputes it from every
/// settlement of the month (late entries included); once settled it is final.
/// Running it twice gives the same statement.
pub async fn monthly_netting(db: &impl ConnectionTrait, month: i32) -> Result<Statement, ApiError> {
    let id = statement_id(month);
    let row = match queries::statement_of_month(db, month).await? {
        Some(row) => row,
        None => {
            let row = netting_statement::Model {
                statement_id: id.clone(),
                month,
                status: StatementStatus::Open.as_str_name().to_owned(),
                settlement_reference: String::new(),
                created_at: ayushman_platform::db::now(),
                settled_at: None,
            };
            queries::insert_statement(db, row.clone()).await?;
            row
        }
    };
    if row.status == StatementStatus::Open.as_str_name() {
        queries::assign_statement(db, month, &id).await?;
    }
    let entries = queries::settlements_of_month(db, month).await?;
    let in_statement: Vec<_> = entries
        .into_iter()
        .filter(|e| e.statement_id.as_deref() == Some(id.as_str()))
        .collect();
    let pairs = rules::net(&in_statement)
        .ok_or_else(|| ApiError::internal(format!("netting {id} overflows 64-bit paise")))?;
    Ok((row, pairs))
}

/// Marks a statement settled with the transfer's reference; repeating it is harmless.
pub async fn mark_settled(
    db: &impl ConnectionTrait,
    statement_id: &str,
    reference: &str,
) -> Result<Statement, ApiError> {
    let row = queries::find_statement(db, statement_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no netting statement {statement_id}")))?;
    let month = row.month;
    if row.status == StatementStatus::Settled.as_str_name() {
        if row.settlement_reference != reference {
            return Err(ApiError::FailedPrecondition(format!(
                "{statement_id} was settled with reference {}",
                row.settlement_reference
            )));
        }
    } else {
        queries::settle_statement(
            db,
            row,
            StatementStatus::Settled.as_str_name(),
            reference,
            ayushman_platform::db::now(),
        )
        .await?;
    }
    monthly_netting(db, month).await
}
