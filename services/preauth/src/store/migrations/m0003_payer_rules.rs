//! Payer rules (DESIGN §4): a preauth records the schemes it may draw on
//! (fixed before its first block, so a resumed saga asks for the same) and
//! those it holds cover on, and
//! when its review turnaround started (raised, or the hospital's last answer
//! to a query); enhancements are requests a reviewer decides before more
//! cover is blocked.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Preauths::Table)
                    .add_column(text(Preauths::DrawnSchemeCodes).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Preauths::Table)
                    .add_column(text(Preauths::SchemesToDraw).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Preauths::Table)
                    .add_column(timestamp_with_time_zone_null(Preauths::ReviewClockFrom))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE preauths SET review_clock_from = raised_at, drawn_scheme_codes = scheme_code, schemes_to_draw = scheme_code",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Enhancements::Table)
                    .if_not_exists()
                    .col(string(Enhancements::EnhancementId).primary_key())
                    .col(string(Enhancements::PreauthId))
                    .col(string(Enhancements::Status))
                    .col(text(Enhancements::Lines))
                    .col(big_integer(Enhancements::AmountPaise))
                    .col(string(Enhancements::Reason))
                    .col(string(Enhancements::RequestedBy))
                    .col(timestamp_with_time_zone(Enhancements::RequestedAt))
                    .col(string(Enhancements::DecidedById))
                    .col(string(Enhancements::DecidedByKind))
                    .col(string(Enhancements::DecisionReason))
                    .col(timestamp_with_time_zone_null(Enhancements::DecidedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("enhancements_by_preauth")
                    .table(Enhancements::Table)
                    .col(Enhancements::PreauthId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Enhancements::Table).to_owned())
            .await?;
        for column in [
            Preauths::DrawnSchemeCodes,
            Preauths::SchemesToDraw,
            Preauths::ReviewClockFrom,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Preauths::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Preauths {
    Table,
    DrawnSchemeCodes,
    SchemesToDraw,
    ReviewClockFrom,
}

#[derive(DeriveIden)]
enum Enhancements {
    Table,
    EnhancementId,
    PreauthId,
    Status,
    Lines,
    AmountPaise,
    Reason,
    RequestedBy,
    RequestedAt,
    DecidedById,
    DecidedByKind,
    DecisionReason,
    DecidedAt,
}
