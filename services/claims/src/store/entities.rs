//! sea-orm entities, one module per table (see `migrations/` for the schema).

/// A claim; bill items, documents and deductions are JSON arrays of their proto messages.
pub mod claim {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "claims")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub claim_id: String,
        pub preauth_id: String,
        pub hfr_id: String,
        pub district_code: String,
        pub facility_state_code: String,
        pub ownership: String,
        pub beneficiary_id: String,
        pub portability_case: bool,
        pub payer_scheme_code: String,
        pub payer_state_code: String,
        pub status: String,
        pub claimed_amount_paise: i64,
        pub approved_amount_paise: i64,
        pub deductions: String,
        pub bill_items: String,
        pub documents: String,
        pub discharge_date: Date,
        pub submitted_at: DateTimeUtc,
        pub payment_due_at: DateTimeUtc,
        pub approved_at: Option<DateTimeUtc>,
        pub paid_at: Option<DateTimeUtc>,
        pub penalty_paise: i64,
        /// Empty until the claim is in a batch.
        pub payment_batch_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One status change, never updated or deleted.
pub mod claim_history {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "claim_history")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub claim_id: String,
        pub status: String,
        pub reason: String,
        pub actor_id: String,
        pub actor_kind: String,
        pub trace_id: String,
        pub changed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Approved claims of one payer paid together.
pub mod payment_batch {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payment_batches")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub payment_batch_id: String,
        pub payer_scheme_code: String,
        pub payer_state_code: String,
        pub status: String,
        pub payment_reference: String,
        pub created_at: DateTimeUtc,
        pub paid_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Claim money credited to a public hospital's society.
pub mod society_credit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "society_credits")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub claim_id: String,
        pub hfr_id: String,
        pub society_name: String,
        pub beneficiary_id: String,
        pub amount_paise: i64,
        pub credited_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
