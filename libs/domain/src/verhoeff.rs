//! The Verhoeff check-digit scheme used by Aadhaar. It catches every single-digit
//! error and every swap of adjacent digits.

const MULTIPLICATION: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];

const PERMUTATION: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

const INVERSE: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

fn checksum(digits: impl DoubleEndedIterator<Item = u8>, offset: usize) -> u8 {
    digits.rev().enumerate().fold(0, |c, (i, d)| {
        MULTIPLICATION[usize::from(c)][usize::from(PERMUTATION[(i + offset) % 8][usize::from(d)])]
    })
}

/// Whether a string of ASCII digits (check digit last) passes the Verhoeff check.
pub(crate) fn is_valid(digits: &[u8]) -> bool {
    checksum(digits.iter().copied(), 0) == 0
}

/// The check digit to append to a string of ASCII-decoded digits.
pub(crate) fn check_digit(digits: &[u8]) -> u8 {
    INVERSE[usize::from(checksum(digits.iter().copied(), 1))]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(s: &str) -> Vec<u8> {
        s.bytes().map(|b| b - b'0').collect()
    }

    #[test]
    fn known_number_passes_and_its_check_digit_is_recomputed() {
        // The textbook example: 236 has check digit 3.
        assert_eq!(check_digit(&digits("236")), 3);
        assert!(is_valid(&digits("2363")));
        assert!(!is_valid(&digits("2364")));
    }
}
