//! No debt between states (NHA, 22 Oct 2018): the home state's SHA pays the
//! treating hospital directly, so the settlement ledger and its monthly
//! netting between states go.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            NettingStatements::Table.into_iden(),
            Settlements::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Settlements {
    Table,
}

#[derive(DeriveIden)]
enum NettingStatements {
    Table,
}
