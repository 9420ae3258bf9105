//! The registry's use cases as plain functions: they take validated values and
//! a connection (or transaction), apply the rules and return rows or an
//! [`ApiError`]. Handlers in `api.rs` translate to and from the contracts.

use ayushman_platform::{
    ApiError,
    lifecycle::{self, Actor, Lifecycle},
};
use ayushman_proto::facility::v1::{EmpanelmentStatus, FacilityStatus};
use chrono::NaiveDate;
use sea_orm::{ActiveValue::Set, ConnectionTrait, IntoActiveModel};

use crate::{
    rules::{self, Refusal},
    store::{
        EMPANELMENT_HISTORY,
        entities::{
            empanelled_specialty, empanelment, facility, opd_registration, professional,
            professional_link,
        },
        queries::{self, FullEmpanelment},
    },
};

fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::NotFound(format!("no {what} with id {id}"))
}

/// The rule of every Register RPC: registering the same record again returns
/// the stored one; other details under a known id are refused with `conflict`.
fn again_or_conflict<M: PartialEq>(
    existing: M,
    new_as_stored: &M,
    conflict: impl FnOnce() -> String,
) -> Result<M, ApiError> {
    if *new_as_stored == existing {
        Ok(existing)
    } else {
        Err(ApiError::AlreadyExists(conflict()))
    }
}

/// Registers a facility (see [`again_or_conflict`] for repeats).
pub async fn register_facility(
    db: &impl ConnectionTrait,
    new: facility::Model,
) -> Result<facility::Model, ApiError> {
    if let Some(existing) = queries::find_facility(db, &new.hfr_id).await? {
        let as_stored = facility::Model {
            created_at: existing.created_at,
            hfr_name: existing.hfr_name.clone(),
            hfr_facility_type: existing.hfr_facility_type.clone(),
            hfr_ownership: existing.hfr_ownership.clone(),
            hfr_checked_at: existing.hfr_checked_at,
            ..new.clone()
        };
        return again_or_conflict(existing, &as_stored, || {
            format!(
                "facility {} is already registered with other details; change its status with UpdateFacilityStatus",
                new.hfr_id
            )
        });
    }
    queries::insert_facility(db, new.clone()).await?;
    Ok(new)
}

pub async fn get_facility(
    db: &impl ConnectionTrait,
    hfr_id: &str,
) -> Result<facility::Model, ApiError> {
    queries::find_facility(db, hfr_id)
        .await?
        .ok_or_else(|| not_found("facility", hfr_id))
}

pub async fn update_facility_status(
    db: &impl ConnectionTrait,
    hfr_id: &str,
    status: FacilityStatus,
) -> Result<facility::Model, ApiError> {
    let row = get_facility(db, hfr_id).await?;
    Ok(queries::set_facility_status(db, row, status.as_str_name()).await?)
}

/// Registers a professional (see [`again_or_conflict`] for repeats).
pub async fn register_professional(
    db: &impl ConnectionTrait,
    new: professional::Model,
) -> Result<professional::Model, ApiError> {
    if let Some(existing) = queries::find_professional(db, &new.hpr_id).await? {
        let as_stored = professional::Model {
            created_at: existing.created_at,
            hpr_name: existing.hpr_name.clone(),
            hpr_council: existing.hpr_council.clone(),
            hpr_registration_number: existing.hpr_registration_number.clone(),
            hpr_checked_at: existing.hpr_checked_at,
            ..new.clone()
        };
        return again_or_conflict(existing, &as_stored, || {
            format!(
                "professional {} is already registered with other details",
                new.hpr_id
            )
        });
    }
    queries::insert_professional(db, new.clone()).await?;
    Ok(new)
}

/// A professional with all their links.
pub async fn get_professional(
    db: &impl ConnectionTrait,
    hpr_id: &str,
) -> Result<(professional::Model, Vec<professional_link::Model>), ApiError> {
    let row = queries::find_professional(db, hpr_id)
        .await?
        .ok_or_else(|| not_found("professional", hpr_id))?;
    let links = queries::links_of(db, hpr_id).await?;
    Ok((row, links))
}

/// Links a professional to a facility from `from`. An active link with the
/// same role is left as it is; with another role it is refused.
pub async fn link_professional(
    db: &impl ConnectionTrait,
    hpr_id: &str,
    hfr_id: &str,
    role: &str,
    from: NaiveDate,
) -> Result<(professional::Model, Vec<professional_link::Model>), ApiError> {
    get_facility(db, hfr_id).await?;
    get_professional(db, hpr_id).await?;
    let links = queries::links_between(db, hpr_id, hfr_id).await?;
    match links.iter().find(|link| link.linked_until.is_none()) {
        Some(open) if open.role == role => {}
        Some(open) => {
            return Err(ApiError::AlreadyExists(format!(
                "{hpr_id} is already linked to {hfr_id} as {}; unlink first to change the role",
                open.role
            )));
        }
        None => queries::insert_link(db, hpr_id, hfr_id, role, from).await?,
    }
    get_professional(db, hpr_id).await
}

