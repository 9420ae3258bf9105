//! Every SQL statement of the registry. Functions take any connection or
//! transaction, so handlers decide what runs atomically.

use ayushman_platform::{
    db::{insert_one, select_prefixed},
    lifecycle::{HistoryRow, Stored},
};
use ayushman_proto::facility::v1::EmpanelmentStatus;
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    IntoActiveModel, JoinType, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Order, Query},
};

use super::{
    EMPANELMENT_HISTORY,
    entities::{
        empanelled_specialty, empanelment, facility, opd_registration, professional,
        professional_link,
    },
};

/// Filters of ListFacilities; `None` matches everything.
#[derive(Debug, Default, Clone)]
pub struct FacilityFilter {
    pub state_code: Option<String>,
    pub district_code: Option<String>,
    pub facility_type: Option<String>,
    pub ownership: Option<String>,
    pub scheme_code: Option<String>,
    pub specialty_code: Option<String>,
}

/// A page of a keyset-paginated list: rows after `after`, at most `size`.
#[derive(Debug, Clone)]
pub struct Page {
    pub after: Option<String>,
    pub size: u64,
}

pub async fn find_facility(
    db: &impl ConnectionTrait,
    hfr_id: &str,
) -> Result<Option<facility::Model>, DbErr> {
    facility::Entity::find_by_id(hfr_id.to_owned())
        .one(db)
        .await
}

pub async fn insert_facility(db: &impl ConnectionTrait, row: facility::Model) -> Result<(), DbErr> {
    insert_one(db, row.into_active_model()).await
}

pub async fn set_facility_status(
    db: &impl ConnectionTrait,
    row: facility::Model,
    status: &str,
) -> Result<facility::Model, DbErr> {
    let mut active = row.into_active_model();
    active.status = Set(status.to_owned());
    active.update(db).await
}

/// Facilities matching `filter`, ordered by HFR id; one more than the page size
/// is fetched so the caller knows whether a next page exists.
pub async fn list_facilities(
    db: &impl ConnectionTrait,
    filter: &FacilityFilter,
    page: &Page,
) -> Result<Vec<facility::Model>, DbErr> {
    let mut condition = Condition::all();
    let equals = |column: facility::Column, value: &Option<String>| {
        value.as_ref().map(|v| column.eq(v.clone()))
    };
    for clause in [
        equals(facility::Column::StateCode, &filter.state_code),
        equals(facility::Column::DistrictCode, &filter.district_code),
        equals(facility::Column::FacilityType, &filter.facility_type),
        equals(facility::Column::Ownership, &filter.ownership),
        page.after
            .as_ref()
            .map(|after| facility::Column::HfrId.gt(after.clone())),
    ]
    .into_iter()
    .flatten()
    {
        condition = condition.add(clause);
    }
    if filter.scheme_code.is_some() || filter.specialty_code.is_some() {
        let mut empanelled = Query::select();
        empanelled
            .column(empanelled_specialty::Column::HfrId)
            .from(empanelled_specialty::Entity);
        if let Some(scheme) = &filter.scheme_code {
            empanelled
                .and_where(Expr::col(empanelled_specialty::Column::SchemeCode).eq(scheme.clone()));
        }
        if let Some(specialty) = &filter.specialty_code {
            empanelled.and_where(
                Expr::col(empanelled_specialty::Column::SpecialtyCode).eq(specialty.clone()),
            );
        }
        condition = condition.add(facility::Column::HfrId.in_subquery(empanelled.to_owned()));
    }
    facility::Entity::find()
        .filter(condition)
        .order_by_asc(facility::Column::HfrId)
        .limit(page.size + 1)
        .all(db)
        .await
}

pub async fn find_professional(
    db: &impl ConnectionTrait,
    hpr_id: &str,
) -> Result<Option<professional::Model>, DbErr> {
    professional::Entity::find_by_id(hpr_id.to_owned())
        .one(db)
        .await
}

pub async fn insert_professional(
    db: &impl ConnectionTrait,
    row: professional::Model,
) -> Result<(), DbErr> {
    insert_one(db, row.into_active_model()).await
}

