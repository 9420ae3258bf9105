//! sea-orm entities, one module per table (see `migrations/` for the schema).
//! Enumerations are stored as their proto value names.

/// A family: the unit that holds cover.
pub mod family {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "families")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub family_id: String,
        pub source_list: String,
        pub state_code: String,
        pub district_code: String,
        pub block_code: String,
        pub village_code: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A person on an eligibility list.
pub mod beneficiary {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "beneficiaries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub beneficiary_id: String,
        pub family_id: String,
        pub name: String,
        /// Lowercased name, for prefix search and the natural key.
        pub name_key: String,
        pub gender: String,
        pub year_of_birth: i32,
        pub relation: String,
        pub state_code: String,
        pub district_code: String,
        pub block_code: String,
        pub village_code: String,
        pub source_list: String,
        pub eligibility_category: String,
        /// Comma-separated scheme codes.
        pub scheme_codes: String,
        /// Keyed HMAC-SHA256 of the Aadhaar number; never the number.
        pub aadhaar_digest: Option<String>,
        pub aadhaar_last4: String,
        /// 14 digits, no dashes.
        pub abha_number: Option<String>,
        pub abha_address: Option<String>,
        pub card_number: Option<String>,
        pub card_status: String,
        pub card_issued_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        /// How the card was made (a `CardChannel` name); empty without a card.
        pub card_channel: String,
        /// The mobiliser credited with bringing the person; empty if none.
        pub card_mobiliser_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A card issued through the mesh: who made it, where, for which campaign.
pub mod card_issuance {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "card_issuances")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub card_number: String,
        pub beneficiary_id: String,
        pub operator_id: String,
        pub centre_id: String,
        pub campaign_id: String,
        pub kyc_reference: String,
        pub state_code: String,
        pub district_code: String,
        pub block_code: String,
        /// The day in India.
        pub issued_on: Date,
        pub issued_at: DateTimeUtc,
        /// A `CardChannel` name: made by an operator or by the person.
        pub channel: String,
        pub mobiliser_id: String,
        /// The fee the operator charged, from the operator master.
        pub fee_paise: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A family's cover under one scheme for one policy year.
pub mod wallet {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "wallets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub wallet_id: String,
        pub family_id: String,
        /// The member a personal cover belongs to; empty for a family's wallet.
        pub beneficiary_id: String,
        pub scheme_code: String,
        pub kind: String,
        pub policy_year_start: Date,
        pub cover_paise: i64,
        pub blocked_paise: i64,
        pub consumed_paise: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    impl Model {
        /// What can still be blocked.
        pub fn available_paise(&self) -> i64 {
            self.cover_paise - self.blocked_paise - self.consumed_paise
        }
    }
}

/// What a pre-authorisation holds on one wallet: still held, consumed,
/// released. A preauth drawing on several schemes has a hold on each wallet.
pub mod hold {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "preauth_holds")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub preauth_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub wallet_id: String,
        pub scheme_code: String,
        /// The scheme's place in the draw order: consumed first, released last.
        pub draw_order: i32,
        pub beneficiary_id: String,
        pub held_paise: i64,
        pub consumed_paise: i64,
        pub released_paise: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A health scheme: who it covers, how much, in what order it is drawn.
/// Lists are comma-separated; enumerations are stored as their proto names.
pub mod scheme {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "schemes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub scheme_code: String,
        pub name: String,
        pub sponsor: String,
        pub state_code: String,
        pub cover_kind: String,
        pub cover_paise: i64,
        pub year_start_month: i32,
        pub year_start_day: i32,
        pub eligibility_categories: String,
        /// `SOURCE_LIST_NFSA:10` entries; an empty state means every state.
        pub enrolments: String,
        pub portability_allowed: bool,
        pub tops_up_scheme_code: String,
        pub minimum_age_years: i32,
        pub draw_order: i32,
        pub reserved_package_codes: String,
        pub network_scheme_code: String,
        pub status: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One append-only movement of a wallet.
pub mod ledger_entry {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_entries")]
    pub struct Model {
        /// Time-ordered id, so the ledger reads in order by id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub entry_id: String,
        pub wallet_id: String,
        pub kind: String,
        pub amount_paise: i64,
        pub preauth_id: String,
        pub claim_id: String,
        pub reason: String,
        pub actor_id: String,
        pub actor_kind: String,
        pub trace_id: String,
        pub available_after_paise: i64,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A card-creation drive in a district.
pub mod campaign {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "campaigns")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub campaign_id: String,
        pub name: String,
        pub state_code: String,
        pub district_code: String,
        pub start_date: Date,
        pub end_date: Date,
        pub status: String,
        pub target_cards: i64,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A camp of a campaign, e.g. at a ration shop.
pub mod camp {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "camps")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub camp_id: String,
        pub campaign_id: String,
        pub venue: String,
        pub block_code: String,
        pub village_code: String,
        pub operator_id: String,
        pub standby_operator_id: String,
        pub start_date: Date,
        pub end_date: Date,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A block of a campaign: its nodal officer and target.
pub mod campaign_block {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "campaign_blocks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub campaign_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub block_code: String,
        pub nodal_officer_name: String,
        pub nodal_officer_designation: String,
        pub nodal_officer_mobile: String,
        pub target_cards: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An area of the geography: district, sub-division, block or village.
pub mod area {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "areas")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        /// An `AreaLevel` name.
        pub level: String,
        pub name: String,
        pub parent_code: String,
        pub state_code: String,
        pub district_code: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A card login of the operator master.
pub mod operator {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "operators")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub login_id: String,
        pub name: String,
        /// An `OperatorKind` name.
        pub kind: String,
        pub centre_id: String,
        pub state_code: String,
        pub district_code: String,
        pub block_code: String,
        /// An `OperatorStatus` name.
        pub status: String,
        pub fee_per_card_paise: i64,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A mobiliser: a self-help-group worker who brings families to be carded.
pub mod mobiliser {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mobilisers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub mobiliser_id: String,
        pub name: String,
        pub group_name: String,
        pub state_code: String,
        pub district_code: String,
        pub block_code: String,
        pub active: bool,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
