//! Jaro-Winkler similarity of two names, for "did you mean" hints.
//!
//! Written here rather than taken from `strsim` so that the derive's dependency chain stays
//! small (issue 16); it computes exactly what `strsim::jaro_winkler` does (a test compares
//! them), so hints read the same as before.

/// Jaro similarity of `a` and `b` over their `char`s: 1.0 for equal strings, 0.0 for nothing
/// in common.
fn jaro(a: &[char], b: &[char]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    // Characters match when equal and no further apart than half the longer name, minus one.
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut a_matched = vec![false; a.len()];
    let mut b_matched = vec![false; b.len()];
    let mut matches = 0_usize;
    for (i, a_char) in a.iter().enumerate() {
        let low = i.saturating_sub(window);
        let high = b.len().min(i + window + 1);
        for j in low..high {
            if !b_matched[j] && *a_char == b[j] {
                a_matched[i] = true;
                b_matched[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    // Matched characters of `a` and `b`, in order: each pair out of place is half a
    // transposition.
    let a_in_order = a.iter().zip(&a_matched).filter(|(_, m)| **m);
    let b_in_order = b.iter().zip(&b_matched).filter(|(_, m)| **m);
    let out_of_place = a_in_order
        .zip(b_in_order)
        .filter(|((x, _), (y, _))| x != y)
        .count();
    let transpositions = out_of_place / 2;
    let m = matches as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - transpositions as f64) / m) / 3.0
}

/// Jaro-Winkler similarity of `a` and `b` (0.0 to 1.0): the Jaro similarity, raised for a
/// common prefix of up to four characters when it is above 0.7.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let sim = jaro(&a, &b);
    if sim <= 0.7 {
        return sim;
    }
    let prefix = a.iter().take(4).zip(&b).take_while(|(x, y)| x == y).count();
    sim + 0.1 * prefix as f64 * (1.0 - sim)
}

#[cfg(test)]
mod tests {
    use super::jaro_winkler;

    /// Names a user mistypes in specs, against the keys and types they meant, and pairs with
    /// nothing, little or everything in common.
    const PAIRS: &[(&str, &str)] = &[
        ("", ""),
        ("", "index"),
        ("index", ""),
        ("indx", "index"),
        ("uniq", "unique"),
        ("defualt", "default"),
        ("primary_kye", "primary_key"),
        ("conflcit", "conflict"),
        ("strng", "String"),
        ("martha", "marhta"),
        ("dixon", "dicksonx"),
        ("abc", "xyz"),
        ("table", "table"),
        ("ab", "ba"),
        ("crate", "trace"),
        ("héllo", "hello"),
        ("created_at", "updated_at"),
        ("a", "aaaaaaaaaa"),
    ];

    #[test]
    fn jaro_winkler_scores_exactly_as_strsim_does() {
        for (a, b) in PAIRS {
            let ours = jaro_winkler(a, b);
            let theirs = strsim::jaro_winkler(a, b);
            assert!(
                ours.to_bits() == theirs.to_bits(),
                "jaro_winkler({a:?}, {b:?}): {ours} here, {theirs} in strsim"
            );
        }
    }
}
