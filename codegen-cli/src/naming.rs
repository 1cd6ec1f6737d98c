//! Name conventions: plurals for table names, PascalCase for Rust types, identifier rules.

/// English plural of a snake_case entity name, used as the default table name.
///
/// ```
/// use syncwright_codegen::naming::plural;
/// assert_eq!(plural("task"), "tasks");
/// assert_eq!(plural("category"), "categories");
/// assert_eq!(plural("box"), "boxes");
/// assert_eq!(plural("field_note"), "field_notes");
/// ```
pub fn plural(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let ends = |suffix: &str| lower.ends_with(suffix);
    if ends("s") || ends("x") || ends("z") || ends("ch") || ends("sh") {
        format!("{name}es")
    } else if ends("y") && !ends("ay") && !ends("ey") && !ends("oy") && !ends("uy") {
        format!("{}ies", &name[..name.len() - 1])
    } else {
        format!("{name}s")
    }
}

/// PascalCase of a snake_case or camelCase name: `field_note` and `fieldNote` give `FieldNote`.
pub fn pascal_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper_next = true;
    for c in name.chars() {
        if c == '_' {
            upper_next = true;
        } else if upper_next {
            out.extend(c.to_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// snake_case of a PascalCase Rust type name: `FieldNote` gives `field_note`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `name` can name a table or column: ASCII letters, digits and `_`, not starting with a
/// digit. SQL keywords are fine because every identifier is quoted in emitted SQL.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A snake_case identifier close to `name`, for "for example `...`" help lines: lower-case,
/// runs of other characters become one `_`, and a leading digit gets a `_` in front.
///
/// ```
/// use syncwright_codegen::naming::to_identifier;
/// assert_eq!(to_identifier("work item"), "work_item");
/// assert_eq!(to_identifier("Add Tasks!"), "add_tasks");
/// assert_eq!(to_identifier("2fa"), "_2fa");
/// ```
pub fn to_identifier(name: &str) -> String {
    let lower: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let joined = lower
        .split('_')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    if joined.is_empty() || joined.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{joined}")
    } else {
        joined
    }
}

/// The closest candidate to `input`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (crate::similarity::jaro_winkler(input, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_follows_common_english_rules() {
        assert_eq!(plural("photo"), "photos");
        assert_eq!(plural("inspection"), "inspections");
        assert_eq!(plural("day"), "days");
        assert_eq!(plural("status"), "statuses");
        assert_eq!(plural("batch"), "batches");
    }

    #[test]
    fn case_conversions_round_trip() {
        assert_eq!(pascal_case("field_note"), "FieldNote");
        assert_eq!(pascal_case("fieldNote"), "FieldNote");
        assert_eq!(snake_case("FieldNote"), "field_note");
    }

    #[test]
    fn identifiers_accept_keywords_and_camel_case_but_not_punctuation() {
        assert!(is_identifier("group"));
        assert!(is_identifier("dueOn"));
        assert!(is_identifier("_private"));
        assert!(!is_identifier("due-on"));
        assert!(!is_identifier("2fa"));
        assert!(!is_identifier(""));
        assert!(!is_identifier("naïve"));
    }

    #[test]
    fn suggestions_only_for_close_names() {
        assert_eq!(did_you_mean("indx", ["index", "unique"]), Some("index"));
        assert_eq!(did_you_mean("colour", ["type", "default"]), None);
    }
}
