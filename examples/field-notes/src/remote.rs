//! The device mode: this process is one device (its database file), syncing through a running
//! `syncwright-server` over HTTP. Run it once per device, with the device's own database:
//!
//! ```sh
//! cargo run -p field-notes -- --server http://127.0.0.1:8787 --token "$TOKEN" \
//!     --note "Fence post 14 leaning" /tmp/phone.db
//! cargo run -p field-notes -- --server http://127.0.0.1:8787 --token "$TOKEN" /tmp/tablet.db
//! ```
//!
//! Each run syncs, writes its note (kept locally whatever the network says, and queued until
//! it syncs), syncs it, and lists every note the device holds. A refused sync (a wrong token)
//! exits 1 saying why; a network failure only says the changes wait for the next run.

use std::error::Error;
use std::path::PathBuf;
use std::time::SystemTime;

use syncwright::Order;
use syncwright::sync::http::HttpTransport;

use crate::model::{Note, Notebook};

/// How to call the device mode.
pub const USAGE: &str = "usage: field-notes --server URL --token TOKEN [--note TEXT] DEVICE.db";

/// The device mode's arguments.
#[derive(Debug, PartialEq)]
pub struct DeviceArgs {
    /// The server's base URL, e.g. `http://127.0.0.1:8787`.
    pub server: String,
    /// The user's bearer token (its hash is in the server's tokens file).
    pub token: String,
    /// A note to write before syncing.
    pub note: Option<String>,
    /// The device's database file, created when missing.
    pub db: PathBuf,
}

impl DeviceArgs {
    /// Parses `--server URL --token TOKEN [--note TEXT] DB` (any order), saying what is
    /// missing or unknown.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<DeviceArgs, String> {
        let (mut server, mut token, mut note, mut db) = (None, None, None, None);
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let slot = match arg.as_str() {
                "--server" => &mut server,
                "--token" => &mut token,
                "--note" => &mut note,
                flag if flag.starts_with("--") => return Err(format!("unknown option `{flag}`")),
                _ if db.is_none() => {
                    db = Some(PathBuf::from(arg));
                    continue;
                }
                extra => {
                    return Err(format!(
                        "one database per device; `{extra}` is one too many"
                    ));
                }
            };
            *slot = Some(args.next().ok_or(format!("`{arg}` needs a value"))?);
        }
        Ok(DeviceArgs {
            server: server.ok_or("`--server URL` is missing")?,
            token: token.ok_or("`--token TOKEN` is missing")?,
            note,
            db: db.ok_or("the device's database file is missing")?,
        })
    }
}

/// Syncs, writes the note (if any) and syncs it, then prints the device's notes, oldest first.
pub fn run(args: &DeviceArgs) -> Result<(), Box<dyn Error>> {
    let db = crate::open_database(&args.db)?;
    let name = args
        .db
        .file_stem()
        .map_or("device".into(), |s| s.to_string_lossy());
    let transport = HttpTransport::new(&args.server, &args.token);
    // A sync first, so a new device writes into the notebook the others already share.
    let mut synced = db.sync(&transport);
    if let Some(body) = &args.note {
        // Offline first: the note is written whatever the sync said, and queued until it syncs.
        write_note(&db, body)?;
        if synced.is_ok() {
            synced = db.sync(&transport);
        }
    }
    match synced {
        Ok(report) => println!(
            "{name}: synced with {}: pulled {}, pushed {}",
            args.server, report.pulled, report.pushed
        ),
        Err(syncwright::Error::SyncStopped { source }) if source.is_retryable() => {
            println!("{name}: not synced ({source}); the changes are kept and sync on the next run")
        }
        Err(e) => return Err(e.into()),
    }
    let notes = db
        .query::<Note>()
        .order_by("observed_at", Order::Asc)
        .fetch()?;
    println!("{name}: {} note(s)", notes.len());
    for note in notes {
        println!("note: {}", note.data.body);
    }
    Ok(())
}

/// Writes a note into the device's first notebook, or into a new one on a device that has none.
fn write_note(db: &syncwright::Database, body: &str) -> syncwright::Result<()> {
    let notebook_id = match db.query::<Notebook>().fetch()?.first() {
        Some(notebook) => notebook.id,
        None => {
            db.insert(&Notebook {
                title: "Field notes".into(),
                archived: false,
            })?
            .id
        }
    };
    db.insert(&Note {
        notebook_id,
        body: body.to_owned(),
        observed_at: SystemTime::now(),
        tags: Vec::new(),
        location: None,
        priority: 0,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<DeviceArgs, String> {
        DeviceArgs::parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn the_device_arguments_parse_in_any_order() {
        let args = parse(&[
            "/tmp/p.db",
            "--token",
            "t",
            "--note",
            "hi",
            "--server",
            "http://h",
        ]);
        assert_eq!(
            args.unwrap(),
            DeviceArgs {
                server: "http://h".into(),
                token: "t".into(),
                note: Some("hi".into()),
                db: "/tmp/p.db".into(),
            }
        );
    }

    #[test]
    fn missing_or_unknown_device_arguments_say_which() {
        assert_eq!(
            parse(&["--server", "http://h", "p.db"]).unwrap_err(),
            "`--token TOKEN` is missing"
        );
        assert_eq!(
            parse(&["--server"]).unwrap_err(),
            "`--server` needs a value"
        );
        assert_eq!(
            parse(&["--port", "1"]).unwrap_err(),
            "unknown option `--port`"
        );
        assert_eq!(
            parse(&["--server", "s", "--token", "t"]).unwrap_err(),
            "the device's database file is missing"
        );
    }
}
