//! Schemes become data (DESIGN §4, Cover: a state adds its scheme, changes a
//! cover or a draw order without a release), seeded with the four the registry
//! started with; and a preauth may hold cover on several wallets (drawn in
//! order), so holds are keyed by preauth and wallet; a personal cover's
//! wallet names the member it belongs to.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The schemes the registry started with, as they were configured by default.
const SEED: &str = "INSERT INTO schemes (scheme_code, name, sponsor, state_code, cover_kind, \
cover_paise, year_start_month, year_start_day, eligibility_categories, enrolments, \
portability_allowed, tops_up_scheme_code, minimum_age_years, draw_order, \
reserved_package_codes, network_scheme_code, status) VALUES \
('PMJAY', 'Ayushman Bharat Pradhan Mantri Jan Arogya Yojana', 'SCHEME_SPONSOR_CENTRAL', '', \
 'COVER_KIND_FAMILY_FLOATER', 50000000, 4, 1, \
 'SECC-D1,SECC-D2,SECC-D3,SECC-D4,SECC-D5,SECC-D7,SECC-AUTO,NFSA-AAY,NFSA-PHH', \
 'SOURCE_LIST_SECC:,SOURCE_LIST_NFSA:22', TRUE, '', 0, 1, '', '', 'SCHEME_STATUS_ACTIVE'), \
('PMJAY-70PLUS', 'Ayushman Vay Vandana: PM-JAY for citizens aged 70 and over', \
 'SCHEME_SPONSOR_CENTRAL', '', 'COVER_KIND_SENIOR_TOP_UP', 50000000, 4, 1, 'AGE-70-PLUS', \
 'SOURCE_LIST_AGE_70_PLUS:', TRUE, 'PMJAY', 70, 2, '', 'PMJAY', 'SCHEME_STATUS_ACTIVE'), \
('RJ-MAA', 'Mukhyamantri Ayushman Arogya Yojana (Rajasthan)', 'SCHEME_SPONSOR_STATE', '08', \
 'COVER_KIND_FAMILY_FLOATER', 250000000, 4, 1, 'NFSA-AAY,NFSA-PHH,STATE-LIST', \
 'SOURCE_LIST_NFSA:08,SOURCE_LIST_STATE_LIST:08', TRUE, '', 0, 3, '', '', 'SCHEME_STATUS_ACTIVE'), \
('BR-MJAY', 'Mukhyamantri Jan Arogya Yojana (Bihar)', 'SCHEME_SPONSOR_STATE', '10', \
 'COVER_KIND_FAMILY_FLOATER', 50000000, 4, 1, 'NFSA-AAY,NFSA-PHH', 'SOURCE_LIST_NFSA:10', \
 TRUE, '', 0, 3, '', '', 'SCHEME_STATUS_ACTIVE')";

/// What each preauth held, moved from the one-wallet table.
const MOVE_BLOCKS: &str = "INSERT INTO preauth_holds (preauth_id, wallet_id, scheme_code, \
draw_order, beneficiary_id, held_paise, consumed_paise, released_paise) \
SELECT b.preauth_id, b.wallet_id, w.scheme_code, 1, b.beneficiary_id, b.held_paise, \
b.consumed_paise, b.released_paise FROM preauth_blocks b JOIN wallets w ON w.wallet_id = b.wallet_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Schemes::Table)
                    .if_not_exists()
                    .col(string(Schemes::SchemeCode).primary_key())
                    .col(string(Schemes::Name))
                    .col(string(Schemes::Sponsor))
                    .col(string(Schemes::StateCode))
                    .col(string(Schemes::CoverKind))
                    .col(big_integer(Schemes::CoverPaise))
                    .col(integer(Schemes::YearStartMonth))
                    .col(integer(Schemes::YearStartDay))
                    .col(text(Schemes::EligibilityCategories))
                    .col(text(Schemes::Enrolments))
                    .col(boolean(Schemes::PortabilityAllowed))
                    .col(string(Schemes::TopsUpSchemeCode))
                    .col(integer(Schemes::MinimumAgeYears))
                    .col(integer(Schemes::DrawOrder))
                    .col(text(Schemes::ReservedPackageCodes))
                    .col(string(Schemes::NetworkSchemeCode))
                    .col(string(Schemes::Status))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(SEED).await?;
        manager
            .create_table(
                Table::create()
                    .table(PreauthHolds::Table)
                    .if_not_exists()
                    .col(string(PreauthHolds::PreauthId))
                    .col(string(PreauthHolds::WalletId))
                    .col(string(PreauthHolds::SchemeCode))
                    .col(integer(PreauthHolds::DrawOrder))
                    .col(string(PreauthHolds::BeneficiaryId))
                    .col(big_integer(PreauthHolds::HeldPaise))
                    .col(big_integer(PreauthHolds::ConsumedPaise))
                    .col(big_integer(PreauthHolds::ReleasedPaise))
                    .primary_key(
                        Index::create()
                            .col(PreauthHolds::PreauthId)
                            .col(PreauthHolds::WalletId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("preauth_holds_by_wallet")
                    .table(PreauthHolds::Table)
                    .col(PreauthHolds::WalletId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(MOVE_BLOCKS).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Wallets::Table)
                    .add_column(string(Wallets::BeneficiaryId).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(PreauthBlocks::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Wallets::Table)
                    .drop_column(Wallets::BeneficiaryId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(PreauthHolds::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Schemes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Schemes {
    Table,
    SchemeCode,
    Name,
    Sponsor,
    StateCode,
    CoverKind,
    CoverPaise,
    YearStartMonth,
    YearStartDay,
    EligibilityCategories,
    Enrolments,
    PortabilityAllowed,
    TopsUpSchemeCode,
    MinimumAgeYears,
    DrawOrder,
    ReservedPackageCodes,
    NetworkSchemeCode,
    Status,
}

#[derive(DeriveIden)]
enum PreauthHolds {
    Table,
    PreauthId,
    WalletId,
    SchemeCode,
    DrawOrder,
    BeneficiaryId,
    HeldPaise,
    ConsumedPaise,
    ReleasedPaise,
}

#[derive(DeriveIden)]
enum PreauthBlocks {
    Table,
}

#[derive(DeriveIden)]
enum Wallets {
    Table,
    BeneficiaryId,
}
