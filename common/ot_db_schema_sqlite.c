/* ot_db_schema_sqlite.c - numbered schema migrations for SQLite (the
 * PostgreSQL twin is ot_db_schema_pg.c: change both together). Never edit a released
 * migration: add the next one. Times are epoch milliseconds UTC. */
#include "ot_db_schema.h"

#include <stddef.h>

static const char *const m0001_init[] = {
    /* shipments: created by coordinators through the API. Only one shipment
     * per container may be open (created or in_transit) at a time. */
    "CREATE TABLE shipments ("
    " id INTEGER PRIMARY KEY,"
    " container TEXT NOT NULL,"
    " profile TEXT NOT NULL,"
    " donation_code TEXT NOT NULL,"
    " cross_clamp_at INTEGER NOT NULL,"
    " origin_name TEXT, origin_lat REAL, origin_lon REAL,"
    " dest_name TEXT, dest_lat REAL, dest_lon REAL,"
    " mode TEXT NOT NULL CHECK (mode IN ('ground','air','mixed')),"
    " status TEXT NOT NULL DEFAULT 'created' CHECK (status IN"
    "  ('created','in_transit','delivered','closed','discarded')),"
    " created_at INTEGER NOT NULL, created_by TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " delivered_at INTEGER, closed_at INTEGER,"
    " eta INTEGER," /* projected arrival (collector) */
    " eta_computed_at INTEGER"
    ");"
    "CREATE INDEX shipments_container ON shipments(container, status);"
    "CREATE UNIQUE INDEX shipments_one_open ON shipments(container)"
    " WHERE status IN ('created','in_transit');"

    ,
    /* readings: one row per (container, seq); shipment_id is the shipment
     * open for the container when the reading was stored. */
    "CREATE TABLE readings ("
    " container TEXT NOT NULL,"
    " seq INTEGER NOT NULL,"
    " gateway TEXT NOT NULL,"
    " boot INTEGER NOT NULL,"
    " ts INTEGER NOT NULL,"
    " received_at INTEGER NOT NULL,"
    " late INTEGER NOT NULL DEFAULT 0,"
    " shipment_id INTEGER REFERENCES shipments(id),"
    " temp_c REAL, temp2_c REAL, ambient_c REAL, lat REAL, lon REAL, alt_m REAL,"
    " speed_kmh REAL, heading_deg REAL, lid_open INTEGER, shock_g REAL,"
    " battery_pct REAL, gnss_fix INTEGER,"
    " missing TEXT," /* JSON array of channels declared unreadable */
    " extra TEXT,"   /* JSON object of non-canonical channels */
    " PRIMARY KEY (container, seq)"
    ") WITHOUT ROWID;"
    "CREATE INDEX readings_shipment_ts ON readings(shipment_id, ts);"
    "CREATE INDEX readings_container_ts ON readings(container, ts);"

    ,
    /* per-container delivery state: what the collector has stored, what it
     * acknowledged, and the gateway's last state message. */
    "CREATE TABLE containers ("
    " container TEXT PRIMARY KEY,"
    " gateway TEXT,"
    " online INTEGER NOT NULL DEFAULT 0,"
    " boot INTEGER,"
    " state_ts INTEGER,"
    " last_seen INTEGER," /* collector clock when last message arrived */
    " max_seq INTEGER,"   /* highest seq stored */
    " ack_seq INTEGER"    /* every seq <= ack_seq stored or declared lost */
    ");"

    ,
    /* gaps in seq (missing readings) and declared losses */
    "CREATE TABLE seq_gaps ("
    " container TEXT NOT NULL,"
    " from_seq INTEGER NOT NULL,"
    " to_seq INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('gap','lost')),"
    " detected_at INTEGER NOT NULL,"
    " closed_at INTEGER,"
    " PRIMARY KEY (container, from_seq, kind)"
    ");"

    "CREATE TABLE alarms ("
    " id INTEGER PRIMARY KEY,"
    " shipment_id INTEGER REFERENCES shipments(id),"
    " container TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " severity TEXT NOT NULL CHECK (severity IN ('info','warning','critical')),"
    " state TEXT NOT NULL CHECK (state IN ('raised','acknowledged','cleared')),"
    " raised_at INTEGER NOT NULL," /* reading time */
    " cleared_at INTEGER,"
    " acked_at INTEGER, acked_by TEXT, ack_comment TEXT,"
    " escalated_at INTEGER,"
    " late INTEGER NOT NULL DEFAULT 0," /* raised from replayed backlog */
    " message TEXT NOT NULL,"
    " value REAL,"
    " updated_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX alarms_shipment ON alarms(shipment_id, state);"
    "CREATE INDEX alarms_container ON alarms(container, state);"

    ,
    /* API tokens, stored as SHA-256 of the secret */
    "CREATE TABLE tokens ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " role TEXT NOT NULL CHECK (role IN ('crew','coordinator','auditor','admin')),"
    " token_hash TEXT NOT NULL UNIQUE,"
    " containers TEXT NOT NULL DEFAULT '[]',"
    " created_at INTEGER NOT NULL,"
    " revoked_at INTEGER"
    ");"

    ,
    /* custody ledger: one hash chain per shipment (docs/internals/ledger.md) */
    "CREATE TABLE custody ("
    " shipment_id INTEGER NOT NULL REFERENCES shipments(id),"
    " idx INTEGER NOT NULL,"
    " ts INTEGER NOT NULL,"
    " type TEXT NOT NULL,"
    " actor_name TEXT NOT NULL, actor_role TEXT NOT NULL,"
    " from_party TEXT, to_party TEXT, witness TEXT,"
    " lat REAL, lon REAL, temp_c REAL,"
    " seal TEXT, comment TEXT,"
    " readings_count INTEGER NOT NULL DEFAULT 0,"
    " readings_from_seq INTEGER, readings_to_seq INTEGER,"
    " readings_root TEXT,"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL,"
    " PRIMARY KEY (shipment_id, idx)"
    ");"
    "CREATE TRIGGER custody_no_update BEFORE UPDATE ON custody"
    " BEGIN SELECT RAISE(ABORT, 'custody ledger is append-only'); END;"
    "CREATE TRIGGER custody_no_delete BEFORE DELETE ON custody"
    " BEGIN SELECT RAISE(ABORT, 'custody ledger is append-only'); END;"
    "CREATE TABLE ledger_heads ("
    " shipment_id INTEGER NOT NULL REFERENCES shipments(id),"
    " idx INTEGER NOT NULL,"
    " hash TEXT NOT NULL,"
    " signature TEXT NOT NULL," /* Ed25519 over the head, hex */
    " public_key TEXT NOT NULL,"
    " signed_at INTEGER NOT NULL,"
    " PRIMARY KEY (shipment_id, idx)"
    ");"

    ,
    /* every write through the API: who, what, when, why */
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY,"
    " ts INTEGER NOT NULL,"
    " actor_name TEXT NOT NULL, actor_role TEXT NOT NULL,"
    " action TEXT NOT NULL, target TEXT, detail TEXT"
    ");"

    ,
    /* change feed for the API's Server-Sent Events (id = Last-Event-ID) */
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " ts INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('reading','alarm','custody','shipment')),"
    " shipment_id INTEGER, container TEXT,"
    " payload TEXT NOT NULL"
    ");"

    ,
    /* counters the collector keeps for /metrics (rejects by reason, ...) */
    "CREATE TABLE counters ("
    " name TEXT NOT NULL, label TEXT NOT NULL DEFAULT '',"
    " value INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (name, label)"
    ");",
    NULL};

