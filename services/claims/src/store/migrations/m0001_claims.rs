//! Claims (one per pre-authorisation) with bill, documents and deductions as
//! JSON, their history, payment batches and hospital society credits.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Claims::Table)
                    .if_not_exists()
                    .col(string(Claims::ClaimId).primary_key())
                    .col(string(Claims::PreauthId).unique_key())
                    .col(string(Claims::HfrId))
                    .col(string(Claims::DistrictCode))
                    .col(string(Claims::FacilityStateCode))
                    .col(string(Claims::Ownership))
                    .col(string(Claims::BeneficiaryId))
                    .col(boolean(Claims::PortabilityCase))
                    .col(string(Claims::PayerSchemeCode))
                    .col(string(Claims::PayerStateCode))
                    .col(string(Claims::Status))
                    .col(big_integer(Claims::ClaimedAmountPaise))
                    .col(big_integer(Claims::ApprovedAmountPaise))
                    .col(text(Claims::Deductions))
                    .col(text(Claims::BillItems))
                    .col(text(Claims::Documents))
                    .col(date(Claims::DischargeDate))
                    .col(timestamp_with_time_zone(Claims::SubmittedAt))
                    .col(timestamp_with_time_zone(Claims::PaymentDueAt))
                    .col(timestamp_with_time_zone_null(Claims::ApprovedAt))
                    .col(timestamp_with_time_zone_null(Claims::PaidAt))
                    .col(big_integer(Claims::PenaltyPaise))
                    .col(string(Claims::PaymentBatchId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(crate::store::CLAIM_HISTORY.create())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PaymentBatches::Table)
                    .if_not_exists()
                    .col(string(PaymentBatches::PaymentBatchId).primary_key())
                    .col(string(PaymentBatches::PayerSchemeCode))
                    .col(string(PaymentBatches::PayerStateCode))
                    .col(string(PaymentBatches::Status))
                    .col(string(PaymentBatches::PaymentReference))
                    .col(timestamp_with_time_zone(PaymentBatches::CreatedAt))
                    .col(timestamp_with_time_zone_null(PaymentBatches::PaidAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SocietyCredits::Table)
                    .if_not_exists()
                    .col(string(SocietyCredits::ClaimId).primary_key())
                    .col(string(SocietyCredits::HfrId))
                    .col(string(SocietyCredits::SocietyName))
                    .col(string(SocietyCredits::BeneficiaryId))
                    .col(big_integer(SocietyCredits::AmountPaise))
                    .col(timestamp_with_time_zone(SocietyCredits::CreditedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SocietyCredits::Table.into_iden(),
            PaymentBatches::Table.into_iden(),
            crate::store::CLAIM_HISTORY.table.into_iden(),
            Claims::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Claims {
    Table,
    ClaimId,
    PreauthId,
    HfrId,
    DistrictCode,
    FacilityStateCode,
    Ownership,
    BeneficiaryId,
    PortabilityCase,
    PayerSchemeCode,
    PayerStateCode,
    Status,
    ClaimedAmountPaise,
    ApprovedAmountPaise,
    Deductions,
    BillItems,
    Documents,
    DischargeDate,
    SubmittedAt,
    PaymentDueAt,
    ApprovedAt,
    PaidAt,
    PenaltyPaise,
    PaymentBatchId,
}

#[derive(DeriveIden)]
enum PaymentBatches {
    Table,
    PaymentBatchId,
    PayerSchemeCode,
    PayerStateCode,
    Status,
    PaymentReference,
    CreatedAt,
    PaidAt,
}

#[derive(DeriveIden)]
enum SocietyCredits {
    Table,
    ClaimId,
    HfrId,
    SocietyName,
    BeneficiaryId,
    AmountPaise,
    CreditedAt,
}
