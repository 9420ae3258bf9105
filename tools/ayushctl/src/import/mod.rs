//! `ayushctl import*`: eligibility lists, facilities, packages, schemes and
//! the masters of card drives (areas, card logins, mobilisers) from CSV
//! files, through the services' own RPCs, with progress and a list of
//! rejected rows naming the field.

mod drives;
mod eligibility;
mod facilities;
mod packages;
mod schemes;

pub use drives::{area_rows, areas, mobilisers, operators};
pub use eligibility::eligibility;
pub use facilities::facilities;
pub use packages::packages;
pub use schemes::{scheme_rows, schemes, upsert_scheme};

/// Calls in flight at once: enough to hide the round trip, few enough to be gentle.
const IN_FLIGHT: usize = 8;

/// A row that was not registered, and why.
pub struct Reject {
    pub row: usize,
    pub field: String,
    pub reason: String,
}

/// What an import did.
pub struct Outcome {
    pub rows: usize,
    pub registered: usize,
    pub rejects: Vec<Reject>,
}

impl Outcome {
    /// Prints the counts (`verb` says what happened to good rows) and each
    /// reject; an error when any row was rejected.
    pub fn print(&self, verb: &str) -> anyhow::Result<()> {
        let rejected = self.rows - self.registered;
        println!(
            "{} rows: {} {verb}, {rejected} rejected",
            self.rows, self.registered
        );
        for reject in &self.rejects {
            println!("  row {}: {} {}", reject.row, reject.field, reject.reason);
        }
        anyhow::ensure!(
            rejected == 0,
            "{rejected} of {} rows were not imported",
            self.rows
        );
        Ok(())
    }
}

pub(crate) fn parse_enum<E>(
    prefix: &str,
    text: &str,
    from_name: impl Fn(&str) -> Option<E>,
) -> Option<E> {
    let upper = text.trim().to_ascii_uppercase();
    from_name(&upper).or_else(|| from_name(&format!("{prefix}{upper}")))
}

pub(crate) fn rejects_of(row: usize, status: &tonic::Status) -> Vec<Reject> {
    use tonic_types::StatusExt;
    match status.get_details_bad_request() {
        Some(bad) if !bad.field_violations.is_empty() => bad
            .field_violations
            .into_iter()
            .map(|v| Reject {
                row,
                field: v.field.trim_start_matches("facility.").to_owned(),
                reason: v.description,
            })
            .collect(),
        _ => vec![Reject {
            row,
            field: String::new(),
            reason: status.message().to_owned(),
        }],
    }
}

pub(crate) fn semicolon_list(text: &str) -> Vec<String> {
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
