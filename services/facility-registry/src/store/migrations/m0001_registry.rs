//! Facilities, professionals and their links, empanelments with specialties and
//! history, and OPD registrations. Enumerations are stored as their proto value
//! names (e.g. `EMPANELMENT_STATUS_SUSPENDED`) so the tables read plainly in SQL.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Facilities::Table)
                    .if_not_exists()
                    .col(string(Facilities::HfrId).primary_key())
                    .col(string(Facilities::Name))
                    .col(string(Facilities::FacilityType))
                    .col(string(Facilities::Ownership))
                    .col(string(Facilities::StateCode))
                    .col(string(Facilities::DistrictCode))
                    .col(string(Facilities::BlockCode))
                    .col(integer(Facilities::Beds))
                    .col(boolean(Facilities::AbdmEnabled))
                    .col(string(Facilities::Status))
                    .col(string(Facilities::SocietyName))
                    .col(string(Facilities::SocietyAccountId))
                    .col(timestamp_with_time_zone(Facilities::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("facilities_by_district")
                    .table(Facilities::Table)
                    .col(Facilities::StateCode)
                    .col(Facilities::DistrictCode)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Professionals::Table)
                    .if_not_exists()
                    .col(string(Professionals::HprId).primary_key())
                    .col(string(Professionals::Name))
                    .col(string(Professionals::Council))
                    .col(string(Professionals::RegistrationNumber))
                    .col(string(Professionals::SystemOfMedicine))
                    .col(text(Professionals::Qualifications))
                    .col(text(Professionals::SpecialtyCodes))
                    .col(timestamp_with_time_zone(Professionals::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProfessionalLinks::Table)
                    .if_not_exists()
                    .col(
                        big_integer(ProfessionalLinks::Id)
                            .primary_key()
                            .auto_increment(),
                    )
                    .col(string(ProfessionalLinks::HprId))
                    .col(string(ProfessionalLinks::HfrId))
                    .col(string(ProfessionalLinks::Role))
                    .col(date(ProfessionalLinks::LinkedFrom))
                    .col(date_null(ProfessionalLinks::LinkedUntil))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProfessionalLinks::Table, ProfessionalLinks::HprId)
                            .to(Professionals::Table, Professionals::HprId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProfessionalLinks::Table, ProfessionalLinks::HfrId)
                            .to(Facilities::Table, Facilities::HfrId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("professional_links_by_pair")
                    .table(ProfessionalLinks::Table)
                    .col(ProfessionalLinks::HfrId)
                    .col(ProfessionalLinks::HprId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Empanelments::Table)
                    .if_not_exists()
                    .col(string(Empanelments::HfrId))
                    .col(string(Empanelments::SchemeCode))
                    .col(string(Empanelments::Status))
                    .col(string(Empanelments::StatusReason))
                    .col(string(Empanelments::AccreditationLevel))
                    .col(date(Empanelments::ValidFrom))
                    .col(date_null(Empanelments::ValidUntil))
                    .primary_key(
                        Index::create()
                            .col(Empanelments::HfrId)
                            .col(Empanelments::SchemeCode),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Empanelments::Table, Empanelments::HfrId)
                            .to(Facilities::Table, Facilities::HfrId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EmpanelledSpecialties::Table)
                    .if_not_exists()
                    .col(string(EmpanelledSpecialties::HfrId))
                    .col(string(EmpanelledSpecialties::SchemeCode))
                    .col(string(EmpanelledSpecialties::SpecialtyCode))
                    .col(date(EmpanelledSpecialties::EffectiveFrom))
                    .col(date_null(EmpanelledSpecialties::EffectiveUntil))
                    .primary_key(
                        Index::create()
                            .col(EmpanelledSpecialties::HfrId)
                            .col(EmpanelledSpecialties::SchemeCode)
                            .col(EmpanelledSpecialties::SpecialtyCode),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(crate::store::EMPANELMENT_HISTORY.create())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OpdRegistrations::Table)
                    .if_not_exists()
                    .col(string(OpdRegistrations::RegistrationId).primary_key())
                    .col(string(OpdRegistrations::HfrId))
                    .col(date(OpdRegistrations::VisitDate))
                    .col(integer(OpdRegistrations::VisitMonth))
                    .col(string(OpdRegistrations::Mode))
                    .col(string(OpdRegistrations::AbhaNumber))
                    .col(string(OpdRegistrations::TokenNumber))
                    .col(timestamp_with_time_zone(OpdRegistrations::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OpdRegistrations::Table, OpdRegistrations::HfrId)
                            .to(Facilities::Table, Facilities::HfrId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("opd_registrations_by_facility_month")
                    .table(OpdRegistrations::Table)
                    .col(OpdRegistrations::HfrId)
                    .col(OpdRegistrations::VisitMonth)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OpdRegistrations::Table.into_iden(),
            crate::store::EMPANELMENT_HISTORY.table.into_iden(),
            EmpanelledSpecialties::Table.into_iden(),
            Empanelments::Table.into_iden(),
            ProfessionalLinks::Table.into_iden(),
            Professionals::Table.into_iden(),
            Facilities::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Facilities {
    Table,
    HfrId,
    Name,
    FacilityType,
    Ownership,
    StateCode,
    DistrictCode,
    BlockCode,
    Beds,
    AbdmEnabled,
    Status,
    SocietyName,
    SocietyAccountId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Professionals {
    Table,
    HprId,
    Name,
    Council,
    RegistrationNumber,
    SystemOfMedicine,
    Qualifications,
    SpecialtyCodes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ProfessionalLinks {
    Table,
    Id,
    HprId,
    HfrId,
    Role,
    LinkedFrom,
    LinkedUntil,
}

#[derive(DeriveIden)]
enum Empanelments {
    Table,
    HfrId,
    SchemeCode,
    Status,
    StatusReason,
    AccreditationLevel,
    ValidFrom,
    ValidUntil,
}

#[derive(DeriveIden)]
enum EmpanelledSpecialties {
    Table,
    HfrId,
    SchemeCode,
    SpecialtyCode,
    EffectiveFrom,
    EffectiveUntil,
}

#[derive(DeriveIden)]
enum OpdRegistrations {
    Table,
    RegistrationId,
    HfrId,
    VisitDate,
    VisitMonth,
    Mode,
    AbhaNumber,
    TokenNumber,
    CreatedAt,
}
