//! A personal cover gives each member a wallet of their own, so a family may
//! hold several wallets of one scheme and year: the unique key of a wallet
//! is its holder — the family, or the member for a personal cover.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("wallets_one_per_year")
                    .table(Wallets::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("wallets_one_per_holder_and_year")
                    .table(Wallets::Table)
                    .col(Wallets::FamilyId)
                    .col(Wallets::BeneficiaryId)
                    .col(Wallets::SchemeCode)
                    .col(Wallets::PolicyYearStart)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("wallets_one_per_holder_and_year")
                    .table(Wallets::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("wallets_one_per_year")
                    .table(Wallets::Table)
                    .col(Wallets::FamilyId)
                    .col(Wallets::SchemeCode)
                    .col(Wallets::PolicyYearStart)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Wallets {
    Table,
    FamilyId,
    BeneficiaryId,
    SchemeCode,
    PolicyYearStart,
}
