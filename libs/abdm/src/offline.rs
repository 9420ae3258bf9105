//! The stand-in for ABDM's registries: every well-formed id exists, except
//! the ones configured as unknown. Names are made from the id, so a demo
//! reads plainly which record it is.

use std::collections::BTreeSet;

use super::{AbhaRecord, FacilityRecord, Lookup, ProfessionalRecord, Registries, Unavailable};

/// See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct OfflineRegistries {
    unknown: BTreeSet<String>,
}

impl OfflineRegistries {
    /// A stand-in that knows every id but `unknown`.
    pub fn new(unknown: Vec<String>) -> Self {
        Self {
            unknown: unknown.into_iter().map(|id| normalise(&id)).collect(),
        }
    }

    fn knows(&self, id: &str) -> bool {
        !self.unknown.contains(&normalise(id))
    }
}

/// Ids compared without dashes or spaces, case-insensitively.
fn normalise(id: &str) -> String {
    id.chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .collect::<String>()
        .to_ascii_lowercase()
}

#[tonic::async_trait]
impl Registries for OfflineRegistries {
    async fn facility(&self, hfr_id: &str) -> Result<Lookup<FacilityRecord>, Unavailable> {
        Ok(if self.knows(hfr_id) {
            Lookup::Found(FacilityRecord {
                hfr_id: hfr_id.to_owned(),
                name: format!("Facility {hfr_id} (offline registry)"),
                facility_type: "Hospital".into(),
                ownership: String::new(),
                active: true,
            })
        } else {
            Lookup::NotFound
        })
    }

    async fn professional(&self, hpr_id: &str) -> Result<Lookup<ProfessionalRecord>, Unavailable> {
        Ok(if self.knows(hpr_id) {
            Lookup::Found(ProfessionalRecord {
                hpr_id: hpr_id.to_owned(),
                name: format!("Professional {hpr_id} (offline registry)"),
                council: String::new(),
                registration_number: String::new(),
            })
        } else {
            Lookup::NotFound
        })
    }

    async fn abha(&self, number_or_address: &str) -> Result<Lookup<AbhaRecord>, Unavailable> {
        Ok(if self.knows(number_or_address) {
            let digits: String = number_or_address
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            Lookup::Found(AbhaRecord {
                abha_number: digits,
                abha_address: number_or_address
                    .contains('@')
                    .then(|| number_or_address.to_owned()),
                name: String::new(),
                active: true,
            })
        } else {
            Lookup::NotFound
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_the_configured_ids_are_unknown() {
        let registries =
            OfflineRegistries::new(vec!["IN2299999999".into(), "71-0000-0000-0000".into()]);
        assert!(matches!(
            registries.facility("IN2210000001").await,
            Ok(Lookup::Found(_))
        ));
        assert_eq!(
            registries.facility("in2299999999").await.ok(),
            Some(Lookup::NotFound)
        );
        assert_eq!(
            registries.professional("71000000000000").await.ok(),
            Some(Lookup::NotFound)
        );
    }
}
