//! The people of a card drive besides the district officers: card logins
//! (the operator master — Durg counts 641 active at choice centres, which
//! charge a fixed fee, and 93 with others) and mobilisers (self-help-group
//! workers who bring whole families and are credited with them).

use ayushman_platform::{ApiError, FieldViolations, caller::state_of_district, db};
use ayushman_proto::beneficiary::v1::{OperatorKind, OperatorStatus};
use sea_orm::ConnectionTrait;

use crate::{
    areas,
    store::{
        entities::{mobiliser, operator},
        queries::drives::{self, Upserted},
    },
};

/// Most logins or mobilisers one call takes.
pub const MAX_PER_CALL: usize = 5_000;

/// The highest fee a login may charge per card: ₹500. Fees are in paise, so
/// a larger number is almost surely rupees typed as paise.
const MAX_FEE_PAISE: i64 = 50_000;

/// A login as a request gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorDraft {
    pub login_id: String,
    pub name: String,
    pub kind: OperatorKind,
    pub centre_id: String,
    pub district_code: String,
    pub block_code: String,
    pub status: OperatorStatus,
    pub fee_per_card_paise: i64,
}

/// A mobiliser as a request gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobiliserDraft {
    pub mobiliser_id: String,
    pub name: String,
    pub group_name: String,
    pub district_code: String,
    pub block_code: String,
    pub active: bool,
}

/// Checks an id, a name, a district and an optional block; problems into `v`.
fn check_common(
    v: &mut FieldViolations,
    (id_field, id): (&str, &str),
    name: &str,
    district_code: &str,
    block_code: &str,
) {
    v.require(id_field, id);
    v.max_chars(id_field, id, 64);
    if id.chars().any(char::is_whitespace) {
        v.add(id_field, "may not contain spaces");
    }
    v.require("name", name);
    v.max_chars("name", name, 200);
    if district_code.is_empty() {
        v.add("district_code", "is required");
    } else if v
        .check("district_code", areas::check_any_district(district_code))
        .is_some()
        && !block_code.is_empty()
    {
        v.check("block_code", areas::check_within(district_code, block_code));
    }
}

fn operator_row(v: &mut FieldViolations, d: &OperatorDraft) -> Option<operator::Model> {
    check_common(
        v,
        ("login_id", &d.login_id),
        &d.name,
        &d.district_code,
        &d.block_code,
    );
    if d.kind == OperatorKind::Unspecified {
        v.add("kind", "is required: choice centre, CSC or other");
    }
    if d.status == OperatorStatus::Unspecified {
        v.add("status", "is required: active or inactive");
    }
    v.max_chars("centre_id", &d.centre_id, 64);
    if d.fee_per_card_paise < 0 {
        v.add("fee_per_card_paise", "cannot be negative");
    } else if d.fee_per_card_paise > MAX_FEE_PAISE {
        v.add(
            "fee_per_card_paise",
            "is more than ₹500 a card; fees are in paise (3000 is ₹30)",
        );
    }
    v.is_empty().then(|| operator::Model {
        login_id: d.login_id.clone(),
        name: d.name.clone(),
        kind: d.kind.as_str_name().to_owned(),
        centre_id: d.centre_id.clone(),
        state_code: state_of_district(&d.district_code).to_owned(),
        district_code: d.district_code.clone(),
        block_code: d.block_code.clone(),
        status: d.status.as_str_name().to_owned(),
        fee_per_card_paise: d.fee_per_card_paise,
        updated_at: db::now(),
    })
}

fn mobiliser_row(v: &mut FieldViolations, d: &MobiliserDraft) -> Option<mobiliser::Model> {
    check_common(
        v,
        ("mobiliser_id", &d.mobiliser_id),
        &d.name,
        &d.district_code,
        &d.block_code,
    );
    v.max_chars("group_name", &d.group_name, 200);
    v.is_empty().then(|| mobiliser::Model {
        mobiliser_id: d.mobiliser_id.clone(),
        name: d.name.clone(),
        group_name: d.group_name.clone(),
        state_code: state_of_district(&d.district_code).to_owned(),
        district_code: d.district_code.clone(),
        block_code: d.block_code.clone(),
        active: d.active,
        updated_at: db::now(),
    })
}

/// What an upsert of master rows did, with the problems of the rows it
/// refused as (one-based row number, field, reason).
#[derive(Debug, Default)]
pub struct MasterUpsert {
    pub done: Upserted,
    pub rejects: Vec<(i64, String, String)>,
}