/// Professionals by HPR id, optionally only those ever linked to a facility or
/// practising a specialty; one more than the page size.
pub async fn list_professionals(
    db: &impl ConnectionTrait,
    hfr_id: Option<&str>,
    specialty_code: Option<&str>,
    page: &Page,
) -> Result<Vec<professional::Model>, DbErr> {
    let mut query = professional::Entity::find()
        .order_by_asc(professional::Column::HprId)
        .limit(page.size + 1);
    if let Some(after) = &page.after {
        query = query.filter(professional::Column::HprId.gt(after.clone()));
    }
    if let Some(hfr_id) = hfr_id {
        let linked = Query::select()
            .column(professional_link::Column::HprId)
            .from(professional_link::Entity)
            .and_where(Expr::col(professional_link::Column::HfrId).eq(hfr_id))
            .and_where(Expr::col(professional_link::Column::LinkedUntil).is_null())
            .to_owned();
        query = query.filter(professional::Column::HprId.in_subquery(linked));
    }
    let rows = query.all(db).await?;
    Ok(match specialty_code {
        Some(code) => rows
            .into_iter()
            .filter(|p| p.specialty_codes.lines().any(|s| s == code))
            .collect(),
        None => rows,
    })
}

/// Every link of a professional, oldest first.
pub async fn links_of(
    db: &impl ConnectionTrait,
    hpr_id: &str,
) -> Result<Vec<professional_link::Model>, DbErr> {
    professional_link::Entity::find()
        .filter(professional_link::Column::HprId.eq(hpr_id))
        .order_by_asc(professional_link::Column::Id)
        .all(db)
        .await
}

/// The links between one professional and one facility, oldest first.
pub async fn links_between(
    db: &impl ConnectionTrait,
    hpr_id: &str,
    hfr_id: &str,
) -> Result<Vec<professional_link::Model>, DbErr> {
    professional_link::Entity::find()
        .filter(professional_link::Column::HprId.eq(hpr_id))
        .filter(professional_link::Column::HfrId.eq(hfr_id))
        .order_by_asc(professional_link::Column::Id)
        .all(db)
        .await
}

pub async fn insert_link(
    db: &impl ConnectionTrait,
    hpr_id: &str,
    hfr_id: &str,
    role: &str,
    from: NaiveDate,
) -> Result<(), DbErr> {
    let link = professional_link::ActiveModel {
        hpr_id: Set(hpr_id.to_owned()),
        hfr_id: Set(hfr_id.to_owned()),
        role: Set(role.to_owned()),
        linked_from: Set(from),
        linked_until: Set(None),
        ..Default::default()
    };
    insert_one(db, link).await
}

pub async fn end_link(
    db: &impl ConnectionTrait,
    link: professional_link::Model,
    until: NaiveDate,
) -> Result<(), DbErr> {
    let mut active = link.into_active_model();
    active.linked_until = Set(Some(until));
    active.update(db).await.map(|_| ())
}

/// An empanelment with its specialties (by code) and history (oldest first).
pub type FullEmpanelment = (
    empanelment::Model,
    Vec<empanelled_specialty::Model>,
    Vec<HistoryRow>,
);

pub async fn find_empanelment(
    db: &impl ConnectionTrait,
    hfr_id: &str,
    scheme_code: &str,
) -> Result<Option<empanelment::Model>, DbErr> {
    empanelment::Entity::find_by_id((hfr_id.to_owned(), scheme_code.to_owned()))
        .one(db)
        .await
}

pub async fn find_full_empanelment(
    db: &impl ConnectionTrait,
    hfr_id: &str,
    scheme_code: &str,
) -> Result<Option<FullEmpanelment>, DbErr> {
    let Some(row) = find_empanelment(db, hfr_id, scheme_code).await? else {
        return Ok(None);
    };
    let specialties = empanelled_specialty::Entity::find()
        .filter(empanelled_specialty::Column::HfrId.eq(hfr_id))
        .filter(empanelled_specialty::Column::SchemeCode.eq(scheme_code))
        .order_by_asc(empanelled_specialty::Column::SpecialtyCode)
        .all(db)
        .await?;
    let history = EMPANELMENT_HISTORY.of(db, &[hfr_id, scheme_code]).await?;
    Ok(Some((row, specialties, history)))
}

