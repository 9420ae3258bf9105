//! Users of partners and their roles (DESIGN §4, roles and authority): the
//! people behind a partner's calls. A call names its user in the
//! `x-partner-user` header, together with the partner's key or certificate,
//! or by presenting the user's OpenID Connect token; either way the gateway
//! looks the user up here and stamps their id and roles on the call.

use ayushman_platform::{
    ApiError,
    caller::{UserIdentity, parse_roles, role_names},
    db, ids,
};
use ayushman_proto::{
    common::v1::Role,
    gateway::v1::{PartnerKind, UserStatus},
};
use sea_orm::ConnectionTrait;

use crate::store::{
    entities::{partner, user},
    queries,
};

/// The header naming the user of a call made with a partner's key or certificate.
pub const USER_HEADER: &str = "x-partner-user";

/// A user to create.
pub struct NewUser {
    pub partner_id: String,
    pub name: String,
    /// The `sub` of their tokens; `None` when the partner's system asserts them.
    pub subject: Option<String>,
    pub roles: Vec<Role>,
}

/// The identity the gateway stamps for `user`.
pub fn identity(user: &user::Model) -> UserIdentity {
    UserIdentity {
        user_id: user.user_id.clone(),
        roles: roles(user),
    }
}

/// What `user` may do.
pub fn roles(user: &user::Model) -> Vec<Role> {
    parse_roles(&user.roles)
}

fn active(user: &user::Model) -> bool {
    user.status == UserStatus::Active.as_str_name()
}

/// INVALID_ARGUMENT unless `roles` suit a user of `partner`: a beneficiary
/// app's users act only for themselves (the BENEFICIARY role), and nobody
/// else may hold that role.
fn ensure_roles_fit(partner: &partner::Model, roles: &[Role], field: &str) -> Result<(), ApiError> {
    let app = partner.kind == PartnerKind::BeneficiaryApp.as_str_name();
    let beneficiary = roles.contains(&Role::Beneficiary);
    match (app, beneficiary, roles.len()) {
        (true, true, 1) | (false, false, _) => Ok(()),
        (true, _, _) => Err(ApiError::invalid(
            field,
            format!(
                "{} is a beneficiary app: its users hold ROLE_BENEFICIARY and nothing else",
                partner.partner_id
            ),
        )),
        (false, true, _) => Err(ApiError::invalid(
            field,
            "ROLE_BENEFICIARY is only for users of a beneficiary app partner",
        )),
    }
}

/// Stores a new active user of an existing partner.
pub async fn create(db: &impl ConnectionTrait, new: NewUser) -> Result<user::Model, ApiError> {
    let partner = crate::partners::get(db, &new.partner_id).await?;
    ensure_roles_fit(&partner, &new.roles, "user.roles")?;
    if let Some(subject) = &new.subject
        && let Some(other) = queries::user_by_subject(db, &partner.partner_id, subject).await?
    {
        return Err(ApiError::AlreadyExists(format!(
            "user {} of partner {} already has subject {subject:?}",
            other.user_id, partner.partner_id
        )));
    }
    let row = user::Model {
        user_id: ids::new_id("USR"),
        partner_id: partner.partner_id,
        name: new.name.trim().to_owned(),
        subject: new.subject,
        roles: role_names(&new.roles),
        status: UserStatus::Active.as_str_name().to_owned(),
        created_at: db::now(),
    };
    queries::insert_user(db, row.clone()).await?;
    Ok(row)
}

/// The user, or NOT_FOUND.
pub async fn get(db: &impl ConnectionTrait, user_id: &str) -> Result<user::Model, ApiError> {
    queries::find_user(db, user_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no user {user_id}")))
}

/// Replaces a user's roles.
pub async fn set_roles(
    db: &impl ConnectionTrait,
    user_id: &str,
    roles: &[Role],
) -> Result<user::Model, ApiError> {
    let user = get(db, user_id).await?;
    let partner = crate::partners::get(db, &user.partner_id).await?;
    ensure_roles_fit(&partner, roles, "roles")?;
    Ok(queries::save_user(
        db,
        user::Model {
            roles: role_names(roles),
            ..user
        },
    )
    .await?)
}

/// Disables a user; every later call naming them is refused.
pub async fn disable(db: &impl ConnectionTrait, user_id: &str) -> Result<user::Model, ApiError> {
    let user = get(db, user_id).await?;
    Ok(queries::save_user(
        db,
        user::Model {
            status: UserStatus::Disabled.as_str_name().to_owned(),
            ..user
        },
    )
    .await?)
}

/// Why the user a call names is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum UserRefusal {
    #[error("no user {0}")]
    Unknown(String),
    #[error("user {user_id} is not a user of partner {partner_id}")]
    OtherPartner { user_id: String, partner_id: String },
    #[error("user {0} is disabled")]
    Disabled(String),
    #[error("the token's subject {subject:?} is no active user of partner {partner_id}")]
    UnknownSubject { subject: String, partner_id: String },
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
}

/// The user `user_id` the partner's system asserts: theirs, and active.
pub async fn asserted(
    db: &impl ConnectionTrait,
    partner: &partner::Model,
    user_id: &str,
) -> Result<user::Model, UserRefusal> {
    let user = queries::find_user(db, user_id)
        .await?
        .ok_or_else(|| UserRefusal::Unknown(user_id.to_owned()))?;
    if user.partner_id != partner.partner_id {
        return Err(UserRefusal::OtherPartner {
            user_id: user.user_id,
            partner_id: partner.partner_id.clone(),
        });
    }
    if !active(&user) {
        return Err(UserRefusal::Disabled(user.user_id));
    }
    Ok(user)
}

/// The active user of `partner` whose tokens carry `subject`.
pub async fn by_subject(
    db: &impl ConnectionTrait,
    partner: &partner::Model,
    subject: &str,
) -> Result<user::Model, UserRefusal> {
    match queries::user_by_subject(db, &partner.partner_id, subject).await? {
        Some(user) if active(&user) => Ok(user),
        Some(user) => Err(UserRefusal::Disabled(user.user_id)),
        None => Err(UserRefusal::UnknownSubject {
            subject: subject.to_owned(),
            partner_id: partner.partner_id.clone(),
        }),
    }
}
