//! Card logins and what they made: per login, centre and day, and per kind
//! of login (choice centre, CSC, other) the logins the master holds active
//! and inactive, how many made cards, and how many a login makes on a day it
//! works. Self-service cards and cards by logins the master does not hold
//! are counted apart.

use std::collections::{BTreeMap, BTreeSet};

use ayushman_platform::ApiError;
use ayushman_proto::beneficiary::v1::{CardChannel, OperatorKind, OperatorStatus};
use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use crate::store::queries::drives::{self, ActivityFilter};

/// Cards made by one login at one centre on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityLine {
    pub date: NaiveDate,
    pub operator_id: String,
    pub centre_id: String,
    pub district_code: String,
    /// `None` when the login is not in the master.
    pub kind: Option<OperatorKind>,
    pub self_service: bool,
    pub cards: i64,
}

/// Logins of one kind and their cards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindSummary {
    pub kind: OperatorKind,
    pub active_logins: i64,
    pub inactive_logins: i64,
    pub logins_that_carded: i64,
    pub cards: i64,
    pub login_days: i64,
    pub fees_paise: i64,
}

impl KindSummary {
    /// Cards a login of this kind makes on a day it works.
    pub fn cards_per_login_per_day(&self) -> f64 {
        if self.login_days == 0 {
            0.0
        } else {
            self.cards as f64 / self.login_days as f64
        }
    }
}

/// The whole report.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorReport {
    pub lines: Vec<ActivityLine>,
    pub by_kind: Vec<KindSummary>,
    pub self_service_cards: i64,
    pub unregistered_cards: i64,
}

/// What the logins of one kind did: who carded, on which days, how many
/// cards, for what fees.
#[derive(Default)]
struct Worked {
    logins: BTreeSet<String>,
    days: BTreeSet<(String, NaiveDate)>,
    cards: i64,
    fees_paise: i64,
}

/// The kinds a summary is given for, in report order.
const KINDS: [OperatorKind; 3] = [
    OperatorKind::ChoiceCentre,
    OperatorKind::Csc,
    OperatorKind::Other,
];

pub async fn report(
    db: &impl ConnectionTrait,
    filter: &ActivityFilter,
) -> Result<OperatorReport, ApiError> {
    let self_service = CardChannel::SelfService.as_str_name();
    let counts = drives::cards_by_operator(db, filter).await?;
    let master = drives::operator_counts(
        db,
        filter.state_code.as_deref(),
        filter.district_code.as_deref(),
    )
    .await?;
    let mut report = OperatorReport {
        lines: Vec::with_capacity(counts.len()),
        by_kind: Vec::new(),
        self_service_cards: 0,
        unregistered_cards: 0,
    };
    let mut worked: BTreeMap<&str, Worked> = BTreeMap::new();
    for c in counts {
        let own = c.channel == self_service;
        let kind = c.kind.as_deref().and_then(OperatorKind::from_str_name);
        match (own, kind) {
            (true, _) => report.self_service_cards += c.cards,
            (false, None) => report.unregistered_cards += c.cards,
            (false, Some(kind)) => {
                let entry = worked.entry(kind.as_str_name()).or_default();
                entry.logins.insert(c.operator_id.clone());
                entry.days.insert((c.operator_id.clone(), c.issued_on));
                entry.cards += c.cards;
                entry.fees_paise += c.fees_paise;
            }
        }
        report.lines.push(ActivityLine {
            date: c.issued_on,
            operator_id: c.operator_id,
            centre_id: c.centre_id,
            district_code: c.district_code,
            kind: if own { None } else { kind },
            self_service: own,
            cards: c.cards,
        });
    }
    let logins = |kind: OperatorKind, status: OperatorStatus| {
        master
            .iter()
            .filter(|(k, s, _)| k == kind.as_str_name() && s == status.as_str_name())
            .map(|(_, _, n)| n)
            .sum()
    };
    for kind in KINDS {
        let done = worked.remove(kind.as_str_name()).unwrap_or_default();
        report.by_kind.push(KindSummary {
            kind,
            active_logins: logins(kind, OperatorStatus::Active),
            inactive_logins: logins(kind, OperatorStatus::Inactive),
            logins_that_carded: done.logins.len() as i64,
            cards: done.cards,
            login_days: done.days.len() as i64,
            fees_paise: done.fees_paise,
        });
    }
    Ok(report)
}
