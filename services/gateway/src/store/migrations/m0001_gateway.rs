//! Partners, their API keys (SHA-256 of the key, never the key) and one audit
//! row per call through the gateway.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Partners::Table)
                    .if_not_exists()
                    .col(string(Partners::PartnerId).primary_key())
                    .col(string(Partners::Name))
                    .col(string(Partners::Kind))
                    .col(string(Partners::HomeStateCode))
                    .col(string(Partners::Scopes))
                    .col(integer(Partners::RateLimitPerSecond))
                    .col(integer(Partners::RateLimitBurst))
                    .col(string(Partners::Status))
                    .col(timestamp_with_time_zone(Partners::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .if_not_exists()
                    .col(string(ApiKeys::KeyId).primary_key())
                    .col(string(ApiKeys::PartnerId))
                    .col(string(ApiKeys::Prefix))
                    .col(string_uniq(ApiKeys::KeyHash))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("api_keys_by_partner")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::PartnerId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditRecords::Table)
                    .if_not_exists()
                    .col(string(AuditRecords::AuditId).primary_key())
                    .col(string(AuditRecords::PartnerId))
                    .col(string(AuditRecords::KeyId))
                    .col(string(AuditRecords::Method))
                    .col(integer(AuditRecords::StatusCode))
                    .col(big_integer(AuditRecords::LatencyMicros))
                    .col(string(AuditRecords::TraceId))
                    .col(timestamp_with_time_zone(AuditRecords::ReceivedAt))
                    .col(string(AuditRecords::Transport))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_records_by_partner")
                    .table(AuditRecords::Table)
                    .col(AuditRecords::PartnerId)
                    .col(AuditRecords::AuditId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditRecords::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            Partners::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Partners {
    Table,
    PartnerId,
    Name,
    Kind,
    HomeStateCode,
    Scopes,
    RateLimitPerSecond,
    RateLimitBurst,
    Status,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    KeyId,
    PartnerId,
    Prefix,
    KeyHash,
    CreatedAt,
    RevokedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum AuditRecords {
    Table,
    AuditId,
    PartnerId,
    KeyId,
    Method,
    StatusCode,
    LatencyMicros,
    TraceId,
    ReceivedAt,
    Transport,
}
