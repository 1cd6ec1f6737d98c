//! The `syncwright-server` command: serve a project's schema over HTTP, or hash a token for the
//! tokens file. `main.rs` parses the arguments and calls [`run`].

use std::io::{IsTerminal, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::Server;
use crate::catalog::Catalog;
use crate::http::{HttpConfig, router, serve, shutdown_signal};
use crate::storage::{PostgresStorage, SqliteStorage, Storage};
use crate::tokens::{Tokens, hash_token};

/// The syncwright reference sync server.
#[derive(Debug, Parser)]
#[command(name = "syncwright-server", version, about)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Cli {
    /// Another task than serving.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Serving (the default).
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The tasks besides serving.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Reads a token on standard input and prints its SHA-256 hex, the form the tokens file
    /// stores (`echo -n "$TOKEN" | syncwright-server hash-token`).
    HashToken,
}

/// Where the server's schema, state, address and users come from.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The app project's `syncwright.toml`; the schema comes from its frozen history.
    #[arg(long, value_name = "FILE", required = true)]
    pub config: Option<PathBuf>,
    /// Where the server's state lives: a SQLite file (created when missing), or a PostgreSQL
    /// database `postgres://user:password@host:port/database` that several server processes
    /// may share.
    #[arg(long, value_name = "FILE|URL", required = true, value_parser = Database::parse)]
    pub db: Option<Database>,
    /// The address to listen on, e.g. `127.0.0.1:8787` (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// The tokens file mapping users to the SHA-256 of their tokens.
    #[arg(long, value_name = "FILE", required = true)]
    pub tokens: Option<PathBuf>,
    /// The largest request body accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = HttpConfig::default().body_limit)]
    pub body_limit: usize,
    /// Seconds a request may take before it is answered 503.
    #[arg(long, value_name = "SECONDS", default_value_t = HttpConfig::default().request_timeout.as_secs())]
    pub request_timeout: u64,
}

/// The `--db` value: where the server keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An embedded SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl Database {
    /// How to fix a database that cannot be opened.
    fn advice(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "check that its directory exists and is writable",
            Database::Postgres(_) => {
                "check that PostgreSQL runs at that address and the user may connect and create \
                 tables in that database"
            }
        }
    }

    /// A `postgres://` or `postgresql://` URL is PostgreSQL; anything else a SQLite file.
    pub fn parse(value: &str) -> Result<Database, String> {
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            Ok(Database::Postgres(value.to_string()))
        } else {
            Ok(Database::Sqlite(PathBuf::from(value)))
        }
    }

    /// Opens (creating or upgrading the server's tables) the database.
    pub fn open(&self) -> Result<Box<dyn Storage>, crate::storage::StorageError> {
        Ok(match self {
            Database::Sqlite(path) => Box::new(SqliteStorage::open(path)?),
            Database::Postgres(url) => Box::new(PostgresStorage::connect(url)?),
        })
    }
}

impl std::fmt::Display for Database {
    /// The file's path, or the URL without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => f.write_str(&crate::storage::redact_url(url)),
        }
    }
}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The project's schema could not be loaded.
    #[error(transparent)]
    Catalog(#[from] crate::CatalogError),
    /// The tokens file could not be loaded.
    #[error(transparent)]
    Tokens(#[from] crate::tokens::TokensError),
    /// The database could not be opened or created.
    #[error("cannot use the database `{db}`: {cause}; {}", .db.advice())]
    Database {
        /// The `--db` value.
        db: Database,
        /// What failed.
        cause: crate::storage::StorageError,
    },
    /// The address could not be listened on.
    #[error("cannot listen on {addr}: {cause}; pick a free port or another address")]
    Listen {
        /// The `--listen` address.
        addr: SocketAddr,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// Any other I/O failure (reading stdin, the runtime, the server loop).
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Runs the command.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Some(Command::HashToken) => hash_token_from_stdin(),
        None => run_server(cli.serve),
    }
}

fn hash_token_from_stdin() -> Result<(), CliError> {
    let mut token = String::new();
    std::io::stdin().read_to_string(&mut token)?;
    // `echo` adds a newline; a token never ends with one.
    println!("{}", hash_token(token.trim_end_matches(['\n', '\r'])));
    Ok(())
}

fn run_server(args: ServeArgs) -> Result<(), CliError> {
    let (Some(config), Some(db), Some(tokens)) = (args.config, args.db, args.tokens) else {
        unreachable!("clap requires --config, --db and --tokens when serving");
    };
    init_logging();
    let catalog = Catalog::from_project(&config)?;
    let tokens = Tokens::load(&tokens)?;
    let storage = db.open().map_err(|cause| CliError::Database {
        db: db.clone(),
        cause,
    })?;
    let http = HttpConfig {
        body_limit: args.body_limit,
        request_timeout: Duration::from_secs(args.request_timeout),
    };
    let schema = catalog.latest_version().unwrap_or(0);
    let users = tokens.users().count();
    let app = router(Arc::new(Server::new(catalog, storage)), tokens, http);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|cause| CliError::Listen {
                addr: args.listen,
                cause,
            })?;
        let addr = listener.local_addr()?;
        // Before the announcement: a signal sent right after it must find the handlers.
        let shutdown = shutdown_signal()?;
        tracing::info!(
            schema_version = schema,
            users,
            db = %db,
            "listening on http://{addr}"
        );
        serve(listener, app, shutdown).await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Logs to stderr; `RUST_LOG` overrides the default level (info).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