/// A facility with, as far as each exists, its empanelment under a scheme,
/// that empanelment's specialty and (when `hpr_id` is given) every link of
/// that professional to the facility, oldest first: one statement (left
/// joins) for the check every preauth makes.
pub async fn find_empanelment_of_specialty(
    db: &impl ConnectionTrait,
    hfr_id: &str,
    scheme_code: &str,
    specialty_code: &str,
    hpr_id: Option<&str>,
) -> Result<Option<EmpanelmentOfSpecialty>, DbErr> {
    const F: &str = "f";
    const E: &str = "e";
    const S: &str = "s";
    const L: &str = "l";
    let mut query = Query::select();
    select_prefixed::<facility::Entity>(&mut query, F);
    select_prefixed::<empanelment::Entity>(&mut query, E);
    select_prefixed::<empanelled_specialty::Entity>(&mut query, S);
    query
        .from_as(facility::Entity, F)
        .join_as(
            JoinType::LeftJoin,
            empanelment::Entity,
            E,
            Condition::all()
                .add(
                    Expr::col((E, empanelment::Column::HfrId)).equals((F, facility::Column::HfrId)),
                )
                .add(Expr::col((E, empanelment::Column::SchemeCode)).eq(scheme_code)),
        )
        .join_as(
            JoinType::LeftJoin,
            empanelled_specialty::Entity,
            S,
            Condition::all()
                .add(
                    Expr::col((S, empanelled_specialty::Column::HfrId))
                        .equals((E, empanelment::Column::HfrId)),
                )
                .add(
                    Expr::col((S, empanelled_specialty::Column::SchemeCode))
                        .equals((E, empanelment::Column::SchemeCode)),
                )
                .add(
                    Expr::col((S, empanelled_specialty::Column::SpecialtyCode)).eq(specialty_code),
                ),
        )
        .and_where(Expr::col((F, facility::Column::HfrId)).eq(hfr_id));
    if let Some(hpr_id) = hpr_id {
        select_prefixed::<professional_link::Entity>(&mut query, L);
        query
            .join_as(
                JoinType::LeftJoin,
                professional_link::Entity,
                L,
                Condition::all()
                    .add(
                        Expr::col((L, professional_link::Column::HfrId))
                            .equals((F, facility::Column::HfrId)),
                    )
                    .add(Expr::col((L, professional_link::Column::HprId)).eq(hpr_id)),
            )
            .order_by((L, professional_link::Column::Id), Order::Asc);
    }
    let rows = db
        .query_all_raw(db.get_database_backend().build(&query))
        .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut links = Vec::new();
    if hpr_id.is_some() {
        for row in &rows {
            links.extend(professional_link::Model::from_query_result_optional(
                row,
                &format!("{L}_"),
            )?);
        }
    }
    Ok(Some(EmpanelmentOfSpecialty {
        facility: facility::Model::from_query_result(first, &format!("{F}_"))?,
        empanelment: empanelment::Model::from_query_result_optional(first, &format!("{E}_"))?,
        specialty: empanelled_specialty::Model::from_query_result_optional(
            first,
            &format!("{S}_"),
        )?,
        links,
    }))
}

/// What [`find_empanelment_of_specialty`] found.
pub struct EmpanelmentOfSpecialty {
    pub facility: facility::Model,
    pub empanelment: Option<empanelment::Model>,
    pub specialty: Option<empanelled_specialty::Model>,
    /// The professional's links to the facility, oldest first; empty when
    /// none was asked about.
    pub links: Vec<professional_link::Model>,
}

