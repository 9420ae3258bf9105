//! What ABDM's registries said of a facility or professional when it was
//! registered here, and when: the HFR's name, type and ownership; the HPR's
//! name, council and registration number.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Facilities::HfrName,
            Facilities::HfrFacilityType,
            Facilities::HfrOwnership,
        ] {
            add(
                manager,
                Facilities::Table,
                string(column).default("").to_owned(),
            )
            .await?;
        }
        add(
            manager,
            Facilities::Table,
            timestamp_with_time_zone_null(Facilities::HfrCheckedAt),
        )
        .await?;
        for column in [
            Professionals::HprName,
            Professionals::HprCouncil,
            Professionals::HprRegistrationNumber,
        ] {
            add(
                manager,
                Professionals::Table,
                string(column).default("").to_owned(),
            )
            .await?;
        }
        add(
            manager,
            Professionals::Table,
            timestamp_with_time_zone_null(Professionals::HprCheckedAt),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Facilities::HfrName,
            Facilities::HfrFacilityType,
            Facilities::HfrOwnership,
            Facilities::HfrCheckedAt,
        ] {
            drop(manager, Facilities::Table, column).await?;
        }
        for column in [
            Professionals::HprName,
            Professionals::HprCouncil,
            Professionals::HprRegistrationNumber,
            Professionals::HprCheckedAt,
        ] {
            drop(manager, Professionals::Table, column).await?;
        }
        Ok(())
    }
}

async fn add(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + 'static,
    column: ColumnDef,
) -> Result<(), DbErr> {
    let mut column = column;
    manager
        .alter_table(
            Table::alter()
                .table(table)
                .add_column(&mut column)
                .to_owned(),
        )
        .await
}

async fn drop(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + 'static,
    column: impl IntoIden + 'static,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).drop_column(column).to_owned())
        .await
}

#[derive(DeriveIden)]
enum Facilities {
    Table,
    HfrName,
    HfrFacilityType,
    HfrOwnership,
    HfrCheckedAt,
}

#[derive(DeriveIden)]
enum Professionals {
    Table,
    HprName,
    HprCouncil,
    HprRegistrationNumber,
    HprCheckedAt,
}
