//! The area master: a district's sub-divisions, blocks and villages, which
//! coverage and campaign reports roll up by (a Saran drive reports to the
//! SDOs of Sonpur, Marhaura and Sadar). People carry block and village codes
//! from their eligibility list; the master names those areas and places each
//! block in its sub-division.

use std::collections::HashMap;

use ayushman_domain::StateCode;
use ayushman_platform::{ApiError, FieldViolations, caller::state_of_district, db};
use ayushman_proto::beneficiary::v1::AreaLevel;
use sea_orm::ConnectionTrait;

use crate::{
    drive_people::MasterUpsert,
    store::{entities::area, queries::drives},
};

/// Most areas one UpsertAreas call takes.
pub const MAX_AREAS_PER_CALL: usize = 5_000;

/// Checks a district code of `state_code`: `10-230` for Saran in Bihar (`10`).
pub fn check_district(state_code: &str, district_code: &str) -> Result<(), String> {
    let well_formed = district_code.len() == 6
        && district_code.starts_with(state_code)
        && district_code.as_bytes()[2] == b'-'
        && district_code[3..].bytes().all(|b| b.is_ascii_digit());
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "unknown district {district_code:?}: district codes look like {state_code}-230 and start with the state code"
        ))
    }
}

/// Checks a district code on its own, taking the state from its first two digits.
pub fn check_any_district(district_code: &str) -> Result<StateCode, String> {
    let state = StateCode::parse(state_of_district(district_code))
        .map_err(|_| format!("{district_code:?} is not a district code such as 10-230"))?;
    check_district(&state.code(), district_code)?;
    Ok(state)
}

/// Checks that `code` (a block or village) belongs to `district_code`.
pub fn check_within(district_code: &str, code: &str) -> Result<(), String> {
    let suffix = code
        .strip_prefix(district_code)
        .and_then(|rest| rest.strip_prefix('-'))
        .unwrap_or_default();
    if suffix.is_empty() {
        return Err(format!(
            "{code:?} is not in district {district_code}: codes below a district start with its code and a dash, e.g. {district_code}-07"
        ));
    }
    Ok(())
}

/// The levels an area of `level` may hang from.
fn parent_levels(level: AreaLevel) -> &'static [AreaLevel] {
    match level {
        AreaLevel::SubDivision => &[AreaLevel::District],
        AreaLevel::Block => &[AreaLevel::SubDivision, AreaLevel::District],
        AreaLevel::Village => &[AreaLevel::Block],
        AreaLevel::District | AreaLevel::Unspecified => &[],
    }
}

/// An area as a request gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaDraft {
    pub code: String,
    pub level: AreaLevel,
    pub name: String,
    pub parent_code: String,
}

/// Checks one area against the areas known so far (stored, or earlier in
/// the same request) and returns its row; each problem goes into `v`.
fn checked(
    v: &mut FieldViolations,
    draft: &AreaDraft,
    known: &HashMap<String, area::Model>,
) -> Option<area::Model> {
    v.require("code", &draft.code);
    v.max_chars("code", &draft.code, 40);
    if draft
        .code
        .bytes()
        .any(|b| !(b.is_ascii_alphanumeric() || b == b'-'))
    {
        v.add("code", "may hold only letters, digits and dashes");
    }
    v.require("name", &draft.name);
    v.max_chars("name", &draft.name, 100);
    if draft.level == AreaLevel::Unspecified {
        v.add(
            "level",
            "is required: district, sub-division, block or village",
        );
        return None;
    }
    let district = if draft.level == AreaLevel::District {
        if !draft.parent_code.is_empty() {
            v.add("parent_code", "a district belongs to no other area");
        }
        v.check("code", check_any_district(&draft.code));
        draft.code.clone()
    } else {
        let district = draft.code.get(..6).unwrap_or_default().to_owned();
        v.check("code", check_any_district(&district));
        v.check("code", check_within(&district, &draft.code));
        let allowed = parent_levels(draft.level);
        match known.get(&draft.parent_code) {
            _ if draft.parent_code.is_empty() => v.add(
                "parent_code",
                format!("is required: the {} it belongs to", level_word(allowed[0])),
            ),
            None => v.add(
                "parent_code",
                format!(
                    "no area {:?}: give parents before their children, or store them first",
                    draft.parent_code
                ),
            ),
            Some(parent) if parent.district_code != district => v.add(
                "parent_code",
                format!(
                    "{} is in district {}, not {district}",
                    parent.code, parent.district_code
                ),
            ),
            Some(parent)
                if !allowed
                    .iter()
                    .any(|l| l.as_str_name() == parent.level.as_str()) =>
            {
                v.add(
                    "parent_code",
                    format!(
                        "a {} belongs to a {}, and {} is a {}",
                        level_word(draft.level),
                        allowed
                            .iter()
                            .map(|l| level_word(*l))
                            .collect::<Vec<_>>()
                            .join(" or "),
                        parent.code,
                        AreaLevel::from_str_name(&parent.level).map_or("?", level_word)
                    ),
                )
            }
            Some(_) => {}
        }
        district
    };
    if !v.is_empty() {
        return None;
    }
    Some(area::Model {
        code: draft.code.clone(),
        level: draft.level.as_str_name().to_owned(),
        name: draft.name.clone(),
        parent_code: draft.parent_code.clone(),
        state_code: state_of_district(&district).to_owned(),
        district_code: district,
        updated_at: db::now(),
    })
}

