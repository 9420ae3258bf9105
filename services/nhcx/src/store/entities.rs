//! sea-orm entities, one module per table (see `migrations/` for the schema).

/// A participant of the exchange.
pub mod participant {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "participants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub participant_code: String,
        pub name: String,
        /// `ParticipantRole` value name.
        pub role: String,
        /// Empty for a payer.
        pub hfr_id: String,
        pub endpoint_url: String,
        pub encryption_certificate: String,
        pub active: bool,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One message, in or out.
pub mod exchange {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "exchanges")]
    pub struct Model {
        /// `in:<sender>:<api_call_id>` or `out:<api_call_id>`: a sender's
        /// api_call_id is unique per sender.
        #[sea_orm(primary_key, auto_increment = false)]
        pub exchange_id: String,
        pub api_call_id: String,
        pub correlation_id: String,
        pub workflow_id: String,
        /// `DIRECTION_INBOUND` or `DIRECTION_OUTBOUND`.
        pub direction: String,
        /// Protocol path, e.g. `/preauth/submit`.
        pub action: String,
        pub participant_code: String,
        /// See `exchanges::Status`.
        pub status: String,
        pub hcx_status: String,
        pub mesh_reference: String,
        /// The JWE as received (encrypted to the mesh) or as sent (encrypted
        /// to the participant): nothing is kept in the clear.
        pub payload: String,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        /// While set in the future, one worker owns the row.
        pub lease_until: Option<DateTimeUtc>,
        pub last_error: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A mesh case a hospital asked for through the exchange, followed until its
/// last answer is sent.
pub mod case {
    use sea_orm::entity::prelude::*;

    use crate::answers::{CaseKind, Milestone};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cases")]
    pub struct Model {
        /// Preauth id or claim id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub mesh_reference: String,
        pub kind: CaseKind,
        pub participant_code: String,
        pub correlation_id: String,
        pub workflow_id: String,
        /// The hospital's id of its Claim.
        pub request_id: String,
        /// How the hospital named the patient, `system|value`.
        pub patient: String,
        pub beneficiary_id: String,
        /// The last milestone reported.
        pub reported: Milestone,
        pub open: bool,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The mesh's key when none is configured (development only).
pub mod mesh_key {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mesh_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub pem: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
