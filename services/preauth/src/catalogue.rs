//! The package catalogue served from memory (DESIGN §4, Packages): a
//! preauth reads its packages, rates and add-ons without a statement. A
//! package this replica stores replaces the catalogue at once; another
//! replica's change arrives within `service.package_refresh_seconds`.

use std::{collections::HashMap, sync::Arc, time::Duration};

use ayushman_platform::{ApiError, refreshing::Refreshing};
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
#[derive(Clone)]
pub struct PackageBook(Refreshing<Catalogue>);

impl PackageBook {
    /// A book that reads the catalogue again after `refresh`; empty until first read.
    pub fn new(refresh: Duration) -> Self {
        Self(Refreshing::new(refresh))
    }

    /// The catalogue, read again first when stale.
    pub async fn catalogue(&self, db: &impl ConnectionTrait) -> Result<Arc<Catalogue>, ApiError> {
        self.0.get(|| load(db)).await
    }

    /// Reads the catalogue again (after this replica changed a package).
    pub async fn reload(&self, db: &impl ConnectionTrait) -> Result<Arc<Catalogue>, ApiError> {
        Ok(self.0.replace(load(db).await?))
    }
}

async fn load(db: &impl ConnectionTrait) -> Result<Catalogue, ApiError> {
    Ok(Catalogue {
        packages: queries::all_packages(db)
            .await?
            .into_iter()
            .map(|p| (p.0.package_code.clone(), p))
            .collect(),
    })
}
