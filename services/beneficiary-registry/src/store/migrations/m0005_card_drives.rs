//! Card drives as districts run them: the area master (district →
//! sub-division → block → village), the operator master with login status and
//! fee, mobilisers, a campaign's block nodal officers and targets, and on every
//! card how it was made (operator, self-service, imported), who brought the
//! family and the fee charged.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Areas::Table)
                    .if_not_exists()
                    .col(string(Areas::Code).primary_key())
                    .col(string(Areas::Level))
                    .col(string(Areas::Name))
                    .col(string(Areas::ParentCode))
                    .col(string(Areas::StateCode))
                    .col(string(Areas::DistrictCode))
                    .col(timestamp_with_time_zone(Areas::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("areas_by_district")
                    .table(Areas::Table)
                    .col(Areas::DistrictCode)
                    .col(Areas::Code)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Operators::Table)
                    .if_not_exists()
                    .col(string(Operators::LoginId).primary_key())
                    .col(string(Operators::Name))
                    .col(string(Operators::Kind))
                    .col(string(Operators::CentreId))
                    .col(string(Operators::StateCode))
                    .col(string(Operators::DistrictCode))
                    .col(string(Operators::BlockCode))
                    .col(string(Operators::Status))
                    .col(big_integer(Operators::FeePerCardPaise))
                    .col(timestamp_with_time_zone(Operators::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("operators_by_district")
                    .table(Operators::Table)
                    .col(Operators::DistrictCode)
                    .col(Operators::LoginId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Mobilisers::Table)
                    .if_not_exists()
                    .col(string(Mobilisers::MobiliserId).primary_key())
                    .col(string(Mobilisers::Name))
                    .col(string(Mobilisers::GroupName))
                    .col(string(Mobilisers::StateCode))
                    .col(string(Mobilisers::DistrictCode))
                    .col(string(Mobilisers::BlockCode))
                    .col(boolean(Mobilisers::Active))
                    .col(timestamp_with_time_zone(Mobilisers::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("mobilisers_by_district")
                    .table(Mobilisers::Table)
                    .col(Mobilisers::DistrictCode)
                    .col(Mobilisers::MobiliserId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CampaignBlocks::Table)
                    .if_not_exists()
                    .col(string(CampaignBlocks::CampaignId))
                    .col(string(CampaignBlocks::BlockCode))
                    .col(string(CampaignBlocks::NodalOfficerName))
                    .col(string(CampaignBlocks::NodalOfficerDesignation))
                    .col(string(CampaignBlocks::NodalOfficerMobile))
                    .col(big_integer(CampaignBlocks::TargetCards))
                    .primary_key(
                        Index::create()
                            .col(CampaignBlocks::CampaignId)
                            .col(CampaignBlocks::BlockCode),
                    )
                    .to_owned(),
            )
            .await?;
        for column in [
            ColumnDef::new(Beneficiaries::CardChannel)
                .string()
                .not_null()
                .default("")
                .to_owned(),
            ColumnDef::new(Beneficiaries::CardMobiliserId)
                .string()
                .not_null()
                .default("")
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Beneficiaries::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            ColumnDef::new(CardIssuances::Channel)
                .string()
                .not_null()
                .default("CARD_CHANNEL_OPERATOR")
                .to_owned(),
            ColumnDef::new(CardIssuances::MobiliserId)
                .string()
                .not_null()
                .default("")
                .to_owned(),
            ColumnDef::new(CardIssuances::FeePaise)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CardIssuances::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // Cards made before this migration were made by operators, or came
        // with the eligibility list when no issuance records them.
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE beneficiaries SET card_channel = 'CARD_CHANNEL_OPERATOR' \
             WHERE card_number IS NOT NULL AND beneficiary_id IN \
             (SELECT beneficiary_id FROM card_issuances)",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE beneficiaries SET card_channel = 'CARD_CHANNEL_IMPORTED' \
             WHERE card_number IS NOT NULL AND card_channel = ''",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("card_issuances_by_district_day")
                    .table(CardIssuances::Table)
                    .col(CardIssuances::DistrictCode)
                    .col(CardIssuances::IssuedOn)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("card_issuances_by_campaign")
                    .table(CardIssuances::Table)
                    .col(CardIssuances::CampaignId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("beneficiaries_by_district_block")
                    .table(Beneficiaries::Table)
                    .col(Beneficiaries::DistrictCode)
                    .col(Beneficiaries::BlockCode)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, name) in [
            (
                Beneficiaries::Table.into_iden(),
                "beneficiaries_by_district_block",
            ),
            (
                CardIssuances::Table.into_iden(),
                "card_issuances_by_campaign",
            ),
            (
                CardIssuances::Table.into_iden(),
                "card_issuances_by_district_day",
            ),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        for column in [
            CardIssuances::Channel,
            CardIssuances::MobiliserId,
            CardIssuances::FeePaise,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CardIssuances::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [Beneficiaries::CardChannel, Beneficiaries::CardMobiliserId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Beneficiaries::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for table in [
            CampaignBlocks::Table.into_iden(),
            Mobilisers::Table.into_iden(),
            Operators::Table.into_iden(),
            Areas::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Areas {
    Table,
    Code,
    Level,
    Name,
    ParentCode,
    StateCode,
    DistrictCode,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Operators {
    Table,
    LoginId,
    Name,
    Kind,
    CentreId,
    StateCode,
    DistrictCode,
    BlockCode,
    Status,
    FeePerCardPaise,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Mobilisers {
    Table,
    MobiliserId,
    Name,
    GroupName,
    StateCode,
    DistrictCode,
    BlockCode,
    Active,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CampaignBlocks {
    Table,
    CampaignId,
    BlockCode,
    NodalOfficerName,
    NodalOfficerDesignation,
    NodalOfficerMobile,
    TargetCards,
}

#[derive(DeriveIden)]
enum Beneficiaries {
    Table,
    CardChannel,
    CardMobiliserId,
    DistrictCode,
    BlockCode,
}

#[derive(DeriveIden)]
enum CardIssuances {
    Table,
    Channel,
    MobiliserId,
    FeePaise,
    CampaignId,
    DistrictCode,
    IssuedOn,
}
