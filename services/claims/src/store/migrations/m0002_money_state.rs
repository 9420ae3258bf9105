//! What a decided claim still owes the wallet (`money_state`), and the
//! indexes the payment run and the history read by: claims by status and
//! payer, claims of a batch, a claim's history.

use sea_orm_migration::{prelude::*, schema::*};

use crate::store::CLAIM_HISTORY;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Claims decided before this column existed moved their money at once.
        manager
            .alter_table(
                Table::alter()
                    .table(Claims::Table)
                    .add_column(string(Claims::MoneyState).default("SETTLED"))
                    .to_owned(),
            )
            .await?;
        for index in [
            Index::create()
                .name("claims_payable")
                .table(Claims::Table)
                .col(Claims::PayerStateCode)
                .col(Claims::Status)
                .col(Claims::ApprovedAt)
                .if_not_exists()
                .to_owned(),
            Index::create()
                .name("claims_by_batch")
                .table(Claims::Table)
                .col(Claims::PaymentBatchId)
                .if_not_exists()
                .to_owned(),
            Index::create()
                .name("claims_money_owed")
                .table(Claims::Table)
                .col(Claims::MoneyState)
                .if_not_exists()
                .to_owned(),
            CLAIM_HISTORY.index(),
        ] {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["claims_payable", "claims_by_batch", "claims_money_owed"] {
            manager
                .drop_index(Index::drop().name(name).table(Claims::Table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name(format!("idx_{}_record", CLAIM_HISTORY.table))
                    .table(CLAIM_HISTORY.table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Claims::Table)
                    .drop_column(Claims::MoneyState)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Claims {
    Table,
    PayerStateCode,
    Status,
    ApprovedAt,
    PaymentBatchId,
    MoneyState,
}
