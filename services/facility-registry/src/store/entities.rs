//! sea-orm entities, one module per table (see `migration.rs` for the schema).

/// A health facility (HFR).
pub mod facility {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "facilities")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub hfr_id: String,
        pub name: String,
        pub facility_type: String,
        pub ownership: String,
        pub state_code: String,
        pub district_code: String,
        pub block_code: String,
        pub beds: i32,
        pub abdm_enabled: bool,
        pub status: String,
        pub society_name: String,
        pub society_account_id: String,
        pub created_at: DateTimeUtc,
        /// What the Health Facility Registry said at registration, and when.
        pub hfr_name: String,
        pub hfr_facility_type: String,
        pub hfr_ownership: String,
        pub hfr_checked_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A healthcare professional (HPR).
pub mod professional {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "professionals")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub hpr_id: String,
        pub name: String,
        pub council: String,
        pub registration_number: String,
        pub system_of_medicine: String,
        /// One qualification per line.
        pub qualifications: String,
        /// One specialty code per line.
        pub specialty_codes: String,
        pub created_at: DateTimeUtc,
        /// What the Health Professional Registry said at registration, and when.
        pub hpr_name: String,
        pub hpr_council: String,
        pub hpr_registration_number: String,
        pub hpr_checked_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A professional's link to a facility; `linked_until` is set when it ends.
pub mod professional_link {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "professional_links")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub hpr_id: String,
        pub hfr_id: String,
        pub role: String,
        pub linked_from: Date,
        pub linked_until: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A facility's empanelment under one scheme.
pub mod empanelment {
    use ayushman_platform::lifecycle::Stored;
    use ayushman_proto::facility::v1::EmpanelmentStatus;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "empanelments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub hfr_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub scheme_code: String,
        pub status: Stored<EmpanelmentStatus>,
        pub status_reason: String,
        pub accreditation_level: String,
        pub valid_from: Date,
        pub valid_until: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A specialty an empanelment covers, with its dates.
pub mod empanelled_specialty {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "empanelled_specialties")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub hfr_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub scheme_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub specialty_code: String,
        pub effective_from: Date,
        pub effective_until: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One OPD registration; `visit_month` is `year * 100 + month` for monthly reports.
pub mod opd_registration {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "opd_registrations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub registration_id: String,
        pub hfr_id: String,
        pub visit_date: Date,
        pub visit_month: i32,
        pub mode: String,
        pub abha_number: String,
        pub token_number: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
