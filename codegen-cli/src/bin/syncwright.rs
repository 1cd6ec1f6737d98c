//! The `syncwright` command: a thin shell over `syncwright_codegen::cli`.

use std::process::ExitCode;

fn main() -> ExitCode {
    syncwright_codegen::cli::main()
}
