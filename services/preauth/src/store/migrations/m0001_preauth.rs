//! The package catalogue (rates per state, add-ons) and pre-authorisations
//! with their priced lines, status history, fraud flags and saga state.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Packages::Table)
                    .if_not_exists()
                    .col(string(Packages::PackageCode).primary_key())
                    .col(string(Packages::Name))
                    .col(string(Packages::SpecialtyCode))
                    .col(big_integer(Packages::BaseRatePaise))
                    .col(boolean(Packages::ReservedForPublic))
                    .col(integer(Packages::ExpectedStayDays))
                    .col(boolean(Packages::Active))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PackageRates::Table)
                    .if_not_exists()
                    .col(string(PackageRates::PackageCode))
                    .col(string(PackageRates::StateCode))
                    .col(big_integer(PackageRates::RatePaise))
                    .primary_key(
                        Index::create()
                            .col(PackageRates::PackageCode)
                            .col(PackageRates::StateCode),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PackageAddOns::Table)
                    .if_not_exists()
                    .col(string(PackageAddOns::PackageCode))
                    .col(string(PackageAddOns::AddOnCode))
                    .col(string(PackageAddOns::Name))
                    .col(string(PackageAddOns::Kind))
                    .col(big_integer(PackageAddOns::AmountPaise))
                    .col(integer(PackageAddOns::PercentBasisPoints))
                    .primary_key(
                        Index::create()
                            .col(PackageAddOns::PackageCode)
                            .col(PackageAddOns::AddOnCode),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Preauths::Table)
                    .if_not_exists()
                    .col(string(Preauths::PreauthId).primary_key())
                    .col(string(Preauths::IdempotencyKey).unique_key())
                    .col(string(Preauths::RequestFingerprint))
                    .col(string(Preauths::BeneficiaryId))
                    .col(string(Preauths::CardNumber))
                    .col(string(Preauths::FamilyId))
                    .col(string(Preauths::HomeStateCode))
                    .col(string(Preauths::SchemeCode))
                    .col(string(Preauths::HfrId))
                    .col(string(Preauths::FacilityStateCode))
                    .col(string(Preauths::FacilityDistrictCode))
                    .col(string(Preauths::FacilityOwnership))
                    .col(string(Preauths::TreatingHprId))
                    .col(date(Preauths::AdmissionDate))
                    .col(date_null(Preauths::DischargeDate))
                    .col(string(Preauths::Status))
                    .col(big_integer(Preauths::RequestedAmountPaise))
                    .col(big_integer(Preauths::ApprovedAmountPaise))
                    .col(big_integer(Preauths::BlockedAmountPaise))
                    .col(integer(Preauths::Enhancements))
                    .col(boolean(Preauths::PortabilityCase))
                    .col(string(Preauths::AgreementId))
                    .col(string(Preauths::PayerSchemeCode))
                    .col(string(Preauths::PayerStateCode))
                    .col(string(Preauths::FailureReason))
                    .col(string(Preauths::ProvisionalDiagnosis))
                    .col(boolean(Preauths::DeemedApproval))
                    .col(string(Preauths::SagaState))
                    .col(timestamp_with_time_zone(Preauths::CreatedAt))
                    .col(timestamp_with_time_zone(Preauths::RaisedAt).null())
                    .col(timestamp_with_time_zone(Preauths::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "preauths_by_beneficiary",
                vec![Preauths::BeneficiaryId, Preauths::AdmissionDate],
            ),
            (
                "preauths_by_facility_day",
                vec![Preauths::HfrId, Preauths::AdmissionDate],
            ),
            (
                "preauths_by_status",
                vec![Preauths::Status, Preauths::SagaState],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Preauths::Table).if_not_exists();
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PreauthLines::Table)
                    .if_not_exists()
                    .col(string(PreauthLines::PreauthId))
                    .col(integer(PreauthLines::LineNo))
                    .col(string(PreauthLines::PackageCode))
                    .col(string(PreauthLines::SpecialtyCode))
                    .col(string(PreauthLines::AddOnCodes))
                    .col(big_integer(PreauthLines::RatePaise))
                    .col(big_integer(PreauthLines::AddOnsPaise))
                    .col(big_integer(PreauthLines::AmountPaise))
                    .col(string(PreauthLines::RateSource))
                    .primary_key(
                        Index::create()
                            .col(PreauthLines::PreauthId)
                            .col(PreauthLines::LineNo),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(crate::store::PREAUTH_HISTORY.create())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PreauthFlags::Table)
                    .if_not_exists()
                    .col(big_integer(PreauthFlags::Id).primary_key().auto_increment())
                    .col(string(PreauthFlags::PreauthId))
                    .col(string(PreauthFlags::Kind))
                    .col(string(PreauthFlags::Reason))
                    .col(string(PreauthFlags::RelatedPreauthId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PreauthFlags::Table.into_iden(),
            crate::store::PREAUTH_HISTORY.table.into_iden(),
            PreauthLines::Table.into_iden(),
            Preauths::Table.into_iden(),
            PackageAddOns::Table.into_iden(),
            PackageRates::Table.into_iden(),
            Packages::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Packages {
    Table,
    PackageCode,
    Name,
    SpecialtyCode,
    BaseRatePaise,
    ReservedForPublic,
    ExpectedStayDays,
    Active,
}

#[derive(DeriveIden)]
enum PackageRates {
    Table,
    PackageCode,
    StateCode,
    RatePaise,
}

#[derive(DeriveIden)]
enum PackageAddOns {
    Table,
    PackageCode,
    AddOnCode,
    Name,
    Kind,
    AmountPaise,
    PercentBasisPoints,
}

#[derive(DeriveIden)]
enum Preauths {
    Table,
    PreauthId,
    IdempotencyKey,
    RequestFingerprint,
    BeneficiaryId,
    CardNumber,
    FamilyId,
    HomeStateCode,
    SchemeCode,
    HfrId,
    FacilityStateCode,
    FacilityDistrictCode,
    FacilityOwnership,
    TreatingHprId,
    AdmissionDate,
    DischargeDate,
    Status,
    RequestedAmountPaise,
    ApprovedAmountPaise,
    BlockedAmountPaise,
    Enhancements,
    PortabilityCase,
    AgreementId,
    PayerSchemeCode,
    PayerStateCode,
    FailureReason,
    ProvisionalDiagnosis,
    DeemedApproval,
    SagaState,
    CreatedAt,
    RaisedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PreauthLines {
    Table,
    PreauthId,
    LineNo,
    PackageCode,
    SpecialtyCode,
    AddOnCodes,
    RatePaise,
    AddOnsPaise,
    AmountPaise,
    RateSource,
}

#[derive(DeriveIden)]
enum PreauthFlags {
    Table,
    Id,
    PreauthId,
    Kind,
    Reason,
    RelatedPreauthId,
}