/* 0002 (ledger, issue 6): which readings each custody entry commits to.
 * A reading is covered exactly once (primary key), by the first entry
 * appended after it was stored, so a reading replayed late from a gateway's
 * spool is covered by the next entry instead of silently changing the digest
 * of an interval that is already sealed. temp_ts: time of the reading the
 * entry's temp_c comes from. docs/internals/ledger.md. */
static const char *const m0002_custody_readings[] = {
    "ALTER TABLE custody ADD COLUMN temp_ts INTEGER;",
    "CREATE TABLE custody_readings ("
    " shipment_id INTEGER NOT NULL,"
    " idx INTEGER NOT NULL,"
    " container TEXT NOT NULL,"
    " seq INTEGER NOT NULL,"
    " PRIMARY KEY (container, seq)"
    ") WITHOUT ROWID;"
    "CREATE INDEX custody_readings_entry ON custody_readings(shipment_id, idx, container, seq);"
    "CREATE TRIGGER custody_readings_no_update BEFORE UPDATE ON custody_readings"
    " BEGIN SELECT RAISE(ABORT, 'custody ledger is append-only'); END;"
    "CREATE TRIGGER custody_readings_no_delete BEFORE DELETE ON custody_readings"
    " BEGIN SELECT RAISE(ABORT, 'custody ledger is append-only'); END;",
    NULL};

/* 0003: the events table is a change feed for live views (SSE), not the
 * record (readings, alarms and custody are): the collector trims it by age. */
static const char *const m0003_events_ts[] = {"CREATE INDEX events_ts ON events(ts);", NULL};

/* 0004: change notifications — PostgreSQL only (triggers that NOTIFY
 * organtrack_changes, see ot_db_schema_pg.c). SQLite has no such thing and
 * needs none: an API process checks the database per request, which is an
 * in-process read there. Kept as a no-op so both lists keep one number. */
static const char *const m0004_change_notify[] = {NULL};

/* 0005 (issue 13): electronic signatures. custody.meaning is a `signed`
 * entry's meaning (hash-covered, docs/internals/ledger.md); signers holds
 * each signer's PIN as a slow salted KDF (organtrack-api signer set);
 * signer_failures the wrong PINs, for the lock-out (five in 15 min). */
