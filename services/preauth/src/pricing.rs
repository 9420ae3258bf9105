//! Pricing a package for a case: whose rate applies (the route's rate rule),
//! and the add-ons chosen, with checked money arithmetic.

use ayushman_domain::Money;
use ayushman_proto::{
    portability::v1::RateRule,
    preauth::v1::{AddOnKind, RateSource},
};

use crate::store::queries::FullPackage;

/// A package priced for one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    pub rate: Money,
    pub add_ons: Money,
    pub amount: Money,
    pub source: RateSource,
}

/// Why a package cannot be priced as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PricingError {
    /// An add-on code that the package does not offer.
    UnknownAddOn(String),
    /// The sum does not fit in 64-bit paise.
    Overflow,
}

/// Prices `package` with `add_on_codes` for a case treated in `treating_state`
/// of a patient from `home_state`, under `rule`: the chosen state's own rate if
/// it has one, else the national base rate.
pub fn price(
    package: &FullPackage,
    add_on_codes: &[String],
    rule: RateRule,
    treating_state: &str,
    home_state: &str,
) -> Result<Priced, PricingError> {
    let (row, rates, add_ons) = package;
    let (state, source) = match rule {
        RateRule::HomeState => (home_state, RateSource::HomeState),
        RateRule::TreatingState | RateRule::Unspecified => {
            (treating_state, RateSource::TreatingState)
        }
    };
    let (rate, source) = match rates.iter().find(|r| r.state_code == state) {
        Some(own) => (Money::from_paise(own.rate_paise), source),
        None => (Money::from_paise(row.base_rate_paise), RateSource::National),
    };
    let mut extras = Money::ZERO;
    for code in add_on_codes {
        let add_on = add_ons
            .iter()
            .find(|a| &a.add_on_code == code)
            .ok_or_else(|| PricingError::UnknownAddOn(code.clone()))?;
        let amount = match AddOnKind::from_str_name(&add_on.kind) {
            Some(AddOnKind::AccreditationIncentive | AddOnKind::Stratification)
                if add_on.percent_basis_points > 0 =>
            {
                rate.checked_share(i64::from(add_on.percent_basis_points))
                    .ok_or(PricingError::Overflow)?
            }
            _ => Money::from_paise(add_on.amount_paise),
        };
        extras = extras.checked_add(amount).ok_or(PricingError::Overflow)?;
    }
    let amount = rate.checked_add(extras).ok_or(PricingError::Overflow)?;
    Ok(Priced {
        rate,
        add_ons: extras,
        amount,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::entities::{package, package_add_on, package_rate};

    fn ptca() -> FullPackage {
        let row = package::Model {
            package_code: "MC011A".into(),
            name: "PTCA, single stent".into(),
            specialty_code: "CARDIOLOGY".into(),
            base_rate_paise: 90_000_00,
            reserved_for_public: false,
            expected_stay_days: 3,
            active: true,
        };
        let rates = vec![package_rate::Model {
            package_code: "MC011A".into(),
            state_code: "22".into(),
            rate_paise: 85_000_00,
        }];
        let add_ons = vec![
            package_add_on::Model {
                package_code: "MC011A".into(),
                add_on_code: "IMP-DES".into(),
                name: "Drug-eluting stent".into(),
                kind: AddOnKind::Implant.as_str_name().into(),
                amount_paise: 30_000_00,
                percent_basis_points: 0,
            },
            package_add_on::Model {
                package_code: "MC011A".into(),
                add_on_code: "NABH".into(),
                name: "NABH incentive".into(),
                kind: AddOnKind::AccreditationIncentive.as_str_name().into(),
                amount_paise: 0,
                percent_basis_points: 1_000,
            },
        ];
        (row, rates, add_ons)
    }

    #[test]
    fn the_treating_state_s_own_rate_wins_over_the_base_rate() {
        let priced = price(&ptca(), &[], RateRule::TreatingState, "22", "08").expect("priced");
        assert_eq!(
            (priced.rate, priced.source),
            (Money::from_paise(85_000_00), RateSource::TreatingState)
        );
        let elsewhere = price(&ptca(), &[], RateRule::TreatingState, "24", "08").expect("priced");
        assert_eq!(
            (elsewhere.rate, elsewhere.source),
            (Money::from_paise(90_000_00), RateSource::National)
        );
        let home = price(&ptca(), &[], RateRule::HomeState, "08", "22").expect("priced");
        assert_eq!(
            (home.rate, home.source),
            (Money::from_paise(85_000_00), RateSource::HomeState)
        );
    }

    #[test]
    fn add_ons_add_fixed_amounts_and_shares_of_the_rate() {
        let priced = price(
            &ptca(),
            &["IMP-DES".into(), "NABH".into()],
            RateRule::TreatingState,
            "22",
            "22",
        )
        .expect("priced");
        assert_eq!(priced.add_ons, Money::from_paise(30_000_00 + 8_500_00));
        assert_eq!(priced.amount, Money::from_paise(85_000_00 + 38_500_00));
        assert_eq!(
            price(
                &ptca(),
                &["GOLD".into()],
                RateRule::TreatingState,
                "22",
                "22"
            ),
            Err(PricingError::UnknownAddOn("GOLD".into()))
        );
    }
}
