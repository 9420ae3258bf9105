//! A hospital's preauths per admission day, kept as they are received. The
//! high-volume signal compared today with the month before by counting the
//! hospital's preauths on every raise, a scan that grew with the hospital
//! (a busy one has thousands a month); now it reads at most 31 rows.
//! Existing preauths are counted in once.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(facility_days_table()).await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO facility_days (hfr_id, admission_date, preauths) \
                 SELECT hfr_id, admission_date, COUNT(*) FROM preauths \
                 GROUP BY hfr_id, admission_date",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FacilityDays::Table).to_owned())
            .await
    }
}

/// The table of one count per hospital and day (also what m0006 undoes to).
pub(super) fn facility_days_table() -> TableCreateStatement {
    Table::create()
        .table(FacilityDays::Table)
        .if_not_exists()
        .col(ColumnDef::new(FacilityDays::HfrId).string().not_null())
        .col(
            ColumnDef::new(FacilityDays::AdmissionDate)
                .date()
                .not_null(),
        )
        .col(
            ColumnDef::new(FacilityDays::Preauths)
                .big_integer()
                .not_null(),
        )
        .primary_key(
            Index::create()
                .col(FacilityDays::HfrId)
                .col(FacilityDays::AdmissionDate),
        )
        .to_owned()
}

#[derive(DeriveIden)]
enum FacilityDays {
    Table,
    HfrId,
    AdmissionDate,
    Preauths,
}