/// Ends a professional's open link to a facility on `until`.
pub async fn unlink_professional(
    db: &impl ConnectionTrait,
    hpr_id: &str,
    hfr_id: &str,
    until: NaiveDate,
) -> Result<(professional::Model, Vec<professional_link::Model>), ApiError> {
    get_professional(db, hpr_id).await?;
    let links = queries::links_between(db, hpr_id, hfr_id).await?;
    let open = links
        .into_iter()
        .find(|link| link.linked_until.is_none())
        .ok_or_else(|| {
            ApiError::FailedPrecondition(format!("{hpr_id} is not linked to {hfr_id}"))
        })?;
    if until < open.linked_from {
        return Err(ApiError::invalid(
            "linked_until",
            format!("is before the link began on {}", open.linked_from),
        ));
    }
    queries::end_link(db, open, until).await?;
    get_professional(db, hpr_id).await
}

/// The role of the link active on `date`, if any.
pub async fn check_link(
    db: &impl ConnectionTrait,
    hpr_id: &str,
    hfr_id: &str,
    date: NaiveDate,
) -> Result<Option<String>, ApiError> {
    let links = queries::links_between(db, hpr_id, hfr_id).await?;
    Ok(rules::active_link(&links, date).map(|link| link.role.clone()))
}

/// The statuses of an empanelment and the moves between them: an
/// application is granted (or refused by de-empanelling it), a panel member
/// suspended and reinstated or removed, a removed hospital may apply again.
pub struct Empanelments;

impl Lifecycle for Empanelments {
    type Status = EmpanelmentStatus;
    const NOUN: &'static str = "empanelment";
    const MOVES: &'static [(EmpanelmentStatus, EmpanelmentStatus)] = &[
        (EmpanelmentStatus::Applied, EmpanelmentStatus::Empanelled),
        (EmpanelmentStatus::Applied, EmpanelmentStatus::DeEmpanelled),
        (EmpanelmentStatus::Empanelled, EmpanelmentStatus::Suspended),
        (
            EmpanelmentStatus::Empanelled,
            EmpanelmentStatus::DeEmpanelled,
        ),
        (EmpanelmentStatus::Suspended, EmpanelmentStatus::Empanelled),
        (
            EmpanelmentStatus::Suspended,
            EmpanelmentStatus::DeEmpanelled,
        ),
        (EmpanelmentStatus::DeEmpanelled, EmpanelmentStatus::Applied),
    ];
}

/// Creates or replaces an empanelment; a status change is recorded in its history.
pub async fn upsert_empanelment(
    db: &impl ConnectionTrait,
    row: empanelment::Model,
    specialties: Vec<empanelled_specialty::Model>,
    actor: &Actor,
) -> Result<FullEmpanelment, ApiError> {
    get_facility(db, &row.hfr_id).await?;
    let previous = queries::find_empanelment(db, &row.hfr_id, &row.scheme_code).await?;
    let (hfr_id, scheme_code, status) = (row.hfr_id.clone(), row.scheme_code.clone(), row.status);
    if let Some(previous) = &previous
        && previous.status != status
    {
        Empanelments::transition(
            &format!("{hfr_id}/{scheme_code}"),
            *previous.status,
            *status,
        )?;
    }
    let reason = row.status_reason.clone();
    queries::replace_empanelment(db, row, specialties).await?;
    if previous.is_none_or(|p| p.status != status) {
        EMPANELMENT_HISTORY
            .append(
                db,
                &[&hfr_id, &scheme_code],
                status.as_str_name(),
                &reason,
                actor,
            )
            .await?;
    }
    get_empanelment(db, &hfr_id, &scheme_code).await
}

pub async fn get_empanelment(
    db: &impl ConnectionTrait,
    hfr_id: &str,
    scheme_code: &str,
) -> Result<FullEmpanelment, ApiError> {
    queries::find_full_empanelment(db, hfr_id, scheme_code)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("{hfr_id} has no empanelment under {scheme_code}"))
        })
}

