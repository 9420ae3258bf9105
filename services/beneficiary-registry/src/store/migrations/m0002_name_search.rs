//! Name search walks one index in the order it answers: district, name, then
//! id, so a page is read straight off the index and a prefix is a range on it
//! (the first index, on district and name only, made every search sort all of
//! a district's matches by id).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("beneficiaries_by_district_name_id")
                    .table(Alias::new("beneficiaries"))
                    .col(Alias::new("district_code"))
                    .col(Alias::new("name_key"))
                    .col(Alias::new("beneficiary_id"))
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("beneficiaries_by_district_name")
                    .table(Alias::new("beneficiaries"))
                    .if_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("beneficiaries_by_district_name")
                    .table(Alias::new("beneficiaries"))
                    .col(Alias::new("district_code"))
                    .col(Alias::new("name_key"))
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("beneficiaries_by_district_name_id")
                    .table(Alias::new("beneficiaries"))
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
