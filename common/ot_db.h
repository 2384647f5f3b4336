/* ot_db.h - organtrack's database: opening it on either backend (a SQLite
 * path or a postgresql:// URI, through ot_sql.h) and bringing its schema to
 * the version this build knows (ot_db_schema.h).
 *
 * Migrations are numbered and run in one transaction each. SQLite keeps
 * the number in PRAGMA user_version and serialises concurrent first starts
 * with BEGIN IMMEDIATE; PostgreSQL keeps it in table schema_version and
 * serialises them with a transaction advisory lock. A database whose
 * schema is newer than this build is refused with one clear line (an older
 * program started after an upgrade must not write to it). */
#ifndef OT_DB_H
#define OT_DB_H

#include "ot_err.h"
#include "ot_sql.h"

/* Opens (a SQLite file is created if needed) and migrates to the latest
 * schema. Close with ot_sql_close. */
enum ot_err ot_db_open(const char *database, struct ot_sql **out);
/* Opens an existing database read-only, without migrating; refuses a schema
 * newer than this build (the ledger tool). */
enum ot_err ot_db_open_readonly(const char *database, struct ot_sql **out);
/* Latest migration number this build knows (the same on both backends). */
int ot_db_schema_version(void);
/* The schema version of an open database (0: empty). */
enum ot_err ot_db_version(struct ot_sql *db, int *out);

#endif
