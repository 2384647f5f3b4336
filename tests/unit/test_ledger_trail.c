/* test_ledger_trail.c - builds a real custody trail in a fresh database
 * for the ledger tests (unit tests and the integration fixture), through
 * ot_sql on either backend (test_ledger_trail.h): one shipment, readings
 * between the entries (with a missing temperature, an extra channel and a
 * reading replayed late from a spool), seven entries from packing to a
 * closing note, and a second shipment with a short trail. */
#include "test_ledger_trail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_db.h"

#define T0 LEDGER_T0

/* PostgreSQL: each trail directory gets its own schema (named by a hash of
 * the path), so that several trails live side by side in one database. */
static const char *pg_base(void)
{
    const char *url = getenv("OT_TEST_DATABASE");
    return url && ot_sql_is_uri(url) ? url : NULL;
}

static void schema_name(const char *dir, char out[32])
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)dir; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    snprintf(out, 32, "lg_%016llx", (unsigned long long)h);
}

void ledger_trail_database(const char *dir, char *out, size_t cap)
{
    const char *base = pg_base();
    char schema[32];
    if (!base) {
        snprintf(out, cap, "%s/organtrack.db", dir);
        return;
    }
    schema_name(dir, schema);
    snprintf(out, cap, "%s%coptions=-csearch_path%%3D%s", base, strchr(base, '?') ? '&' : '?',
             schema);
}

/* (Re)creates the trail's schema through a connection to the base URI. */
static int pg_schema(const char *dir, int create)
{
    struct ot_sql *db = NULL;
    char schema[32], sql[128];
    int rc;
    schema_name(dir, schema);
    if (ot_sql_open(pg_base(), &db))
        return -1;
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE%s%s", schema,
             create ? "; CREATE SCHEMA " : "", create ? schema : "");
    rc = ot_sql_exec(db, sql) ? -1 : 0;
    ot_sql_close(db);
    return rc;
}

int64_t ledger_trail_exec(struct ot_sql *db, const char *sql)
{
    struct ot_sql_stmt *st = NULL;
    int row = 0;
    int64_t n = -1;
    if (ot_sql_prepare_cached(db, sql, &st))
        return -1;
    if (ot_sql_step(st, &row) == OT_OK)
        n = ot_sql_changes(st);
    ot_sql_reset(st);
    return n;
}

int64_t ledger_trail_int(struct ot_sql *db, const char *sql)
{
    struct ot_sql_stmt *st = NULL;
    int row = 0;
    int64_t n = -1;
    if (ot_sql_prepare_cached(db, sql, &st))
        return -1;
    if (ot_sql_step(st, &row) == OT_OK && row)
        n = ot_sql_int64(st, 0);
    ot_sql_reset(st);
    return n;
}

const char *ledger_trail_drop_triggers_sql(struct ot_sql *db)
{
    if (ot_sql_kind(db) == OT_SQL_POSTGRES)
        return "DROP TRIGGER custody_no_update ON custody;"
               "DROP TRIGGER custody_no_delete ON custody;"
               "DROP TRIGGER custody_readings_no_update ON custody_readings;"
               "DROP TRIGGER custody_readings_no_delete ON custody_readings";
    return "DROP TRIGGER custody_no_update;"
           "DROP TRIGGER custody_no_delete;"
           "DROP TRIGGER custody_readings_no_update;"
           "DROP TRIGGER custody_readings_no_delete";
}

int ledger_trail_shipment(struct ot_sql *db, const char *container, const char *code, int64_t *id)
{
    struct ot_sql_stmt *st = NULL;
    int row = 0, rc = -1;
    if (ot_sql_prepare_cached(db,
                              "INSERT INTO shipments (container, profile, donation_code,"
                              " cross_clamp_at, origin_name, origin_lat, origin_lon, dest_name,"
                              " dest_lat, dest_lon, mode, status, created_at, created_by,"
                              " updated_at) VALUES (?1, 'kidney', ?2, ?3, 'Oral', 51.2, 51.37,"
                              " 'Astana', 51.13, 71.43, 'mixed', 'created', ?4, 'coord', ?4)"
                              " RETURNING id",
                              &st))
        return -1;
    if (!ot_sql_bind_text(st, 1, container, -1) && !ot_sql_bind_text(st, 2, code, -1) &&
        !ot_sql_bind_int64(st, 3, T0) && !ot_sql_bind_int64(st, 4, T0 + 60000) &&
        !ot_sql_step(st, &row) && row) {
        *id = ot_sql_int64(st, 0);
        rc = 0;
    }
    ot_sql_reset(st);
    return rc;
}

