//! The background worker asks, every few seconds, for preauths whose saga
//! still owes work; without an index that is a scan of every preauth.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "preauths_by_saga_state";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(Preauths::Table)
                    .col(Preauths::SagaState)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table(Preauths::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Preauths {
    Table,
    SagaState,
}
