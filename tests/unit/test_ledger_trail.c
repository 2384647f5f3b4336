/* test_ledger_trail.c - builds a real custody trail in a fresh SQLite
 * database for the ledger tests (unit tests and the integration fixture):
 * one shipment, readings between the entries (with a missing temperature,
 * an extra channel and a reading replayed late from a spool), eight entries
 * from packing to reception, and a second shipment with a short trail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_db.h"
#include "ot_ledger.h"

#define T0 1795407000000LL /* 2026-11-23T04:10:00Z, cross-clamp */

int ledger_trail_build(const char *dir, sqlite3 **db_out, struct ot_ledger_key **key_out,
                       int64_t *ship_out);
int ledger_trail_reading(sqlite3 *db, int64_t ship, const char *container, int64_t seq, int64_t ts,
                         double temp, int has_temp);
int ledger_trail_shipment(sqlite3 *db, const char *container, const char *code, int64_t *id);

int ledger_trail_shipment(sqlite3 *db, const char *container, const char *code, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO shipments (container, profile, donation_code,"
                           " cross_clamp_at, origin_name, origin_lat, origin_lon, dest_name,"
                           " dest_lat, dest_lon, mode, status, created_at, created_by,"
                           " updated_at) VALUES (?, 'kidney', ?, ?, 'Oral', 51.2, 51.37,"
                           " 'Astana', 51.13, 71.43, 'mixed', 'created', ?, 'coord', ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, container, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, T0);
    sqlite3_bind_int64(st, 4, T0 + 60000);
    sqlite3_bind_int64(st, 5, T0 + 60000);
    if (sqlite3_step(st) == SQLITE_DONE) {
        *id = sqlite3_last_insert_rowid(db);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static int reading_full(sqlite3 *db, int64_t ship, const char *container, int64_t seq, int64_t ts,
                        double temp, int has_temp, const char *missing, const char *extra)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO readings (container, seq, gateway, boot, ts, received_at,"
                           " shipment_id, temp_c, temp2_c, ambient_c, lat, lon, lid_open,"
                           " gnss_fix, battery_pct, missing, extra) VALUES"
                           " (?, ?, 'gw-amb-07', 3, ?, ?, ?, ?, ?, 21.5, ?, ?, 0, 3, 87.25, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, container, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int64(st, 3, ts);
    sqlite3_bind_int64(st, 4, ts + 500);
    sqlite3_bind_int64(st, 5, ship);
    if (has_temp) {
        sqlite3_bind_double(st, 6, temp);
        sqlite3_bind_double(st, 7, temp + 0.1);
    } else {
        sqlite3_bind_null(st, 6);
        sqlite3_bind_null(st, 7);
    }
    sqlite3_bind_double(st, 8, 51.2 + (double)seq * 0.001);
    sqlite3_bind_double(st, 9, 51.37 + (double)seq * 0.0123456789);
    if (missing)
        sqlite3_bind_text(st, 10, missing, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 10);
    if (extra)
        sqlite3_bind_text(st, 11, extra, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 11);
    if (sqlite3_step(st) == SQLITE_DONE)
        rc = 0;
    sqlite3_finalize(st);
    return rc;
}

int ledger_trail_reading(sqlite3 *db, int64_t ship, const char *container, int64_t seq, int64_t ts,
                         double temp, int has_temp)
{
    return reading_full(db, ship, container, seq, ts, temp, has_temp,
                        has_temp ? NULL : "[\"temp_c\"]", NULL);
}

static int append(sqlite3 *db, struct ot_ledger_key *key, int64_t ship, const char *type,
                  const char *from, const char *to, const char *witness, int64_t ts,
                  const char *seal, const char *comment)
{
    char why[256];
    struct ot_custody_input in = {
        .type = type,
        .actor_name = "Aigerim (crew)",
        .actor_role = "crew",
        .from_party = from,
        .to_party = to,
        .witness = witness,
        .has_place = from != NULL,
        .lat = 51.2 + (double)(ts - T0) / 1e9,
        .lon = 51.37,
        .seal = seal,
        .comment = comment,
        .ts = ts,
    };
    /* the caller owns the transaction (ot_ledger.h) */
    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    enum ot_err rc = ot_ledger_append(db, key, ship, &in, NULL, why, sizeof why);
    sqlite3_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    if (rc)
        fprintf(stderr, "append %s failed: %s: %s\n", type, ot_strerror(rc), why);
    return rc ? -1 : 0;
}

int ledger_trail_build(const char *dir, sqlite3 **db_out, struct ot_ledger_key **key_out,
                       int64_t *ship_out)
{
    char path[512];
    sqlite3 *db = NULL;
    struct ot_ledger_key *key = NULL;
    int64_t s1 = 0, s2 = 0, seq = 1;
    const int64_t M = 60000;
    snprintf(path, sizeof path, "%s/organtrack.db", dir);
    /* TRANSITIONAL (issue 10): migrated through ot_db, then used as a raw
     * sqlite3 handle until the ledger runs on ot_sql */
    struct ot_sql *sql = NULL;
    if (ot_db_open(path, &sql))
        return -1;
    ot_sql_close(sql);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close_v2(db);
        return -1;
    }
    snprintf(path, sizeof path, "%s/ledger.key", dir);
    if (ot_ledger_key_load(path, &key))
        goto fail;
    if (ledger_trail_shipment(db, "KZ-WKO-0001", "=A9999 26 123456 Q", &s1) ||
        ledger_trail_shipment(db, "KZ-WKO-0002", "KIDNEY-2026-0042", &s2))
        goto fail;
    /* readings before packing */
    for (int i = 0; i < 4; i++, seq++)
        if (ledger_trail_reading(db, s1, "KZ-WKO-0001", seq, T0 + 2 * M + i * 10000, 4.0 + i * 0.25,
                                 1))
            goto fail;
    if (reading_full(db, s1, "KZ-WKO-0001", seq++, T0 + 2 * M + 45000, 0, 0, "[\"temp_c\"]",
                     "{\"co2_ppm\":415.5}") ||
        append(db, key, s1, "packed", NULL, NULL, NULL, T0 + 3 * M, "SEAL-0001", "kidney, left") ||
        ledger_trail_reading(db, s1, "KZ-WKO-0001", seq++, T0 + 4 * M, 4.6, 1) ||
        ledger_trail_reading(db, s1, "KZ-WKO-0001", seq++, T0 + 5 * M, 4.7, 1) ||
        append(db, key, s1, "handoff", "Procurement team, Oral", "Ambulance crew 07",
               "Dr. Serik N.", T0 + 6 * M, "SEAL-0001", "label and seal checked") ||
        append(db, key, s1, "departed", NULL, NULL, NULL, T0 + 7 * M, NULL, NULL))
        goto fail;
    for (int i = 0; i < 6; i++, seq++)
        if (ledger_trail_reading(db, s1, "KZ-WKO-0001", seq, T0 + 8 * M + i * 30000, 4.8 + i * 0.1,
                                 1))
            goto fail;
    /* a gap in flight: seq+0..+1 arrive later (replayed from the spool) */
    seq += 2;
    if (ledger_trail_reading(db, s1, "KZ-WKO-0001", seq++, T0 + 20 * M, 5.3, 1) ||
        append(db, key, s1, "arrived", NULL, NULL, NULL, T0 + 21 * M, NULL, "Astana airport") ||
        ledger_trail_reading(db, s1, "KZ-WKO-0001", seq - 3, T0 + 15 * M, 5.1, 1) ||
        ledger_trail_reading(db, s1, "KZ-WKO-0001", seq - 2, T0 + 16 * M, 5.2, 1) ||
        append(db, key, s1, "handoff", "Ambulance crew 07", "Transplant centre, Astana",
               "Nurse Dana K.", T0 + 22 * M, "SEAL-0001", "quote \" and, comma\nnew line") ||
        ledger_trail_reading(db, s1, "KZ-WKO-0001", seq++, T0 + 23 * M, 5.0, 1) ||
        append(db, key, s1, "received", NULL, NULL, NULL, T0 + 24 * M, NULL, NULL) ||
        append(db, key, s1, "note", NULL, NULL, NULL, T0 + 25 * M, NULL,
               "=cmd|' /C calc'!A0 (formula guard)"))
        goto fail;
    /* second shipment: short trail */
    if (ledger_trail_reading(db, s2, "KZ-WKO-0002", 1, T0 + 2 * M, 3.9, 1) ||
        append(db, key, s2, "packed", NULL, NULL, NULL, T0 + 3 * M, "SEAL-0002", NULL) ||
        ledger_trail_reading(db, s2, "KZ-WKO-0002", 2, T0 + 4 * M, 4.1, 1) ||
        append(db, key, s2, "departed", NULL, NULL, NULL, T0 + 5 * M, NULL, NULL))
        goto fail;
    *db_out = db;
    *key_out = key;
    *ship_out = s1;
    return 0;
fail:
    ot_ledger_key_free(key);
    sqlite3_close_v2(db);
    return -1;
}
