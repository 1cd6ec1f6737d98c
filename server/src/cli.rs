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
use crate::storage::SqliteStorage;
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
    /// The SQLite file holding the server's state (created when missing).
    #[arg(long, value_name = "FILE", required = true)]
    pub db: Option<PathBuf>,
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
    #[error(
        "cannot use the database `{}`: {cause}; check that its directory exists and is writable",
        .path.display()
    )]
    Database {
        /// The `--db` path.
        path: PathBuf,
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
    let storage = SqliteStorage::open(&db).map_err(|cause| CliError::Database {
        path: db.clone(),
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
            db = %db.display(),
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
