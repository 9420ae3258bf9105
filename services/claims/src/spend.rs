//! The out-of-state spend view (DESIGN §4, Portability): what a home state
//! paid to hospitals in other states — and, inbound, what a state's hospitals
//! were paid by other states — by month of payment, state and specialty, with
//! each month's share. States watch it (Bihar sent 32.9 % of its PM-JAY funds
//! to other states, against 2.8 % nationally). Plain functions over the
//! claims store; the handler translates.

use std::collections::BTreeMap;

use ayushman_domain::india_time;
use sea_orm::ConnectionTrait;

use crate::store::{entities::claim, queries};

/// Whose spend: a home state's payments out, or a treating state's receipts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Direction {
    /// Payments of this home state.
    Outbound(String),
    /// Payments to hospitals of this treating state.
    Inbound(String),
}

/// Claims paid across a border, grouped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpendRow {
    /// `yyyymm`.
    pub month: i32,
    pub home_state: String,
    pub treating_state: String,
    pub specialty: String,
    pub claims_paid: i64,
    pub paid_paise: i64,
}

/// One month of a state's payments, in and out of state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthSpend {
    /// `yyyymm`.
    pub month: i32,
    pub state: String,
    pub total_paid_paise: i64,
    pub out_of_state_paid_paise: i64,
}

impl MonthSpend {
    /// The out-of-state part as a share of the total, in basis points.
    pub fn basis_points(&self) -> i32 {
        ayushman_domain::share_basis_points(self.out_of_state_paid_paise, self.total_paid_paise)
    }
}

/// What a claim paid: the approved amount and any late-payment penalty.
fn paid(claim: &claim::Model) -> i64 {
    claim.approved_amount_paise + claim.penalty_paise
}

/// Groups `claims` (paid ones of the state in `direction`) into rows and months.
pub fn summarise(
    direction: &Direction,
    claims: &[claim::Model],
) -> (Vec<SpendRow>, Vec<MonthSpend>) {
    let mut rows: BTreeMap<(i32, &str, &str, &str), SpendRow> = BTreeMap::new();
    let mut months: BTreeMap<i32, MonthSpend> = BTreeMap::new();
    for claim in claims {
        let Some(paid_at) = claim.paid_at else {
            continue;
        };
        let month = india_time::month_of(paid_at);
        let state = match direction {
            Direction::Outbound(state) | Direction::Inbound(state) => state,
        };
        let total = months.entry(month).or_insert_with(|| MonthSpend {
            month,
            state: state.clone(),
            ..MonthSpend::default()
        });
        total.total_paid_paise += paid(claim);
        if claim.payer_state_code == claim.facility_state_code {
            continue;
        }
        total.out_of_state_paid_paise += paid(claim);
        let row = rows
            .entry((
                month,
                &claim.payer_state_code,
                &claim.facility_state_code,
                &claim.specialty_code,
            ))
            .or_insert_with(|| SpendRow {
                month,
                home_state: claim.payer_state_code.clone(),
                treating_state: claim.facility_state_code.clone(),
                specialty: claim.specialty_code.clone(),
                ..SpendRow::default()
            });
        row.claims_paid += 1;
        row.paid_paise += paid(claim);
    }
    (rows.into_values().collect(), months.into_values().collect())
}

/// The view for `direction` over the months `from..=to` (`yyyymm`) of payment.
pub async fn out_of_state_spend(
    db: &impl ConnectionTrait,
    direction: &Direction,
    from: i32,
    to: i32,
) -> Result<(Vec<SpendRow>, Vec<MonthSpend>), sea_orm::DbErr> {
    let (payer, treating) = match direction {
        Direction::Outbound(state) => (Some(state.as_str()), None),
        Direction::Inbound(state) => (None, Some(state.as_str())),
    };
    let claims = queries::paid_between(
        db,
        india_time::start_of_month(from),
        india_time::start_of_month(india_time::next_month(to)),
        payer,
        treating,
    )
    .await?;
    Ok(summarise(direction, &claims))
}