/// `sub-division` for [`AreaLevel::SubDivision`].
pub fn level_word(level: AreaLevel) -> &'static str {
    match level {
        AreaLevel::District => "district",
        AreaLevel::SubDivision => "sub-division",
        AreaLevel::Block => "block",
        AreaLevel::Village => "village",
        AreaLevel::Unspecified => "area",
    }
}

/// Creates or replaces `drafts` (parents first); rows with a problem are
/// refused and reported, the rest are stored.
pub async fn upsert(
    db: &impl ConnectionTrait,
    drafts: Vec<AreaDraft>,
) -> Result<MasterUpsert, ApiError> {
    let mut parents: Vec<String> = drafts
        .iter()
        .filter(|d| !d.parent_code.is_empty())
        .map(|d| d.parent_code.clone())
        .collect();
    parents.sort();
    parents.dedup();
    let mut known: HashMap<String, area::Model> = drives::areas_by_code(db, parents)
        .await?
        .into_iter()
        .map(|a| (a.code.clone(), a))
        .collect();
    let mut outcome = MasterUpsert::default();
    let mut rows = Vec::with_capacity(drafts.len());
    for (index, draft) in drafts.iter().enumerate() {
        let mut v = FieldViolations::new();
        match checked(&mut v, draft, &known) {
            Some(row) => {
                known.insert(row.code.clone(), row.clone());
                rows.push(row);
            }
            None => outcome.rejects.extend(
                v.iter()
                    .map(|(f, r)| (index as i64 + 1, f.to_owned(), r.to_owned())),
            ),
        }
    }
    outcome.done = drives::upsert_areas(db, rows).await?;
    Ok(outcome)
}

/// The areas of some districts, for naming report rows and placing blocks
/// in their sub-divisions.
#[derive(Debug, Default)]
pub struct Geography {
    areas: HashMap<String, area::Model>,
}

impl Geography {
    /// The districts, sub-divisions and blocks of `districts` (and their
    /// villages when `with_villages`).
    pub async fn of(
        db: &impl ConnectionTrait,
        districts: &[String],
        with_villages: bool,
    ) -> Result<Self, ApiError> {
        let mut levels = vec![
            AreaLevel::District.as_str_name(),
            AreaLevel::SubDivision.as_str_name(),
            AreaLevel::Block.as_str_name(),
        ];
        if with_villages {
            levels.push(AreaLevel::Village.as_str_name());
        }
        Ok(Self {
            areas: drives::areas_of(db, districts, &levels)
                .await?
                .into_iter()
                .map(|a| (a.code.clone(), a))
                .collect(),
        })
    }

    /// The area's name; empty when the master does not have it.
    pub fn name(&self, code: &str) -> String {
        self.areas
            .get(code)
            .map(|a| a.name.clone())
            .unwrap_or_default()
    }

