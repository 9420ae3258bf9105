//! CreateUser, ListUsers, SetUserRoles, DisableUser.

use ayushman_platform::{ApiError, Caller, FieldViolations, convert};
use ayushman_proto::{
    common::v1::Role,
    gateway::v1::{self as pb, UserStatus},
};
use tonic::{Request, Response};

use super::Reply;
use crate::{
    AppState, partners,
    store::{entities::user, queries},
    users::{self, NewUser},
};

fn user_to_proto(row: user::Model) -> pb::User {
    pb::User {
        roles: users::roles(&row).into_iter().map(|r| r as i32).collect(),
        status: UserStatus::from_str_name(&row.status).unwrap_or_default() as i32,
        created_at: Some(convert::timestamp_to_proto(row.created_at)),
        user_id: row.user_id,
        partner_id: row.partner_id,
        name: row.name,
        subject: row.subject.unwrap_or_default(),
    }
}

/// The roles of a request, at least one and each a real role; problems into `v`.
fn roles(v: &mut FieldViolations, field: &str, given: &[i32]) -> Vec<Role> {
    if given.is_empty() {
        v.add(field, "give at least one role, e.g. ROLE_PPD");
    }
    let mut roles = Vec::new();
    for (i, role) in given.iter().enumerate() {
        match Role::try_from(*role) {
            Ok(Role::Unspecified) | Err(_) => {
                v.add(format!("{field}[{i}]"), "is not a role");
            }
            Ok(role) if !roles.contains(&role) => roles.push(role),
            Ok(_) => {}
        }
    }
    roles
}

pub(super) async fn create_user(
    state: &AppState,
    request: Request<pb::CreateUserRequest>,
) -> Reply<pb::CreateUserResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let given = request.user.clone().unwrap_or_default();
    let mut v = FieldViolations::new();
    v.require("user.partner_id", &given.partner_id);
    v.require("user.name", &given.name);
    v.max_chars("user.name", &given.name, 200);
    v.max_chars("user.subject", &given.subject, 200);
    let roles = roles(&mut v, "user.roles", &given.roles);
    v.into_result()?;
    let new = NewUser {
        partner_id: given.partner_id.trim().to_owned(),
        name: given.name,
        subject: convert::optional_text(&given.subject),
        roles,
    };
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                let row = users::create(txn, new).await?;
                Ok(pb::CreateUserResponse {
                    user: Some(user_to_proto(row)),
                })
            })
        })
        .await?;
    Ok(Response::new(reply))
}

pub(super) async fn list_users(
    state: &AppState,
    request: Request<pb::ListUsersRequest>,
) -> Reply<pb::ListUsersResponse> {
    let id = convert::required_text("partner_id", &request.get_ref().partner_id)?;
    partners::get(&state.db, &id).await?;
    let rows = queries::users_of(&state.db, &id)
        .await
        .map_err(ApiError::from)?;
    Ok(Response::new(pb::ListUsersResponse {
        users: rows.into_iter().map(user_to_proto).collect(),
    }))
}

pub(super) async fn set_user_roles(
    state: &AppState,
    request: Request<pb::SetUserRolesRequest>,
) -> Reply<pb::SetUserRolesResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let mut v = FieldViolations::new();
    v.require("user_id", &request.user_id);
    let roles = roles(&mut v, "roles", &request.roles);
    v.into_result()?;
    let id = request.user_id.trim().to_owned();
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                let row = users::set_roles(txn, &id, &roles).await?;
                Ok(pb::SetUserRolesResponse {
                    user: Some(user_to_proto(row)),
                })
            })
        })
        .await?;
    Ok(Response::new(reply))
}

pub(super) async fn disable_user(
    state: &AppState,
    request: Request<pb::DisableUserRequest>,
) -> Reply<pb::DisableUserResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let id = convert::required_text("user_id", &request.user_id)?;
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                let row = users::disable(txn, &id).await?;
                tracing::info!(user_id = %row.user_id, reason = %request.reason, "user disabled");
                Ok(pb::DisableUserResponse {
                    user: Some(user_to_proto(row)),
                })
            })
        })
        .await?;
    Ok(Response::new(reply))
}
