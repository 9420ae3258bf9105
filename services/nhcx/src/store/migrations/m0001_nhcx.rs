//! Participants, exchanges (every message in and out, with its delivery
//! state), followed cases, and the development key.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Participants::Table)
                    .if_not_exists()
                    .col(string(Participants::ParticipantCode).primary_key())
                    .col(string(Participants::Name))
                    .col(string(Participants::Role))
                    .col(string(Participants::HfrId))
                    .col(string(Participants::EndpointUrl))
                    .col(text(Participants::EncryptionCertificate))
                    .col(boolean(Participants::Active))
                    .col(timestamp_with_time_zone(Participants::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Exchanges::Table)
                    .if_not_exists()
                    .col(string(Exchanges::ExchangeId).primary_key())
                    .col(string(Exchanges::ApiCallId))
                    .col(string(Exchanges::CorrelationId))
                    .col(string(Exchanges::WorkflowId))
                    .col(string(Exchanges::Direction))
                    .col(string(Exchanges::Action))
                    .col(string(Exchanges::ParticipantCode))
                    .col(string(Exchanges::Status))
                    .col(string(Exchanges::HcxStatus))
                    .col(string(Exchanges::MeshReference))
                    .col(text(Exchanges::Payload))
                    .col(integer(Exchanges::Attempts))
                    .col(timestamp_with_time_zone(Exchanges::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Exchanges::LeaseUntil))
                    .col(text(Exchanges::LastError))
                    .col(timestamp_with_time_zone(Exchanges::CreatedAt))
                    .col(timestamp_with_time_zone(Exchanges::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "exchanges_due",
                vec![Exchanges::Status, Exchanges::NextAttemptAt],
            ),
            ("exchanges_by_correlation", vec![Exchanges::CorrelationId]),
            (
                "exchanges_by_participant",
                vec![Exchanges::ParticipantCode, Exchanges::CreatedAt],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Exchanges::Table).if_not_exists();
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Cases::Table)
                    .if_not_exists()
                    .col(string(Cases::MeshReference).primary_key())
                    .col(string(Cases::Kind))
                    .col(string(Cases::ParticipantCode))
                    .col(string(Cases::CorrelationId))
                    .col(string(Cases::WorkflowId))
                    .col(string(Cases::RequestId))
                    .col(string(Cases::Patient))
                    .col(string(Cases::BeneficiaryId))
                    .col(string(Cases::Reported))
                    .col(boolean(Cases::Open))
                    .col(timestamp_with_time_zone(Cases::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("cases_open")
                    .table(Cases::Table)
                    .col(Cases::Open)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MeshKeys::Table)
                    .if_not_exists()
                    .col(string(MeshKeys::Name).primary_key())
                    .col(text(MeshKeys::Pem))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Participants {
    Table,
    ParticipantCode,
    Name,
    Role,
    HfrId,
    EndpointUrl,
    EncryptionCertificate,
    Active,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Exchanges {
    Table,
    ExchangeId,
    ApiCallId,
    CorrelationId,
    WorkflowId,
    Direction,
    Action,
    ParticipantCode,
    Status,
    HcxStatus,
    MeshReference,
    Payload,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    MeshReference,
    Kind,
    ParticipantCode,
    CorrelationId,
    WorkflowId,
    RequestId,
    Patient,
    BeneficiaryId,
    Reported,
    Open,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MeshKeys {
    Table,
    Name,
    Pem,
}
