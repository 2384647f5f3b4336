/* test_ledger_trail.h - a real custody trail for the ledger tests
 * (test_ledger, test_ledger_fixture), built through ot_sql on the backend
 * the run is for: OT_TEST_DATABASE (a postgresql:// URI; each trail gets a
 * schema of its own there) or, without it, a SQLite file in the trail's
 * directory. */
#ifndef TEST_LEDGER_TRAIL_H
#define TEST_LEDGER_TRAIL_H

#include <stddef.h>
#include <stdint.h>

#include "ot_ledger.h"
#include "ot_sql.h"

#define LEDGER_T0 1795407000000LL /* 2026-11-23T04:10:00Z, cross-clamp */

/* The database a trail built for dir lives in (a SQLite path, or the URI
 * with search_path set to the trail's schema). */
void ledger_trail_database(const char *dir, char *out, size_t cap);
/* Fresh database for dir (PostgreSQL: its schema dropped and created
 * again), key dir/ledger.key (kept if present), two shipments and their
 * trails. *ship_out: the shipment with the long trail. 0 on success. */
int ledger_trail_build(const char *dir, struct ot_sql **db_out, struct ot_ledger_key **key_out,
                       int64_t *ship_out);
/* Closes db and removes what ledger_trail_build made for dir (the schema
 * on PostgreSQL, the directory on both). 0 on success. */
int ledger_trail_remove(const char *dir, struct ot_sql *db);

int ledger_trail_reading(struct ot_sql *db, int64_t ship, const char *container, int64_t seq,
                         int64_t ts, double temp, int has_temp);
int ledger_trail_shipment(struct ot_sql *db, const char *container, const char *code, int64_t *id);
/* Runs one statement without parameters; returns the rows it changed, or
 * -1 if it failed. */
int64_t ledger_trail_exec(struct ot_sql *db, const char *sql);
/* The first column of the first row of a query without parameters (-1 on
 * failure or no row). */
int64_t ledger_trail_int(struct ot_sql *db, const char *sql);
/* SQL that drops the append-only triggers of custody and
 * custody_readings on db's backend, for tampering around them. */
const char *ledger_trail_drop_triggers_sql(struct ot_sql *db);

#endif
