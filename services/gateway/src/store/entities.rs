//! sea-orm entities, one module per table (see `migrations/` for the schema).

/// A system outside the mesh allowed to call it.
pub mod partner {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "partners")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub partner_id: String,
        pub name: String,
        /// `PartnerKind` name.
        pub kind: String,
        /// Census code; empty for a national partner.
        pub home_state_code: String,
        /// Comma-separated, sorted.
        pub scopes: String,
        pub rate_limit_per_second: i32,
        pub rate_limit_burst: i32,
        /// `PartnerStatus` name.
        pub status: String,
        pub created_at: DateTimeUtc,
        /// Comma-separated HFR ids a hospital's system acts for; empty for others.
        pub hfr_ids: String,
        /// Its users' OpenID Connect provider; empty when it has none.
        pub oidc_issuer: String,
        pub oidc_audience: String,
        pub oidc_jwks_url: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    impl Model {
        /// The HFR ids it acts for.
        pub fn hfr_ids(&self) -> Vec<String> {
            self.hfr_ids
                .split(',')
                .filter(|h| !h.is_empty())
                .map(str::to_owned)
                .collect()
        }
    }
}

/// A client certificate that identifies a partner over mutual TLS.
pub mod client_certificate {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "client_certificates")]
    pub struct Model {
        /// Hex SHA-256 of the certificate's DER.
        #[sea_orm(primary_key, auto_increment = false)]
        pub sha256: String,
        pub partner_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A person acting through a partner's system, with their roles.
pub mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: String,
        pub partner_id: String,
        pub name: String,
        /// The `sub` of the user's tokens; `None` when tokens never name them.
        pub subject: Option<String>,
        /// Comma-separated role names without their prefix (`PPD,CPD`).
        pub roles: String,
        /// `UserStatus` name.
        pub status: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An API key, kept as the SHA-256 of the key.
pub mod api_key {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key_id: String,
        pub partner_id: String,
        pub prefix: String,
        /// Hex SHA-256 of the key.
        pub key_hash: String,
        pub created_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
        pub last_used_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One call through the gateway, never updated or deleted.
pub mod audit_record {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_records")]
    pub struct Model {
        /// Time-ordered, so ordering by id is ordering by arrival.
        #[sea_orm(primary_key, auto_increment = false)]
        pub audit_id: String,
        pub partner_id: String,
        pub key_id: String,
        pub method: String,
        pub status_code: i32,
        pub latency_micros: i64,
        pub trace_id: String,
        pub received_at: DateTimeUtc,
        /// `grpc` or `http-json`.
        pub transport: String,
        /// The partner's user who made the call; empty when it named none.
        pub user_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
