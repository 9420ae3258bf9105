//! sea-orm entities, one module per table (see `migrations/` for the schema).

/// A claim; bill items, documents and deductions are JSON arrays of their proto messages.
pub mod claim {
    use ayushman_platform::lifecycle::Stored;
    use ayushman_proto::claims::v1::ClaimStatus;
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
        pub status: Stored<ClaimStatus>,
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
        /// What the decision still owes the family's wallet.
        pub money_state: MoneyState,
        /// When the claim was queried back to the hospital; its settlement
        /// clock is paused until the hospital answers.
        pub queried_at: Option<DateTimeUtc>,
        /// Specialty of the treatment (of the preauth's first package).
        pub specialty_code: String,
    }

    /// The wallet moves a decided claim owes: decided first, then moved
    /// (idempotently, resumed after a crash), so only the winning decision moves money.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
    pub enum MoneyState {
        /// Not decided yet: the preauth's block stays held.
        #[sea_orm(string_value = "NONE")]
        None,
        /// Approved: the approved amount is to be consumed and the rest released.
        #[sea_orm(string_value = "CONSUME_OWED")]
        ConsumeOwed,
        /// Rejected: the block is to be released.
        #[sea_orm(string_value = "RELEASE_OWED")]
        ReleaseOwed,
        /// Every move is done.
        #[sea_orm(string_value = "SETTLED")]
        Settled,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Approved claims of one payer paid together.
pub mod payment_batch {
    use ayushman_platform::lifecycle::Stored;
    use ayushman_proto::claims::v1::PaymentBatchStatus;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payment_batches")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub payment_batch_id: String,
        pub payer_scheme_code: String,
        pub payer_state_code: String,
        pub status: Stored<PaymentBatchStatus>,
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