static const char *const m0005_signatures[] = {
    "ALTER TABLE custody ADD COLUMN meaning TEXT;",
    "CREATE TABLE signers ("
    " name TEXT PRIMARY KEY,"
    " kdf TEXT NOT NULL,"    /* scrypt */
    " params TEXT NOT NULL," /* N=...,r=...,p=... */
    " salt TEXT NOT NULL,"   /* hex */
    " hash TEXT NOT NULL,"   /* hex */
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE signer_failures ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " at INTEGER NOT NULL" /* server clock, epoch ms */
    ");"
    "CREATE INDEX signer_failures_name ON signer_failures(name, at);",
    NULL};

/* 0006 (issue 15): a reading dated more than the
 * collector's clock_skew_max_s after its receive time is stored with clock_future 1 and is never
 * the shipment's latest, never fed to the rules. tokens.expires_at (epoch ms, NULL = never):
 * checked on every request and open stream. */
static const char *const m0006_clock_expiry[] = {
    "ALTER TABLE readings ADD COLUMN clock_future INTEGER NOT NULL DEFAULT 0;",
    "ALTER TABLE tokens ADD COLUMN expires_at INTEGER;", NULL};

/* 0007 (issue 12, clinical journey): planned legs (JSON text, common/ot_legs.h),
 * identity fields of the label, the end of cold ischaemia (reperfusion),
 * and incidents of the internal control (SPEC v1.1 "Incidents"). */
static const char *const m0007_clinical[] = {
    "ALTER TABLE shipments ADD COLUMN legs TEXT;"
    "ALTER TABLE shipments ADD COLUMN laterality TEXT;"
    "ALTER TABLE shipments ADD COLUMN abo TEXT;"
    "ALTER TABLE shipments ADD COLUMN ischemia_ended_at INTEGER;",
    "CREATE TABLE incidents ("
    " id INTEGER PRIMARY KEY,"
    " shipment_id INTEGER REFERENCES shipments(id),"
    " kind TEXT NOT NULL,"
    " source TEXT UNIQUE," /* what opened it automatically ('alarm/12'): once */
    " detail TEXT,"
    " opened_at INTEGER NOT NULL, due_at INTEGER NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','answered','closed')),"
    " owner TEXT, answer TEXT, answered_at INTEGER, closed_at INTEGER,"
    " opened_by TEXT NOT NULL"
    ");"
    "CREATE INDEX incidents_state ON incidents(state, due_at);"
    "CREATE INDEX incidents_shipment ON incidents(shipment_id);",
    NULL};

/* 0008 (issue 12, progress of the journey): what the collector reported
 * (departed, at_airport, airborne, landed, arrival_suggested; leg -1 for the
 * shipment-wide ones), once each: the primary key makes a restarted
 * collector, or a second one, unable to report it twice. Events of kind
 * 'progress' in the change feed: SQLite cannot change a CHECK, so the table
 * is rebuilt, keeping its ids and its AUTOINCREMENT high-water mark (a
 * stream resuming with Last-Event-ID must never see an id again). */
static const char *const m0008_progress[] = {
    "CREATE TABLE progress ("
    " shipment_id INTEGER NOT NULL REFERENCES shipments(id),"
    " kind TEXT NOT NULL,"
    " leg INTEGER NOT NULL,"
    " happened_at INTEGER NOT NULL," /* reading time of the fix that showed it */
    " late INTEGER NOT NULL DEFAULT 0,"
    " place TEXT, lat REAL, lon REAL,"
    " created_at INTEGER NOT NULL,"
    " PRIMARY KEY (shipment_id, kind, leg)"
    ");",
    "CREATE TABLE events_new ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " ts INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('reading','alarm','custody','shipment','progress')),"
    " shipment_id INTEGER, container TEXT,"
    " payload TEXT NOT NULL"
    ");"
    "INSERT INTO events_new(id,ts,kind,shipment_id,container,payload)"
    " SELECT id,ts,kind,shipment_id,container,payload FROM events ORDER BY id;"
    "DELETE FROM sqlite_sequence WHERE name='events_new';"
    "INSERT INTO sqlite_sequence(name,seq) SELECT 'events_new', seq FROM sqlite_sequence"
    " WHERE name='events';"
    "DROP TABLE events;"
    "ALTER TABLE events_new RENAME TO events;"
    "CREATE INDEX events_ts ON events(ts);",
    NULL};

/* 0009 (issue 14, flight mode): the radio state of the gateway's last
 * state message (containers.online plus flight: 1 while it said
 * flight:true) and since when it holds (epoch ms; the API's radio_since);
 * an index for the shipment's last position. */
static const char *const m0009_radio[] = {
    "ALTER TABLE containers ADD COLUMN flight INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE containers ADD COLUMN radio_since INTEGER;",
    /* the API's last_position: the newest reading with a position, found
     * without walking the readings of a shipment that has none */
    "CREATE INDEX readings_shipment_pos ON readings(shipment_id, ts) WHERE lat IS NOT NULL;", NULL};

const char *const *const ot_db_migrations_sqlite[] = {
    m0001_init,       m0002_custody_readings,
    m0003_events_ts,  m0004_change_notify,
    m0005_signatures, m0006_clock_expiry,
    m0007_clinical,   m0008_progress,
    m0009_radio,      NULL,
};