/// Validates each draft with `row_of`: the valid rows (the last of any
/// repeated id), and the problems of the others.
fn split<D, M>(
    drafts: &[D],
    row_of: fn(&mut FieldViolations, &D) -> Option<M>,
    key_of: fn(&M) -> &str,
) -> (Vec<M>, Vec<(i64, String, String)>) {
    let mut rows: Vec<M> = Vec::with_capacity(drafts.len());
    let mut rejects = Vec::new();
    for (index, draft) in drafts.iter().enumerate() {
        let mut v = FieldViolations::new();
        match row_of(&mut v, draft) {
            Some(row) => {
                rows.retain(|r| key_of(r) != key_of(&row));
                rows.push(row);
            }
            None => rejects.extend(
                v.iter()
                    .map(|(f, r)| (index as i64 + 1, f.to_owned(), r.to_owned())),
            ),
        }
    }
    (rows, rejects)
}

/// The districts of `drafts`, for the caller's state check.
pub fn districts_of<'a>(districts: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut all: Vec<String> = districts
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
        .collect();
    all.sort();
    all.dedup();
    all
}

pub async fn upsert_operators(
    db: &impl ConnectionTrait,
    drafts: Vec<OperatorDraft>,
) -> Result<MasterUpsert, ApiError> {
    let (rows, rejects) = split(&drafts, operator_row, |o| &o.login_id);
    Ok(MasterUpsert {
        done: drives::upsert_operators(db, rows).await?,
        rejects,
    })
}

pub async fn upsert_mobilisers(
    db: &impl ConnectionTrait,
    drafts: Vec<MobiliserDraft>,
) -> Result<MasterUpsert, ApiError> {
    let (rows, rejects) = split(&drafts, mobiliser_row, |m| &m.mobiliser_id);
    Ok(MasterUpsert {
        done: drives::upsert_mobilisers(db, rows).await?,
        rejects,
    })
}

/// The fee a login charges for a card: FAILED_PRECONDITION when the master
/// has the login inactive; nothing when the login is not in the master (the
/// operator report counts its cards as unregistered).
pub async fn fee_for_card(db: &impl ConnectionTrait, login_id: &str) -> Result<i64, ApiError> {
    match drives::find_operator(db, login_id).await? {
        Some(login) if login.status == OperatorStatus::Inactive.as_str_name() => {
            Err(ApiError::FailedPrecondition(format!(
                "operator login {login_id} is inactive in the operator master; the district can make it active again with UpsertOperators"
            )))
        }
        Some(login) => Ok(login.fee_per_card_paise),
        None => Ok(0),
    }
}

/// Checks that a card may be credited to `mobiliser_id`.
pub async fn ensure_mobiliser(
    db: &impl ConnectionTrait,
    mobiliser_id: &str,
) -> Result<(), ApiError> {
    match drives::find_mobiliser(db, mobiliser_id).await? {
        None => Err(ApiError::invalid(
            "mobiliser_id",
            format!("no mobiliser {mobiliser_id}; register them with UpsertMobilisers"),
        )),
        Some(m) if !m.active => Err(ApiError::FailedPrecondition(format!(
            "mobiliser {mobiliser_id} is no longer active; cards cannot be credited to them"
        ))),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice_centre(login: &str, fee: i64) -> OperatorDraft {
        OperatorDraft {
            login_id: login.into(),
            name: "Choice centre, Bhilai".into(),
            kind: OperatorKind::ChoiceCentre,
            centre_id: "CC-DRG-0001".into(),
            district_code: "22-387".into(),
            block_code: "22-387-01".into(),
            status: OperatorStatus::Active,
            fee_per_card_paise: fee,
        }
    }

    fn problems(d: &OperatorDraft) -> Vec<(String, String)> {
        let mut v = FieldViolations::new();
        operator_row(&mut v, d);
        v.iter()
            .map(|(f, r)| (f.to_owned(), r.to_owned()))
            .collect()
    }

    #[test]
    fn a_fee_in_rupees_typed_as_paise_is_caught() {
        assert!(problems(&choice_centre("CG-DRG-0001", 3_000)).is_empty());
        assert_eq!(
            problems(&choice_centre("CG-DRG-0001", 3_000_000))[0].0,
            "fee_per_card_paise"
        );
    }

    #[test]
    fn a_login_needs_kind_status_and_a_district_it_belongs_to() {
        let draft = OperatorDraft {
            kind: OperatorKind::Unspecified,
            status: OperatorStatus::Unspecified,
            block_code: "10-230-01".into(),
            ..choice_centre("CG DRG", 0)
        };
        let fields: Vec<_> = problems(&draft).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["login_id", "block_code", "kind", "status"]);
    }

    #[test]
    fn the_last_of_a_repeated_login_wins() {
        let (rows, rejects) = split(
            &[
                choice_centre("A", 0),
                choice_centre("B", 0),
                choice_centre("A", 3_000),
            ],
            operator_row,
            |o| &o.login_id,
        );
        assert!(rejects.is_empty());
        let fees: Vec<_> = rows
            .iter()
            .map(|r| (r.login_id.as_str(), r.fee_per_card_paise))
            .collect();
        assert_eq!(fees, [("B", 0), ("A", 3_000)]);
    }
}
