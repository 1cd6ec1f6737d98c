//! syncwright runtime.
