//! A facility issues each OPD token once a day: (facility, day, token) is the
//! natural key that makes re-uploaded batches count as duplicates.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("opd_registrations_token_per_day")
                    .table(OpdRegistrations::Table)
                    .col(OpdRegistrations::HfrId)
                    .col(OpdRegistrations::VisitDate)
                    .col(OpdRegistrations::TokenNumber)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("opd_registrations_token_per_day")
                    .table(OpdRegistrations::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum OpdRegistrations {
    Table,
    HfrId,
    VisitDate,
    TokenNumber,
}
