//! Families and beneficiaries (Aadhaar only as a keyed digest and last four
//! digits), card issuances, wallets with their append-only ledger and the
//! blocks held for each pre-authorisation, and card-creation campaigns.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    columns: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table).if_not_exists();
    for column in columns {
        index.col(Alias::new(*column));
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Families::Table)
                    .if_not_exists()
                    .col(string(Families::FamilyId).primary_key())
                    .col(string(Families::SourceList))
                    .col(string(Families::StateCode))
                    .col(string(Families::DistrictCode))
                    .col(string(Families::BlockCode))
                    .col(string(Families::VillageCode))
                    .col(timestamp_with_time_zone(Families::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Beneficiaries::Table)
                    .if_not_exists()
                    .col(string(Beneficiaries::BeneficiaryId).primary_key())
                    .col(string(Beneficiaries::FamilyId))
                    .col(string(Beneficiaries::Name))
                    .col(string(Beneficiaries::NameKey))
                    .col(string(Beneficiaries::Gender))
                    .col(integer(Beneficiaries::YearOfBirth))
                    .col(string(Beneficiaries::Relation))
                    .col(string(Beneficiaries::StateCode))
                    .col(string(Beneficiaries::DistrictCode))
                    .col(string(Beneficiaries::BlockCode))
                    .col(string(Beneficiaries::VillageCode))
                    .col(string(Beneficiaries::SourceList))
                    .col(string(Beneficiaries::EligibilityCategory))
                    .col(string(Beneficiaries::SchemeCodes))
                    .col(string_null(Beneficiaries::AadhaarDigest))
                    .col(string(Beneficiaries::AadhaarLast4))
                    .col(string_null(Beneficiaries::AbhaNumber))
                    .col(string_null(Beneficiaries::AbhaAddress))
                    .col(string_null(Beneficiaries::CardNumber))
                    .col(string(Beneficiaries::CardStatus))
                    .col(timestamp_with_time_zone_null(Beneficiaries::CardIssuedAt))
                    .col(timestamp_with_time_zone(Beneficiaries::CreatedAt))
                    .to_owned(),
            )
            .await?;
        let b = || Beneficiaries::Table;
        index(
            manager,
            "beneficiaries_natural_key",
            b(),
            &["family_id", "name_key", "year_of_birth"],
            true,
        )
        .await?;
        index(
            manager,
            "beneficiaries_by_aadhaar",
            b(),
            &["aadhaar_digest"],
            true,
        )
        .await?;
        index(
            manager,
            "beneficiaries_by_abha_number",
            b(),
            &["abha_number"],
            true,
        )
        .await?;
        index(
            manager,
            "beneficiaries_by_abha_address",
            b(),
            &["abha_address"],
            true,
        )
        .await?;
        index(
            manager,
            "beneficiaries_by_card",
            b(),
            &["card_number"],
            true,
        )
        .await?;
        index(
            manager,
            "beneficiaries_by_district_name",
            b(),
            &["district_code", "name_key"],
            false,
        )
        .await?;
        index(
            manager,
            "beneficiaries_by_family",
            b(),
            &["family_id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(CardIssuances::Table)
                    .if_not_exists()
                    .col(string(CardIssuances::CardNumber).primary_key())
                    .col(string(CardIssuances::BeneficiaryId))
                    .col(string(CardIssuances::OperatorId))
                    .col(string(CardIssuances::CentreId))
                    .col(string(CardIssuances::CampaignId))
                    .col(string(CardIssuances::KycReference))
                    .col(string(CardIssuances::StateCode))
                    .col(string(CardIssuances::DistrictCode))
                    .col(string(CardIssuances::BlockCode))
                    .col(date(CardIssuances::IssuedOn))
                    .col(timestamp_with_time_zone(CardIssuances::IssuedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "card_issuances_by_day",
            CardIssuances::Table,
            &["issued_on", "district_code"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Wallets::Table)
                    .if_not_exists()
                    .col(string(Wallets::WalletId).primary_key())
                    .col(string(Wallets::FamilyId))
                    .col(string(Wallets::SchemeCode))
                    .col(string(Wallets::Kind))
                    .col(date(Wallets::PolicyYearStart))
                    .col(big_integer(Wallets::CoverPaise))
                    .col(big_integer(Wallets::BlockedPaise))
                    .col(big_integer(Wallets::ConsumedPaise))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "wallets_one_per_year",
            Wallets::Table,
            &["family_id", "scheme_code", "policy_year_start"],
            true,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(PreauthBlocks::Table)
                    .if_not_exists()
                    .col(string(PreauthBlocks::PreauthId).primary_key())
                    .col(string(PreauthBlocks::WalletId))
                    .col(string(PreauthBlocks::BeneficiaryId))
                    .col(big_integer(PreauthBlocks::HeldPaise))
                    .col(big_integer(PreauthBlocks::ConsumedPaise))
                    .col(big_integer(PreauthBlocks::ReleasedPaise))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LedgerEntries::Table)
                    .if_not_exists()
                    .col(string(LedgerEntries::EntryId).primary_key())
                    .col(string(LedgerEntries::WalletId))
                    .col(string(LedgerEntries::Kind))
                    .col(big_integer(LedgerEntries::AmountPaise))
                    .col(string(LedgerEntries::PreauthId))
                    .col(string(LedgerEntries::ClaimId))
                    .col(string(LedgerEntries::Reason))
                    .col(string(LedgerEntries::ActorId))
                    .col(string(LedgerEntries::ActorKind))
                    .col(string(LedgerEntries::TraceId))
                    .col(big_integer(LedgerEntries::AvailableAfterPaise))
                    .col(timestamp_with_time_zone(LedgerEntries::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ledger_entries_by_wallet",
            LedgerEntries::Table,
            &["wallet_id", "entry_id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Campaigns::Table)
                    .if_not_exists()
                    .col(string(Campaigns::CampaignId).primary_key())
                    .col(string(Campaigns::Name))
                    .col(string(Campaigns::StateCode))
                    .col(string(Campaigns::DistrictCode))
                    .col(date(Campaigns::StartDate))
                    .col(date(Campaigns::EndDate))
                    .col(string(Campaigns::Status))
                    .col(big_integer(Campaigns::TargetCards))
                    .col(timestamp_with_time_zone(Campaigns::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Camps::Table)
                    .if_not_exists()
                    .col(string(Camps::CampId).primary_key())
                    .col(string(Camps::CampaignId))
                    .col(string(Camps::Venue))
                    .col(string(Camps::BlockCode))
                    .col(string(Camps::VillageCode))
                    .col(string(Camps::OperatorId))
                    .col(string(Camps::StandbyOperatorId))
                    .col(date(Camps::StartDate))
                    .col(date(Camps::EndDate))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "camps_by_campaign",
            Camps::Table,
            &["campaign_id"],
            false,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Camps::Table.into_iden(),
            Campaigns::Table.into_iden(),
            LedgerEntries::Table.into_iden(),
            PreauthBlocks::Table.into_iden(),
            Wallets::Table.into_iden(),
            CardIssuances::Table.into_iden(),
            Beneficiaries::Table.into_iden(),
            Families::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Families {
    Table,
    FamilyId,
    SourceList,
    StateCode,
    DistrictCode,
    BlockCode,
    VillageCode,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Beneficiaries {
    Table,
    BeneficiaryId,
    FamilyId,
    Name,
    NameKey,
    Gender,
    YearOfBirth,
    Relation,
    StateCode,
    DistrictCode,
    BlockCode,
    VillageCode,
    SourceList,
    EligibilityCategory,
    SchemeCodes,
    AadhaarDigest,
    AadhaarLast4,
    AbhaNumber,
    AbhaAddress,
    CardNumber,
    CardStatus,
    CardIssuedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CardIssuances {
    Table,
    CardNumber,
    BeneficiaryId,
    OperatorId,
    CentreId,
    CampaignId,
    KycReference,
    StateCode,
    DistrictCode,
    BlockCode,
    IssuedOn,
    IssuedAt,
}

#[derive(DeriveIden)]
enum Wallets {
    Table,
    WalletId,
    FamilyId,
    SchemeCode,
    Kind,
    PolicyYearStart,
    CoverPaise,
    BlockedPaise,
    ConsumedPaise,
}

#[derive(DeriveIden)]
enum PreauthBlocks {
    Table,
    PreauthId,
    WalletId,
    BeneficiaryId,
    HeldPaise,
    ConsumedPaise,
    ReleasedPaise,
}

#[derive(DeriveIden)]
enum LedgerEntries {
    Table,
    EntryId,
    WalletId,
    Kind,
    AmountPaise,
    PreauthId,
    ClaimId,
    Reason,
    ActorId,
    ActorKind,
    TraceId,
    AvailableAfterPaise,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    CampaignId,
    Name,
    StateCode,
    DistrictCode,
    StartDate,
    EndDate,
    Status,
    TargetCards,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Camps {
    Table,
    CampId,
    CampaignId,
    Venue,
    BlockCode,
    VillageCode,
    OperatorId,
    StandbyOperatorId,
    StartDate,
    EndDate,
}
