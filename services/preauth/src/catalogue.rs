//! The package catalogue served from memory (DESIGN §4, Packages): a
//! preauth reads its packages, rates and add-ons without a statement. A
//! package this replica stores replaces the catalogue at once; another
//! replica's change arrives within `service.package_refresh_seconds`.

use std::collections::HashMap;

use ayushman_platform::{
    ApiError,
    refreshing::{Book, Reference},
};
use sea_orm::ConnectionTrait;

use crate::store::queries::{self, FullPackage};

/// Every package with its state rates and add-ons, by code.
#[derive(Debug, Default)]
pub struct Catalogue {
    packages: HashMap<String, FullPackage>,
}

impl Catalogue {
    /// A package that may be asked for now.
    pub fn offered(&self, code: &str) -> Option<&FullPackage> {
        self.packages.get(code).filter(|p| p.0.active)
    }
}

/// The catalogue a replica serves from.
pub type PackageBook = Book<Catalogue>;

impl Reference for Catalogue {
    async fn load(db: &impl ConnectionTrait) -> Result<Self, ApiError> {
        Ok(Self {
            packages: queries::all_packages(db)
                .await?
                .into_iter()
                .map(|p| (p.0.package_code.clone(), p))
                .collect(),
        })
    }
}
