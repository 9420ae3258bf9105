//! Users of partners with their roles (DESIGN §4, roles and authority); what
//! binds a partner beyond its key: the hospitals a hospital's system acts
//! for, the client certificates that identify it over mutual TLS, and the
//! OpenID Connect provider of its users; and the user on every audit row.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Partners::HfrIds,
            Partners::OidcIssuer,
            Partners::OidcAudience,
            Partners::OidcJwksUrl,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Partners::Table)
                        .add_column(text(column).default(""))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ClientCertificates::Table)
                    .if_not_exists()
                    .col(string(ClientCertificates::Sha256).primary_key())
                    .col(string(ClientCertificates::PartnerId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(string(Users::UserId).primary_key())
                    .col(string(Users::PartnerId))
                    .col(string(Users::Name))
                    .col(string_null(Users::Subject))
                    .col(string(Users::Roles))
                    .col(string(Users::Status))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // A token's subject names one user of its partner; users without a
        // subject (NULL) are never matched by a token.
        manager
            .create_index(
                Index::create()
                    .name("users_by_subject")
                    .table(Users::Table)
                    .col(Users::PartnerId)
                    .col(Users::Subject)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditRecords::Table)
                    .add_column(string(AuditRecords::UserId).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_records_by_user")
                    .table(AuditRecords::Table)
                    .col(AuditRecords::UserId)
                    .col(AuditRecords::AuditId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuditRecords::Table)
                    .drop_column(AuditRecords::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ClientCertificates::Table).to_owned())
            .await?;
        for column in [
            Partners::HfrIds,
            Partners::OidcIssuer,
            Partners::OidcAudience,
            Partners::OidcJwksUrl,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Partners::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Partners {
    Table,
    HfrIds,
    OidcIssuer,
    OidcAudience,
    OidcJwksUrl,
}

#[derive(DeriveIden)]
enum ClientCertificates {
    Table,
    Sha256,
    PartnerId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    UserId,
    PartnerId,
    Name,
    Subject,
    Roles,
    Status,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditRecords {
    Table,
    UserId,
    AuditId,
}
