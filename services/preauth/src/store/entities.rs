//! sea-orm entities, one module per table (see `migrations/` for the schema).
//! Enumerations are stored as their proto value names.

/// A Health Benefit Package.
pub mod package {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "packages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub package_code: String,
        pub name: String,
        pub specialty_code: String,
        pub base_rate_paise: i64,
        pub reserved_for_public: bool,
        pub expected_stay_days: i32,
        pub active: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A state's own rate for a package.
pub mod package_rate {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "package_rates")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub package_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub state_code: String,
        pub rate_paise: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An add-on that may be chosen with a package.
pub mod package_add_on {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "package_add_ons")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub package_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub add_on_code: String,
        pub name: String,
        pub kind: String,
        pub amount_paise: i64,
        pub percent_basis_points: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A pre-authorisation; `saga_state` says what work is still owed to other services.
pub mod preauth {
    use ayushman_platform::lifecycle::Stored;
    use ayushman_proto::preauth::v1::PreauthStatus;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "preauths")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub preauth_id: String,
        pub idempotency_key: String,
        pub request_fingerprint: String,
        pub beneficiary_id: String,
        pub card_number: String,
        pub family_id: String,
        pub home_state_code: String,
        pub scheme_code: String,
        pub hfr_id: String,
        pub facility_state_code: String,
        pub facility_district_code: String,
        pub facility_ownership: String,
        pub treating_hpr_id: String,
        pub admission_date: Date,
        pub discharge_date: Option<Date>,
        pub status: Stored<PreauthStatus>,
        pub requested_amount_paise: i64,
        pub approved_amount_paise: i64,
        pub blocked_amount_paise: i64,
        /// Enhancement blocks made so far (each has its own idempotency key).
        pub enhancements: i32,
        pub portability_case: bool,
        pub agreement_id: String,
        pub payer_scheme_code: String,
        pub payer_state_code: String,
        pub failure_reason: String,
        pub provisional_diagnosis: String,
        pub deemed_approval: bool,
        pub saga_state: SagaState,
        pub created_at: DateTimeUtc,
        pub raised_at: Option<DateTimeUtc>,
        pub updated_at: DateTimeUtc,
        /// The schemes whose cover it holds, comma-separated, in draw order.
        pub drawn_scheme_codes: String,
        /// The schemes it may draw on, comma-separated, in draw order: fixed
        /// before the first block, so a resumed saga and every enhancement
        /// ask the registry for the same.
        pub schemes_to_draw: String,
        /// When the review turnaround started: raised, or the last answer to a query.
        pub review_clock_from: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    fn codes(list: &str) -> Vec<String> {
        list.split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    }

    impl Model {
        /// The schemes it holds cover on, in draw order.
        pub fn drawn_schemes(&self) -> Vec<String> {
            codes(&self.drawn_scheme_codes)
        }

        /// The schemes it may draw on, in draw order; empty until fixed.
        pub fn schemes_to_draw(&self) -> Vec<String> {
            codes(&self.schemes_to_draw)
        }
    }

    /// What a preauth still owes other services.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
    pub enum SagaState {
        /// Saga steps to run; every one may be repeated.
        #[sea_orm(string_value = "RUNNING")]
        Running,
        /// It ended (failed, rejected, cancelled): everything it holds is to be released.
        #[sea_orm(string_value = "COMPENSATING")]
        Compensating,
        /// Approved for less than it holds: the excess is to be released.
        #[sea_orm(string_value = "TRIMMING")]
        Trimming,
        /// Nothing owed.
        #[sea_orm(string_value = "DONE")]
        Done,
    }
}

/// One package of a preauth, priced once the route is known.
pub mod preauth_line {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "preauth_lines")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub preauth_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub line_no: i32,
        pub package_code: String,
        pub specialty_code: String,
        /// Comma-separated.
        pub add_on_codes: String,
        pub rate_paise: i64,
        pub add_ons_paise: i64,
        pub amount_paise: i64,
        pub rate_source: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// How many preauths a hospital received for admissions on one day, in
/// [`facility_day::SHARDS`] rows so that concurrent preauths seldom wait on
/// the same row: the high-volume signal sums a month of these instead of
/// counting preauths.
pub mod facility_day {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "facility_day_counts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub hfr_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub admission_date: Date,
        #[sea_orm(primary_key, auto_increment = false)]
        pub shard: i32,
        pub preauths: i64,
    }

    /// Rows a hospital's day is counted in.
    pub const SHARDS: u32 = 16;

    /// The shard a preauth is counted in, spread by its id.
    pub fn shard_of(preauth_id: &str) -> i32 {
        let hash = preauth_id
            .bytes()
            .fold(0_u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        (hash % SHARDS) as i32
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A fraud signal on a preauth.
pub mod preauth_flag {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "preauth_flags")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub preauth_id: String,
        pub kind: String,
        pub reason: String,
        pub related_preauth_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A request for more cover on a preauth, decided by a reviewer.
pub mod enhancement {
    use ayushman_platform::lifecycle::Stored;
    use ayushman_proto::preauth::v1::EnhancementStatus;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "enhancements")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub enhancement_id: String,
        pub preauth_id: String,
        pub status: Stored<EnhancementStatus>,
        /// The extra packages as priced lines, JSON.
        pub lines: String,
        pub amount_paise: i64,
        pub reason: String,
        pub requested_by: String,
        pub requested_at: DateTimeUtc,
        pub decided_by_id: String,
        pub decided_by_kind: String,
        pub decision_reason: String,
        pub decided_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
