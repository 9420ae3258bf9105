//! Shares as the reports print them: basis points, rounded half up.

/// `part / whole` in basis points (5393 = 53.93 %), rounded half up; 0 when
/// there is no whole.
pub fn share_basis_points(part: i64, whole: i64) -> i32 {
    if whole <= 0 {
        return 0;
    }
    let bps = (i128::from(part) * 20_000 + i128::from(whole)) / (i128::from(whole) * 2);
    i32::try_from(bps).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_basis_points_rounded_half_up() {
        assert_eq!(share_basis_points(32_379, 60_045), 5392);
        assert_eq!(share_basis_points(13_729, 33_895), 4050);
        assert_eq!(share_basis_points(8_88_228, 28_95_434), 3068);
        assert_eq!(share_basis_points(1, 3), 3333);
        assert_eq!(share_basis_points(2, 3), 6667);
        assert_eq!(share_basis_points(5, 0), 0);
    }
}
