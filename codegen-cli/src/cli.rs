//! Command-line interface: argument parsing and printing, nothing else.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::parse::project::PROJECT_FILE;
use crate::{Error, Result, WriteOutcome};

/// Offline-first SQLite schemas, migrations and queue wiring from one description.
#[derive(Debug, Parser)]
#[command(name = "syncwright", version, about)]
pub struct Cli {
    /// Path to syncwright.toml (default: ./syncwright.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate the SQL for the project's entity specs.
    Generate,
    /// Manage schema versions.
    #[command(subcommand)]
    Migrate(Migrate),
    /// Fail (for CI) when specs, history and generated files disagree.
    Check,
    /// Adopt an existing app's schema: write specs, `syncwright.toml` and the import snapshot
    /// (then `migrate new adopt` releases the adoption).
    Import(ImportArgs),
    /// Show what sync is doing in a database (read-only).
    Inspect(InspectArgs),
    /// Scaffold a project in a crate: syncwright.toml, an example entity, build.rs.
    Init {
        /// The crate's directory (default: the current directory).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Describe entities as `#[derive(Syncable)]` structs in `src/` instead of TOML specs.
        #[arg(long)]
        rust: bool,
    },
}

/// `syncwright import` arguments: exactly one source.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["from", "room", "drift"])))]
pub struct ImportArgs {
    /// A SQLite database of the app (opened read-only, never modified).
    #[arg(long, value_name = "DB")]
    pub from: Option<PathBuf>,
    /// A Room schema export (`schemas/<db>/<version>.json`).
    #[arg(long, value_name = "JSON")]
    pub room: Option<PathBuf>,
    /// A Drift schema dump (`drift_schema_vN.json`).
    #[arg(long, value_name = "JSON")]
    pub drift: Option<PathBuf>,
    /// The folder the project is written to (default: the current directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub into: PathBuf,
    /// Existing rows are already on the server: they start `synced` instead of `pending`.
    #[arg(long)]
    pub rows_synced: bool,
}

/// `syncwright inspect` arguments.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The database to inspect (opened read-only, never modified).
    pub database: PathBuf,
    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
}

/// `syncwright migrate` subcommands.
#[derive(Debug, Subcommand)]
pub enum Migrate {
    /// Release the version in syncwright.toml: write its snapshot and its migration.
    New {
        /// The migration's name, snake_case (`add_inspections`).
        name: String,
    },
}

/// Parses the process arguments, runs, prints errors, and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let styled = std::io::stderr().is_terminal();
            let text = match &error {
                Error::Invalid(invalid) => invalid.report(styled),
                other => format!("error: {other}"),
            };
            let _ = writeln!(std::io::stderr(), "{text}");
            ExitCode::FAILURE
        }
    }
}

fn config_path(cli: &Cli) -> Result<PathBuf> {
    if let Some(path) = &cli.config {
        return Ok(path.clone());
    }
    let path = Path::new(PROJECT_FILE);
    if path.is_file() {
        Ok(path.to_path_buf())
    } else {
        Err(Error::ConfigNotFound {
            dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        })
    }
}

/// Runs one command.
pub fn run(cli: &Cli) -> Result<()> {
    match cli.command {
        Command::Generate => {
            let report = crate::generate(config_path(cli)?)?;
            print_outcomes(&report.files);
        }
        Command::Migrate(Migrate::New { ref name }) => {
            let report = crate::migrate_new(config_path(cli)?, name)?;
            print_outcomes(&report.files);
        }
        // `init` and `import` write a project; `inspect` reads a database, with a project if any.
        Command::Init { ref dir, rust } => init(dir, rust)?,
        Command::Import(ref args) => run_import(args)?,
        Command::Inspect(ref args) => run_inspect(cli, args)?,
        Command::Check => {
            let report = crate::check(config_path(cli)?)?;
            let _ = writeln!(
                std::io::stdout(),
                "ok: version {} is released and {} generated files are up to date",
                report.version,
                report.files
            );
        }
    }
    Ok(())
}

fn run_import(args: &ImportArgs) -> Result<()> {
    use crate::import::{ExistingRows, ImportSource};
    let source = match (&args.from, &args.room, &args.drift) {
        (Some(db), _, _) => ImportSource::Database(db.clone()),
        (_, Some(room), _) => ImportSource::Room(room.clone()),
        (_, _, Some(drift)) => ImportSource::Drift(drift.clone()),
        (None, None, None) => unreachable!("clap requires one source"),
    };
    let rows = if args.rows_synced {
        ExistingRows::Synced
    } else {
        ExistingRows::Pending
    };
    let report = crate::import::import(&source, &args.into, rows)?;
    print_outcomes(&report.files);
    // The adoption is the project's first release, made like every release.
    let _ = writeln!(
        std::io::stdout(),
        "next: syncwright --config {} migrate new adopt",
        crate::diagnostic::display_path(&args.into.join(PROJECT_FILE))
    );
    Ok(())
}

fn run_inspect(cli: &Cli, args: &InspectArgs) -> Result<()> {
    // Drift against the specs is shown when a project is at hand.
    let config = cli
        .config
        .clone()
        .or_else(|| Some(PathBuf::from(PROJECT_FILE)).filter(|p| p.is_file()));
    let report = crate::inspect::inspect(&args.database, config.as_deref())?;
    let text = if args.json {
        report.to_json()
    } else {
        report.to_text()
    };
    let _ = write!(std::io::stdout(), "{text}");
    Ok(())
}

fn init(dir: &Path, rust: bool) -> Result<()> {
    let style = if rust {
        crate::InitStyle::Rust
    } else {
        crate::InitStyle::Toml
    };
    let report = crate::init(dir, style)?;
    let mut out = std::io::stdout().lock();
    let mut text = String::new();
    for path in &report.created {
        text.push_str(&format!(
            "  created {}\n",
            crate::diagnostic::display_path(path)
        ));
    }
    for path in &report.kept {
        text.push_str(&format!(
            "     kept {} (exists; check it matches the scaffold)\n",
            crate::diagnostic::display_path(path)
        ));
    }
    text.push_str(&format!(
        "\nAdd to Cargo.toml:\n\n{}\nNext:\n{}",
        report.dependencies, report.next_steps
    ));
    // A closed pipe is not an error worth reporting.
    let _ = out.write_all(text.as_bytes());
    Ok(())
}

fn print_outcomes(files: &[(PathBuf, WriteOutcome)]) {
    let mut out = std::io::stdout().lock();
    for (path, outcome) in files {
        let verb = match outcome {
            WriteOutcome::Created => "created",
            WriteOutcome::Updated => "updated",
            WriteOutcome::Unchanged => "unchanged",
        };
        // A closed pipe (`syncwright generate | head`) is not an error worth reporting.
        if writeln!(out, "{verb:>9} {}", crate::diagnostic::display_path(path)).is_err() {
            return;
        }
    }
}
