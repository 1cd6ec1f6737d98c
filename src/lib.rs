//! Placeholder library so the root package (which only holds cross-crate tests) builds.
