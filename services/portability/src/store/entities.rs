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
