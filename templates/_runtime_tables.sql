-- Runtime: the persistent mutation queue. Every local write appends one entry in the same
-- transaction as the row; the sync engine pushes entries in id order.
CREATE TABLE IF NOT EXISTS "_sync_queue" (
    "id"              INTEGER PRIMARY KEY AUTOINCREMENT,
    "idempotency_key" TEXT NOT NULL UNIQUE,  -- client-generated; the server dedupes retries by it
    "entity_type"     TEXT NOT NULL,
    "action"          TEXT NOT NULL CHECK ("action" IN ('create', 'update', 'delete')),
    "entity_id"       TEXT NOT NULL,
    "payload"         TEXT NOT NULL CHECK (json_valid("payload")),
    "schema_version"  INTEGER NOT NULL,  -- the schema version the write was made under
    "retry_count"     INTEGER NOT NULL DEFAULT 0,
    "max_retries"     INTEGER NOT NULL DEFAULT 10,
    "next_attempt_at" INTEGER NOT NULL,  -- epoch ms; backoff moves it forward
    "created_at"      INTEGER NOT NULL,
    "status"          TEXT NOT NULL DEFAULT 'pending' CHECK ("status" IN ('pending', 'in_flight', 'failed', 'completed')),
    "error"           TEXT
);
CREATE INDEX IF NOT EXISTS "idx__sync_queue_status_next_attempt_at" ON "_sync_queue" ("status", "next_attempt_at");
CREATE INDEX IF NOT EXISTS "idx__sync_queue_entity_type_status" ON "_sync_queue" ("entity_type", "status");

-- Runtime: one pull cursor per entity type, so every pull is incremental.
CREATE TABLE IF NOT EXISTS "_sync_cursors" (
    "entity_type" TEXT PRIMARY KEY NOT NULL,
    "cursor"      TEXT,
    "updated_at"  INTEGER NOT NULL
);

-- Runtime: what each sync did, for support and the UI.
CREATE TABLE IF NOT EXISTS "_sync_log" (
    "id"          INTEGER PRIMARY KEY AUTOINCREMENT,
    "at"          INTEGER NOT NULL,
    "direction"   TEXT NOT NULL CHECK ("direction" IN ('pull', 'push')),
    "entity_type" TEXT,
    "pulled"      INTEGER NOT NULL DEFAULT 0,
    "pushed"      INTEGER NOT NULL DEFAULT 0,
    "conflicts"   INTEGER NOT NULL DEFAULT 0,
    "resolution"  TEXT,
    "error"       TEXT
);
