//! Indexes that find a preauth's history, lines and flags without scanning
//! every preauth's.

use sea_orm_migration::prelude::*;

use crate::store::PREAUTH_HISTORY;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(PREAUTH_HISTORY.index()).await?;
        manager
            .create_index(
                Index::create()
                    .name("preauth_flags_by_preauth")
                    .table(PreauthFlags::Table)
                    .col(PreauthFlags::PreauthId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("preauth_flags_by_preauth")
                    .table(PreauthFlags::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(format!("idx_{}_record", PREAUTH_HISTORY.table))
                    .table(PREAUTH_HISTORY.table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum PreauthFlags {
    Table,
    PreauthId,
}