/// Replaces an empanelment and its specialty list.
pub async fn replace_empanelment(
    db: &impl ConnectionTrait,
    row: empanelment::Model,
    specialties: Vec<empanelled_specialty::Model>,
) -> Result<(), DbErr> {
    empanelled_specialty::Entity::delete_many()
        .filter(empanelled_specialty::Column::HfrId.eq(row.hfr_id.clone()))
        .filter(empanelled_specialty::Column::SchemeCode.eq(row.scheme_code.clone()))
        .exec(db)
        .await?;
    empanelment::Entity::delete_by_id((row.hfr_id.clone(), row.scheme_code.clone()))
        .exec(db)
        .await?;
    empanelment::Entity::insert(row.into_active_model())
        .exec_without_returning(db)
        .await?;
    if !specialties.is_empty() {
        empanelled_specialty::Entity::insert_many(
            specialties
                .into_iter()
                .map(IntoActiveModel::into_active_model),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// Empanelments matching the filters, by (HFR id, scheme); one more than the page size.
pub async fn list_empanelments(
    db: &impl ConnectionTrait,
    hfr_id: Option<&str>,
    scheme_code: Option<&str>,
    status: Option<Stored<EmpanelmentStatus>>,
    page: &Page,
) -> Result<Vec<empanelment::Model>, DbErr> {
    let mut query = empanelment::Entity::find()
        .order_by_asc(empanelment::Column::HfrId)
        .order_by_asc(empanelment::Column::SchemeCode)
        .limit(page.size + 1);
    if let Some(hfr_id) = hfr_id {
        query = query.filter(empanelment::Column::HfrId.eq(hfr_id));
    }
    if let Some(scheme) = scheme_code {
        query = query.filter(empanelment::Column::SchemeCode.eq(scheme));
    }
    if let Some(status) = status {
        query = query.filter(empanelment::Column::Status.eq(status));
    }
    if let Some((hfr_after, scheme_after)) = page.after.as_deref().and_then(|a| a.split_once('/')) {
        query = query.filter(
            Condition::any()
                .add(empanelment::Column::HfrId.gt(hfr_after))
                .add(
                    Condition::all()
                        .add(empanelment::Column::HfrId.eq(hfr_after))
                        .add(empanelment::Column::SchemeCode.gt(scheme_after)),
                ),
        );
    }
    query.all(db).await
}

/// Inserts registrations, skipping any whose (facility, day, token) is already
/// recorded; returns how many were new.
pub async fn insert_opd_registrations(
    db: &impl ConnectionTrait,
    rows: Vec<opd_registration::Model>,
) -> Result<u64, DbErr> {
    if rows.is_empty() {
        return Ok(0);
    }
    let skip_recorded = sea_orm::sea_query::OnConflict::columns([
        opd_registration::Column::HfrId,
        opd_registration::Column::VisitDate,
        opd_registration::Column::TokenNumber,
    ])
    .do_nothing()
    .to_owned();
    opd_registration::Entity::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
        .on_conflict(skip_recorded)
        .exec_without_returning(db)
        .await
}

/// OPD registrations per facility and month: (HFR id, year*100+month, total, via ABHA).
pub async fn opd_counts(
    db: &impl ConnectionTrait,
    hfr_id: Option<&str>,
    district_code: Option<&str>,
    from_month: i32,
    to_month: i32,
    abha_mode: &str,
) -> Result<Vec<(String, i32, i64, i64)>, DbErr> {
    let mut query = opd_registration::Entity::find()
        .select_only()
        .column(opd_registration::Column::HfrId)
        .column(opd_registration::Column::VisitMonth)
        .column_as(
            Expr::col(opd_registration::Column::RegistrationId).count(),
            "total",
        )
        .column_as(
            Expr::case(Expr::col(opd_registration::Column::Mode).eq(abha_mode), 1)
                .finally(0)
                .sum(),
            "via_abha",
        )
        .filter(opd_registration::Column::VisitMonth.between(from_month, to_month))
        .group_by(opd_registration::Column::HfrId)
        .group_by(opd_registration::Column::VisitMonth)
        .order_by_asc(opd_registration::Column::HfrId)
        .order_by_asc(opd_registration::Column::VisitMonth);
    if let Some(hfr_id) = hfr_id {
        query = query.filter(opd_registration::Column::HfrId.eq(hfr_id));
    }
    if let Some(district) = district_code {
        let in_district = Query::select()
            .column(facility::Column::HfrId)
            .from(facility::Entity)
            .and_where(Expr::col(facility::Column::DistrictCode).eq(district))
            .to_owned();
        query = query.filter(opd_registration::Column::HfrId.in_subquery(in_district));
    }
    query.into_tuple::<(String, i32, i64, i64)>().all(db).await
}

/// Names of the given facilities, for reports.
pub async fn facility_names(
    db: &impl ConnectionTrait,
    hfr_ids: Vec<String>,
) -> Result<std::collections::HashMap<String, String>, DbErr> {
    let rows = facility::Entity::find()
        .filter(facility::Column::HfrId.is_in(hfr_ids))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|f| (f.hfr_id, f.name)).collect())
}
