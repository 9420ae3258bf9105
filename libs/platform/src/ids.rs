//! Unique, readable identifiers such as `BEN-7Q3K9M2XA4TD5R8WNF2B`.
//!
//! Ids must not collide silently at national scale (55 crore people): a
//! random id carries 100 random bits, where the chance that any two of a
//! billion collide is below one in 10^12; a time-ordered id is a UUIDv7
//! (74 random bits within each millisecond).

/// Crockford's base32: no I, L, O or U, so ids survive being read aloud.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `prefix-` and 20 characters: 100 random bits.
pub fn new_id(prefix: &str) -> String {
    let random = uuid::Uuid::new_v4().as_u128();
    let body: String = (0..20)
        .map(|i| char::from(ALPHABET[((random >> (i * 5)) & 31) as usize]))
        .collect();
    format!("{prefix}-{body}")
}

/// A time-ordered id (`prefix-` and 26 characters): later ids sort after earlier ones.
pub fn ordered_id(prefix: &str) -> String {
    let value = uuid::Uuid::now_v7().as_u128();
    let body: String = (0..26)
        .rev()
        .map(|i| char::from(ALPHABET[((value >> (i * 5)) & 31) as usize]))
        .collect();
    format!("{prefix}-{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_their_prefix_and_differ() {
        let a = new_id("BEN");
        assert!(a.starts_with("BEN-") && a.len() == 24, "{a}");
        assert_ne!(a, new_id("BEN"));
    }

    #[test]
    fn many_random_ids_never_collide() {
        let ids: std::collections::HashSet<String> = (0..200_000).map(|_| new_id("B")).collect();
        assert_eq!(ids.len(), 200_000);
    }

    #[test]
    fn ordered_ids_sort_by_creation() {
        let ids: Vec<String> = (0..50).map(|_| ordered_id("LED")).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}