static int reading_full(struct ot_sql *db, int64_t ship, const char *container, int64_t seq,
                        int64_t ts, double temp, int has_temp, const char *missing,
                        const char *extra)
{
    struct ot_sql_stmt *st = NULL;
    int row = 0, rc = -1;
    if (ot_sql_prepare_cached(
            db,
            "INSERT INTO readings (container, seq, gateway, boot, ts, received_at,"
            " shipment_id, temp_c, temp2_c, ambient_c, lat, lon, lid_open,"
            " gnss_fix, battery_pct, missing, extra) VALUES"
            " (?1, ?2, 'gw-amb-07', 3, ?3, ?4, ?5, ?6, ?7, 21.5, ?8, ?9, 0, 3, 87.25, ?10, ?11)",
            &st))
        return -1;
    if (ot_sql_bind_text(st, 1, container, -1) || ot_sql_bind_int64(st, 2, seq) ||
        ot_sql_bind_int64(st, 3, ts) || ot_sql_bind_int64(st, 4, ts + 500) ||
        ot_sql_bind_int64(st, 5, ship) ||
        (has_temp ? ot_sql_bind_double(st, 6, temp) : ot_sql_bind_null(st, 6)) ||
        (has_temp ? ot_sql_bind_double(st, 7, temp + 0.1) : ot_sql_bind_null(st, 7)) ||
        ot_sql_bind_double(st, 8, 51.2 + (double)seq * 0.001) ||
        ot_sql_bind_double(st, 9, 51.37 + (double)seq * 0.0123456789) ||
        ot_sql_bind_text(st, 10, missing, -1) || ot_sql_bind_text(st, 11, extra, -1))
        goto out;
    if (ot_sql_step(st, &row) == OT_OK)
        rc = 0;
out:
    ot_sql_reset(st);
    return rc;
}

int ledger_trail_reading(struct ot_sql *db, int64_t ship, const char *container, int64_t seq,
                         int64_t ts, double temp, int has_temp)
{
    return reading_full(db, ship, container, seq, ts, temp, has_temp,
                        has_temp ? NULL : "[\"temp_c\"]", NULL);
}

static int append(struct ot_sql *db, struct ot_ledger_key *key, int64_t ship, const char *type,
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
    if (ot_sql_begin(db))
        return -1;
    enum ot_err rc = ot_ledger_append(db, key, ship, &in, NULL, why, sizeof why);
    if (rc == OT_OK)
        rc = ot_sql_commit(db);
    if (rc) {
        ot_sql_rollback(db);
        fprintf(stderr, "append %s failed: %s: %s\n", type, ot_strerror(rc), why);
    }
    return rc ? -1 : 0;
}

int ledger_trail_remove(const char *dir, struct ot_sql *db)
{
    char cmd[600];
    int rc = 0;
    ot_sql_close(db);
    if (pg_base())
        rc = pg_schema(dir, 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = -1;
    return rc;
}

int ledger_trail_build(const char *dir, struct ot_sql **db_out, struct ot_ledger_key **key_out,
                       int64_t *ship_out)
{
    char path[1024];
    struct ot_sql *db = NULL;
    struct ot_ledger_key *key = NULL;
    int64_t s1 = 0, s2 = 0, seq = 1;
    const int64_t M = 60000;
    if (pg_base() && pg_schema(dir, 1))
        return -1;
    ledger_trail_database(dir, path, sizeof path);
    if (ot_db_open(path, &db))
        return -1;
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
    ot_sql_close(db);
    return -1;
}