    /// The sub-division a block belongs to; empty when the master does not
    /// place it in one.
    pub fn sub_division_of(&self, block_code: &str) -> String {
        self.areas
            .get(block_code)
            .and_then(|block| self.areas.get(&block.parent_code))
            .filter(|parent| parent.level == AreaLevel::SubDivision.as_str_name())
            .map(|parent| parent.code.clone())
            .unwrap_or_default()
    }

    /// The block a village belongs to, per the master; `None` when it is not in it.
    pub fn block_of(&self, village_code: &str) -> Option<&str> {
        self.areas
            .get(village_code)
            .map(|village| village.parent_code.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(code: &str, level: AreaLevel, name: &str, parent: &str) -> AreaDraft {
        AreaDraft {
            code: code.into(),
            level,
            name: name.into(),
            parent_code: parent.into(),
        }
    }

    fn known(rows: &[AreaDraft]) -> HashMap<String, area::Model> {
        let mut known = HashMap::new();
        for row in rows {
            let mut v = FieldViolations::new();
            let model = checked(&mut v, row, &known).expect("valid");
            known.insert(model.code.clone(), model);
        }
        known
    }

    fn problems(row: &AreaDraft, known: &HashMap<String, area::Model>) -> Vec<(String, String)> {
        let mut v = FieldViolations::new();
        checked(&mut v, row, known);
        v.iter()
            .map(|(f, r)| (f.to_owned(), r.to_owned()))
            .collect()
    }

    #[test]
    fn a_district_its_sub_division_block_and_village_chain_up() {
        let known = known(&[
            draft("10-230", AreaLevel::District, "Saran", ""),
            draft("10-230-SD3", AreaLevel::SubDivision, "Sonpur", "10-230"),
            draft("10-230-16", AreaLevel::Block, "Sonpur", "10-230-SD3"),
            draft("10-230-16-001", AreaLevel::Village, "Shahpur", "10-230-16"),
        ]);
        assert_eq!(known["10-230-16-001"].district_code, "10-230");
        assert_eq!(known["10-230-16-001"].state_code, "10");
    }

    #[test]
    fn a_block_may_hang_from_its_district_where_there_are_no_sub_divisions() {
        let known = known(&[draft("22-387", AreaLevel::District, "Durg", "")]);
        assert!(
            problems(
                &draft("22-387-01", AreaLevel::Block, "Durg", "22-387"),
                &known
            )
            .is_empty()
        );
    }

    #[test]
    fn a_village_under_a_sub_division_or_another_district_is_refused() {
        let known = known(&[
            draft("10-230", AreaLevel::District, "Saran", ""),
            draft("10-230-SD3", AreaLevel::SubDivision, "Sonpur", "10-230"),
            draft("22-387", AreaLevel::District, "Durg", ""),
        ]);
        assert_eq!(
            problems(
                &draft("10-230-16-001", AreaLevel::Village, "Shahpur", "10-230-SD3"),
                &known
            ),
            [(
                "parent_code".to_owned(),
                "a village belongs to a block, and 10-230-SD3 is a sub-division".to_owned()
            )]
        );
        assert_eq!(
            problems(
                &draft("10-230-01", AreaLevel::Block, "Chapra", "22-387"),
                &known
            ),
            [(
                "parent_code".to_owned(),
                "22-387 is in district 22-387, not 10-230".to_owned()
            )]
        );
    }

    #[test]
    fn codes_below_a_district_start_with_it_and_parents_come_first() {
        let known = known(&[draft("10-230", AreaLevel::District, "Saran", "")]);
        let outside = problems(&draft("10-2301", AreaLevel::Block, "X", "10-230"), &known);
        assert_eq!(outside[0].0, "code");
        let orphan = problems(
            &draft("10-230-07", AreaLevel::Block, "X", "10-230-SD9"),
            &known,
        );
        assert_eq!(
            orphan,
            [(
                "parent_code".to_owned(),
                "no area \"10-230-SD9\": give parents before their children, or store them first"
                    .to_owned()
            )]
        );
    }
}
