//! sea-orm entities, one module per table (see `migrations/` for the schema).

/// An inter-state portability agreement.
pub mod agreement {
    use ayushman_platform::lifecycle::Stored;
    use ayushman_proto::portability::v1::AgreementStatus;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agreements")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub agreement_id: String,
        pub home_scheme_code: String,
        /// Empty for a national scheme.
        pub home_state_code: String,
        pub all_states: bool,
        /// Comma-separated census codes; empty when `all_states`.
        pub treating_state_codes: String,
        pub effective_from: Date,
        pub effective_until: Option<Date>,
        pub rate_rule: String,
        pub payer_scheme_code: String,
        pub empanelment_scheme_code: String,
        pub status: Stored<AgreementStatus>,
        pub status_reason: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What a payer state owes a treating state for one claim.
pub mod settlement {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlements")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub claim_id: String,
        pub payer_scheme_code: String,
        pub payer_state_code: String,
        pub treating_state_code: String,
        pub amount_paise: i64,
        /// `year * 100 + month`.
        pub month: i32,
        pub statement_id: Option<String>,
        pub recorded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A month's netting between states.
pub mod netting_statement {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "netting_statements")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub statement_id: String,
        /// `year * 100 + month`.
        pub month: i32,
        pub status: String,
        pub settlement_reference: String,
        pub created_at: DateTimeUtc,
        pub settled_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
