//! The daily API on one device, the way a screen of the app uses it: the plain open call (it
//! registers every entity), typed filters, `modify`, a watched list and sync indicator, a raw
//! SQL report, an app-local table written in the store's transaction, and a foreign key error
//! that names the write.

use std::path::Path;
use std::time::{Duration, SystemTime};

use syncwright::{Database, Error, Order};

use crate::MIGRATIONS;
use crate::model::{Note, Notebook};

/// How long a watch waits for the change a write just made (it is there at once).
const WAIT: Duration = Duration::from_secs(1);

/// What the tour saw, for the test.
#[derive(Debug, PartialEq)]
pub struct Tour {
    pub urgent_titles: Vec<String>,
    pub list_updates: usize,
    pub pending_after_writes: u64,
    pub notes_per_notebook: Vec<(String, i64)>,
    pub orphan_error: String,
}

/// Runs the tour on a fresh `journal.db` in `dir`, printing what a UI would show.
pub fn tour(dir: &Path) -> Result<Tour, Box<dyn std::error::Error>> {
    let path = dir.join("journal.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    // No entity list: `MIGRATIONS` carries every entity of the schema.
    let db = Database::open(&path, &MIGRATIONS)?;

    // A screen lists the urgent notes and shows a sync indicator; both re-render on change.
    let urgent = db
        .query::<Note>()
        .filter_by(Note::PRIORITY.ge(2).or(Note::BODY.like("%urgent%")))
        .sort_by(Note::PRIORITY, Order::Desc)
        .watch();
    let mut indicator = db.watch_status();
    assert!(urgent.current()?.is_empty());

    let ridge = db.insert(&Notebook {
        title: "Ridge".into(),
        archived: false,
    })?;
    let valley = db.insert(&Notebook {
        title: "Valley".into(),
        archived: false,
    })?;
    let mut list_updates = 0;
    for (notebook, body, priority) in [
        (ridge.id, "Gate open", 1),
        (ridge.id, "Urgent: fence down", 0),
        (valley.id, "Stream flooded", 3),
    ] {
        db.insert(&note(notebook, body, priority))?;
        if let Some(list) = urgent.next(WAIT) {
            list_updates += 1;
            println!("journal: urgent list re-rendered, {} note(s)", list?.len());
        }
    }
    let pending = indicator.next(WAIT).transpose()?.map_or(0, |s| s.pending);
    println!("journal: sync indicator shows {pending} change(s) waiting");

    // Read, change, write in one transaction.
    let gate = db
        .query::<Note>()
        .filter_by(Note::BODY.eq("Gate open"))
        .first()?
        .expect("the gate note");
    db.modify::<Note>(gate.id, |n| n.priority = 2)?;
    list_updates += usize::from(urgent.next(WAIT).is_some());

    let urgent_titles = urgent.current()?.into_iter().map(|r| r.data.body).collect();
    let archived_or_empty = db
        .query::<Notebook>()
        .filter_by(
            Notebook::ARCHIVED
                .eq(true)
                .or(Notebook::TITLE.is_in(["", "Untitled"])),
        )
        .exists()?;
    assert!(!archived_or_empty);

    // A report the typed API does not cover: a join, through the read escape hatch.
    let notes_per_notebook = db.read_sql(|conn| {
        let mut stmt = conn.prepare(
            "SELECT b.title, count(n.id) FROM notebooks b \
             LEFT JOIN notes n ON n.notebook_id = b.id AND n.is_deleted = 0 \
             WHERE b.is_deleted = 0 GROUP BY b.id ORDER BY b.title",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<Vec<(String, i64)>, _>>()
    })?;
    println!("journal: notes per notebook {notes_per_notebook:?}");

    // An app-local table (never synced) written in the same transaction as a synced write.
    db.transaction(|tx| {
        let sql = tx.sql();
        let local = |e| Error::Sqlite {
            sql: None,
            source: e,
        };
        sql.execute_batch("CREATE TABLE IF NOT EXISTS recent_searches (term TEXT PRIMARY KEY)")
            .map_err(local)?;
        sql.execute(
            "INSERT OR REPLACE INTO recent_searches VALUES ('fence')",
            [],
        )
        .map_err(local)?;
        tx.update(
            ridge.id,
            &Notebook {
                title: "Ridge (searched)".into(),
                archived: false,
            },
        )?;
        Ok(())
    })?;

    // A note in a notebook that does not exist: the error names the row, column and parent.
    let orphan_error = match db.insert(&note(uuid::Uuid::new_v4(), "lost", 0)) {
        Err(e @ Error::ForeignKey(_)) => e.to_string(),
        other => panic!("expected a foreign key error, got {other:?}"),
    };
    println!("journal: {orphan_error}");

    Ok(Tour {
        urgent_titles,
        list_updates,
        pending_after_writes: pending,
        notes_per_notebook,
        orphan_error,
    })
}

fn note(notebook_id: uuid::Uuid, body: &str, priority: i64) -> Note {
    Note {
        notebook_id,
        body: body.into(),
        observed_at: SystemTime::now(),
        tags: Vec::new(),
        location: None,
        priority,
    }
}
