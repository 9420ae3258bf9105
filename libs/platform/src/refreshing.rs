//! Reference data served from memory (the scheme master, the package
//! catalogue): read from the database once, replaced at once by this
//! replica's own changes, and read again when older than `refresh`, which
//! bounds how long another replica's change takes to arrive. A request then
//! costs no statement for it.

use std::{
    future::Future,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use sea_orm::ConnectionTrait;

use crate::ApiError;

/// Reference data a service reads whole from its database.
pub trait Reference: Default + Send + Sync + Sized + 'static {
    /// Reads all of it.
    fn load(db: &impl ConnectionTrait) -> impl Future<Output = Result<Self, ApiError>> + Send;
}

/// Reference data served from memory: read again when older than the
/// book's refresh, replaced at once by [`Book::reload`] after this replica's
/// own change.
pub struct Book<T>(Refreshing<T>);

impl<T> Clone for Book<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: Reference> Book<T> {
    /// A book that reads its data again after `refresh`; empty until first read.
    pub fn new(refresh: Duration) -> Self {
        Self(Refreshing::new(refresh))
    }

    /// The data, read again first when stale.
    pub async fn catalogue(&self, db: &impl ConnectionTrait) -> Result<Arc<T>, ApiError> {
        self.0.get(|| T::load(db)).await
    }

    /// Reads the data again (after this replica changed it).
    pub async fn reload(&self, db: &impl ConnectionTrait) -> Result<Arc<T>, ApiError> {
        Ok(self.0.replace(T::load(db).await?))
    }
}

/// A value kept in memory and refreshed from its source.
pub struct Refreshing<T> {
    current: Arc<RwLock<(Arc<T>, Instant)>>,
    refresh: Duration,
}

impl<T> Clone for Refreshing<T> {
    fn clone(&self) -> Self {
        Self {
            current: self.current.clone(),
            refresh: self.refresh,
        }
    }
}

impl<T: Default> Refreshing<T> {
    /// Empty and stale: the first [`Refreshing::get`] loads it.
    pub fn new(refresh: Duration) -> Self {
        let stale = Instant::now()
            .checked_sub(refresh + Duration::from_secs(1))
            .unwrap_or_else(Instant::now);
        Self {
            current: Arc::new(RwLock::new((Arc::new(T::default()), stale))),
            refresh,
        }
    }
}

impl<T> Refreshing<T> {
    /// The value, loaded with `load` first when it is older than `refresh`.
    pub async fn get<F, Fut>(&self, load: F) -> Result<Arc<T>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        {
            let (value, loaded) = &*self.current.read().expect("refreshing lock");
            if loaded.elapsed() < self.refresh {
                return Ok(value.clone());
            }
        }
        Ok(self.replace(load().await?))
    }

    /// Replaces the value (after this replica changed its source).
    pub fn replace(&self, value: T) -> Arc<T> {
        let value = Arc::new(value);
        *self.current.write().expect("refreshing lock") = (value.clone(), Instant::now());
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fresh_value_is_served_without_loading_and_a_stale_one_is_loaded_again() {
        let cache: Refreshing<u32> = Refreshing::new(Duration::from_secs(60));
        assert_eq!(*cache.get(|| async { Ok(1) }).await.expect("load"), 1);
        assert_eq!(*cache.get(|| async { Ok(2) }).await.expect("cached"), 1);
        cache.replace(3);
        assert_eq!(*cache.get(|| async { Ok(4) }).await.expect("replaced"), 3);

        let stale: Refreshing<u32> = Refreshing::new(Duration::ZERO);
        assert_eq!(*stale.get(|| async { Ok(1) }).await.expect("load"), 1);
        assert_eq!(*stale.get(|| async { Ok(2) }).await.expect("again"), 2);
    }
}