/// Suspends, de-empanels or reinstates, with the reason kept in the history.
pub async fn update_empanelment_status(
    db: &impl ConnectionTrait,
    hfr_id: &str,
    scheme_code: &str,
    status: EmpanelmentStatus,
    reason: &str,
    actor: &Actor,
) -> Result<FullEmpanelment, ApiError> {
    let (row, _, _) = get_empanelment(db, hfr_id, scheme_code).await?;
    if row.status == status {
        return get_empanelment(db, hfr_id, scheme_code).await;
    }
    let transition =
        Empanelments::transition(&format!("{hfr_id}/{scheme_code}"), *row.status, status)?;
    let mut changed = row.into_active_model();
    changed.status_reason = Set(reason.to_owned());
    lifecycle::save(db, changed, empanelment::Column::Status, transition).await?;
    EMPANELMENT_HISTORY
        .append(
            db,
            &[hfr_id, scheme_code],
            status.as_str_name(),
            reason,
            actor,
        )
        .await?;
    get_empanelment(db, hfr_id, scheme_code).await
}

/// The answer to CheckEmpanelment, with the facility's facts for routing.
pub struct EmpanelmentCheck {
    pub outcome: Result<(), Refusal>,
    pub facility: Option<facility::Model>,
    pub empanelment: Option<empanelment::Model>,
    /// When a treating professional was named: whether they are linked to
    /// the facility on the date.
    pub professional_linked: Option<bool>,
}

/// Whether the facility may treat the specialty under the scheme on `date`,
/// and whether `treating_hpr_id` (when given) is linked to it then.
pub async fn check_empanelment(
    db: &impl ConnectionTrait,
    hfr_id: &str,
    scheme_code: &str,
    specialty_code: &str,
    treating_hpr_id: Option<&str>,
    date: NaiveDate,
) -> Result<EmpanelmentCheck, ApiError> {
    let found = queries::find_empanelment_of_specialty(
        db,
        hfr_id,
        scheme_code,
        specialty_code,
        treating_hpr_id,
    )
    .await?;
    let (facility, empanelment, specialty, links) = match found {
        Some(found) => (
            Some(found.facility),
            found.empanelment,
            found.specialty,
            found.links,
        ),
        None => (None, None, None, Vec::new()),
    };
    let outcome = rules::check_empanelment(
        facility.as_ref(),
        empanelment.as_ref(),
        specialty.as_ref(),
        scheme_code,
        specialty_code,
        date,
    );
    Ok(EmpanelmentCheck {
        outcome,
        facility,
        empanelment,
        professional_linked: treating_hpr_id.map(|_| rules::active_link(&links, date).is_some()),
    })
}

/// Records an OPD registration at a known facility; a token already used that
/// day at the facility is refused.
pub async fn record_opd_registration(
    db: &impl ConnectionTrait,
    row: opd_registration::Model,
) -> Result<opd_registration::Model, ApiError> {
    get_facility(db, &row.hfr_id).await?;
    if queries::insert_opd_registrations(db, vec![row.clone()]).await? == 0 {
        return Err(ApiError::AlreadyExists(format!(
            "token {} on {} is already registered at {}",
            row.token_number, row.visit_date, row.hfr_id
        )));
    }
    Ok(row)
}

/// Records a batch of validated registrations in one transaction; returns how
/// many were new (the rest were recorded before).
pub async fn import_opd_registrations(
    db: &impl ConnectionTrait,
    rows: Vec<opd_registration::Model>,
) -> Result<u64, ApiError> {
    Ok(queries::insert_opd_registrations(db, rows).await?)
}

/// Whether a facility is registered.
pub async fn facility_exists(db: &impl ConnectionTrait, hfr_id: &str) -> Result<bool, ApiError> {
    Ok(queries::find_facility(db, hfr_id).await?.is_some())
}

/// One line of the OPD report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpdLine {
    pub hfr_id: String,
    pub facility_name: String,
    pub month: i32,
    pub total: i64,
    pub via_abha: i64,
}

/// OPD registrations by facility and month (`year*100+month`), for one facility or a district.
pub async fn opd_report(
    db: &impl ConnectionTrait,
    hfr_id: Option<&str>,
    district_code: Option<&str>,
    from_month: i32,
    to_month: i32,
    abha_mode: &str,
) -> Result<Vec<OpdLine>, ApiError> {
    if let Some(hfr_id) = hfr_id {
        get_facility(db, hfr_id).await?;
    }
    let counts =
        queries::opd_counts(db, hfr_id, district_code, from_month, to_month, abha_mode).await?;
    let ids: Vec<String> = counts.iter().map(|(id, ..)| id.clone()).collect();
    let names = queries::facility_names(db, ids).await?;
    Ok(counts
        .into_iter()
        .map(|(hfr_id, month, total, via_abha)| OpdLine {
            facility_name: names.get(&hfr_id).cloned().unwrap_or_default(),
            hfr_id,
            month,
            total,
            via_abha,
        })
        .collect())
}
