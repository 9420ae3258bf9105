//! Agreements with their history, the inter-state settlement ledger, and monthly
//! netting statements. Amounts are paise in BIGINT; months are `year*100+month`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Agreements::Table)
                    .if_not_exists()
                    .col(string(Agreements::AgreementId).primary_key())
                    .col(string(Agreements::HomeSchemeCode))
                    .col(string(Agreements::HomeStateCode))
                    .col(boolean(Agreements::AllStates))
                    .col(string(Agreements::TreatingStateCodes))
                    .col(date(Agreements::EffectiveFrom))
                    .col(date_null(Agreements::EffectiveUntil))
                    .col(string(Agreements::RateRule))
                    .col(string(Agreements::PayerSchemeCode))
                    .col(string(Agreements::EmpanelmentSchemeCode))
                    .col(string(Agreements::Status))
                    .col(string(Agreements::StatusReason))
                    .col(timestamp_with_time_zone(Agreements::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("agreements_by_home_scheme")
                    .table(Agreements::Table)
                    .col(Agreements::HomeSchemeCode)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(crate::store::AGREEMENT_HISTORY.create())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Settlements::Table)
                    .if_not_exists()
                    .col(string(Settlements::ClaimId).primary_key())
                    .col(string(Settlements::PayerSchemeCode))
                    .col(string(Settlements::PayerStateCode))
                    .col(string(Settlements::TreatingStateCode))
                    .col(big_integer(Settlements::AmountPaise))
                    .col(integer(Settlements::Month))
                    .col(string_null(Settlements::StatementId))
                    .col(timestamp_with_time_zone(Settlements::RecordedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("settlements_by_month")
                    .table(Settlements::Table)
                    .col(Settlements::Month)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NettingStatements::Table)
                    .if_not_exists()
                    .col(string(NettingStatements::StatementId).primary_key())
                    .col(integer(NettingStatements::Month).unique_key())
                    .col(string(NettingStatements::Status))
                    .col(string(NettingStatements::SettlementReference))
                    .col(timestamp_with_time_zone(NettingStatements::CreatedAt))
                    .col(timestamp_with_time_zone_null(NettingStatements::SettledAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            NettingStatements::Table.into_iden(),
            Settlements::Table.into_iden(),
            crate::store::AGREEMENT_HISTORY.table.into_iden(),
            Agreements::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Agreements {
    Table,
    AgreementId,
    HomeSchemeCode,
    HomeStateCode,
    AllStates,
    TreatingStateCodes,
    EffectiveFrom,
    EffectiveUntil,
    RateRule,
    PayerSchemeCode,
    EmpanelmentSchemeCode,
    Status,
    StatusReason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Settlements {
    Table,
    ClaimId,
    PayerSchemeCode,
    PayerStateCode,
    TreatingStateCode,
    AmountPaise,
    Month,
    StatementId,
    RecordedAt,
}

#[derive(DeriveIden)]
enum NettingStatements {
    Table,
    StatementId,
    Month,
    Status,
    SettlementReference,
    CreatedAt,
    SettledAt,
}
