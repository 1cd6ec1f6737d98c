//! `#[derive(Syncable)]`: a thin shell over the shared parser in `syncwright-codegen`.
