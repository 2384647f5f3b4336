/* ot_db.h - the shared SQLite store (collector writes readings and alarms,
 * the API writes shipments, custody and tokens; both read everything).
 * WAL, synchronous=FULL (an `ack` promises durability), busy timeout,
 * foreign keys, and numbered migrations applied in one transaction each
 * (PRAGMA user_version holds the last applied number). */
#ifndef OT_DB_H
#define OT_DB_H

#include <sqlite3.h>

#include "ot_err.h"

/* Opens (creating if needed) and migrates to the latest schema.
 * Logs sqlite3_errmsg on failure. Close with sqlite3_close_v2. */
enum ot_err ot_db_open(const char *path, sqlite3 **out);
/* Opens an existing database read-only (no migration); for the ledger tool. */
enum ot_err ot_db_open_readonly(const char *path, sqlite3 **out);
/* Latest migration number this build knows. */
int ot_db_schema_version(void);
/* Runs one SQL statement without results; logs and maps errors. */
enum ot_err ot_db_exec(sqlite3 *db, const char *sql);

#endif
