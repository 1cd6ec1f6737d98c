//! SQL lexical helpers: quoting identifiers and literals.

/// Quotes an identifier so any name, SQL keywords included (`group`, `order`), is safe.
///
/// ```
/// use syncwright_codegen::render::sql::ident;
/// assert_eq!(ident("order"), "\"order\"");
/// assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
/// ```
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A single-quoted SQL string literal.
///
/// ```
/// use syncwright_codegen::render::sql::string_literal;
/// assert_eq!(string_literal("it's"), "'it''s'");
/// ```
pub fn string_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A comma-separated list of quoted identifiers.
pub fn ident_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| ident(n))
        .collect::<Vec<_>>()
        .join(", ")
}
