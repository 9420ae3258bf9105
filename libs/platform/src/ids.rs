//! Short, unique, readable identifiers such as `BEN-7Q3K9M2XA4TD`.

/// Crockford's base32: no I, L, O or U, so ids survive being read aloud.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `prefix-` and 12 characters (60 random bits from a v7 UUID's random part).
pub fn new_id(prefix: &str) -> String {
    let random = u64::from_be_bytes(
        uuid::Uuid::now_v7().as_bytes()[8..16]
            .try_into()
            .expect("8 bytes"),
    );
    let body: String = (0..12)
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
        assert!(a.starts_with("BEN-") && a.len() == 16, "{a}");
        assert_ne!(a, new_id("BEN"));
    }

    #[test]
    fn ordered_ids_sort_by_creation() {
        let ids: Vec<String> = (0..50).map(|_| ordered_id("LED")).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}
