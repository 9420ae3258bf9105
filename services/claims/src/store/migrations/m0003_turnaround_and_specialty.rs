//! A claim's settlement clock pauses while it is queried back to the hospital
//! (`queried_at`), and a claim keeps its treatment's specialty for the
//! out-of-state spend view.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Claims::Table)
                    .add_column(timestamp_with_time_zone_null(Claims::QueriedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Claims::Table)
                    .add_column(string(Claims::SpecialtyCode).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("claims_paid_by_month")
                    .table(Claims::Table)
                    .col(Claims::PaidAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("claims_paid_by_month")
                    .table(Claims::Table)
                    .to_owned(),
            )
            .await?;
        for column in [Claims::QueriedAt, Claims::SpecialtyCode] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Claims::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Claims {
    Table,
    QueriedAt,
    SpecialtyCode,
    PaidAt,
}
