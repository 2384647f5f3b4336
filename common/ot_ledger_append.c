/* ot_ledger_append.c - appending one custody entry (ot_ledger_append): the
 * trail's rules (ot_trail.h), container temperature, linking and digesting
 * the readings of the interval, hash, insert and signed head, inside the
 * caller's transaction (docs/internals/ledger.md, "Database"), through
 * ot_sql on either backend; each statement is prepared once per
 * connection. The only part of the ledger that writes; organtrack-ledger
 * does not link it. */
#include "ot_ledger.h"
#include "ot_ledger_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_log.h"
#include "ot_sql.h"
#include "ot_time.h"
#include "ot_trail.h"

/* -------------------------------------------------------------- append */

static void setwhy(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void setwhy(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    if (!why || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
}

static int empty(const char *s)
{
    if (!s)
        return 1;
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0';
}

static int field_ok(const char *s)
{
    return !s || strlen(s) <= OT_LG_FIELD_MAX;
}

/* Runs a statement that returns no rows; *st is reset. */
static enum ot_err run(struct ot_sql_stmt *st)
{
    int row = 0;
    enum ot_err rc = ot_sql_step(st, &row);
    ot_sql_reset(st);
    return rc;
}

/* The shipment's status, its row locked on PostgreSQL until the caller's
 * transaction ends, so that two API processes appending to one trail take
 * turns (the second then reads the first's entry). FOR NO KEY UPDATE, not
 * FOR UPDATE: the collector's foreign-key checks on readings (FOR KEY
 * SHARE) are not blocked. SQLite: BEGIN IMMEDIATE already serialises. */
static enum ot_err read_status(struct ot_sql *db, int64_t shipment_id, char *out, size_t cap)
{
    struct ot_sql_stmt *st = NULL;
    int row = 0;
    enum ot_err rc = ot_lg__stmt(db,
                                 ot_sql_kind(db) == OT_SQL_POSTGRES
                                     ? "SELECT status FROM shipments WHERE id=?1 FOR NO KEY UPDATE"
                                     : "SELECT status FROM shipments WHERE id=?1",
                                 &st);
    if (rc)
        return rc;
    out[0] = '\0';
    if (!(rc = ot_sql_bind_int64(st, 1, shipment_id)) && !(rc = ot_sql_step(st, &row)) && row) {
        const char *t = ot_sql_text(st, 0);
        snprintf(out, cap, "%s", t ? t : "");
    }
    ot_sql_reset(st);
    return rc;
}

/* The trail so far: where it stands and the hash to link to. */
static enum ot_err read_trail(struct ot_sql *db, int64_t shipment_id, struct ot_trail_seq *state,
                              char prev_hash[65], char *why, size_t whylen)
{
    struct ot_sql_stmt *st = NULL;
    int row = 0;
    enum ot_err rc = ot_lg__stmt(
        db, "SELECT idx, ts, type, hash FROM custody WHERE shipment_id=?1 ORDER BY idx", &st);
    if (rc)
        return rc;
    if ((rc = ot_sql_bind_int64(st, 1, shipment_id)))
        goto out;
    while (!(rc = ot_sql_step(st, &row)) && row) {
        const char *t = ot_sql_text(st, 2);
        const char *h = ot_sql_text(st, 3);
        if (ot_sql_int64(st, 0) != state->count) {
            setwhy(why, whylen, "custody trail of shipment %lld is corrupt (index gap)",
                   (long long)shipment_id);
            rc = OT_ERR_CORRUPT;
            break;
        }
        ot_trail_seq_apply(state, t ? t : "", ot_sql_int64(st, 1));
        snprintf(prev_hash, 65, "%s", h ? h : "");
    }
out:
    ot_sql_reset(st);
    return rc;
}

/* Container temperature at the moment of the event: the latest reading
 * with temp_c at or before it, of this shipment (or of its container since
 * the shipment was created). */
static enum ot_err read_temperature(struct ot_sql *db, const struct ot_lg_shipment *sh, int64_t ts,
                                    struct ot_lg_entry *e)
{
    struct ot_sql_stmt *st = NULL;
    int row = 0;
    enum ot_err rc =
        ot_lg__stmt(db,
                    "SELECT temp_c, ts FROM readings WHERE container=?1 AND ts<=?2"
                    " AND temp_c IS NOT NULL AND clock_future=0 AND (shipment_id=?3 OR ts>=?4)"
                    " ORDER BY ts DESC LIMIT 1",
                    &st);
    if (rc)
        return rc;
    if (!(rc = ot_sql_bind_text(st, 1, sh->container, -1)) &&
        !(rc = ot_sql_bind_int64(st, 2, ts)) && !(rc = ot_sql_bind_int64(st, 3, sh->id)) &&
        !(rc = ot_sql_bind_int64(st, 4, sh->created_at)) && !(rc = ot_sql_step(st, &row)) && row) {
        e->temp_c = ot_lg__col_num(st, 0);
        e->temp_ts = ot_lg__col_num(st, 1);
    }
    ot_sql_reset(st);
    return rc;
}

/* Links the readings of this interval to the entry: every reading of the
 * shipment up to the event time that no earlier entry covers (late
 * replays included), then digests them. */
static enum ot_err link_readings(struct ot_sql *db, struct ot_lg_entry *e,
                                 struct ot_lg_leaves *leaves)
{
    struct ot_sql_stmt *st = NULL;
    enum ot_err rc = ot_lg__stmt(db,
                                 "INSERT INTO custody_readings (shipment_id, idx, container, seq)"
                                 " SELECT CAST(?1 AS BIGINT), CAST(?2 AS BIGINT), r.container,"
                                 " r.seq FROM readings r"
                                 " WHERE r.shipment_id=?1 AND r.ts<=?3 AND NOT EXISTS"
                                 " (SELECT 1 FROM custody_readings c WHERE c.container=r.container"
                                 " AND c.seq=r.seq)",
                                 &st);
    if (rc)
        return rc;
    if ((rc = ot_sql_bind_int64(st, 1, e->shipment)) || (rc = ot_sql_bind_int64(st, 2, e->index)) ||
        (rc = ot_sql_bind_int64(st, 3, e->ts))) {
        ot_sql_reset(st);
        return rc;
    }
    if ((rc = run(st)))
        return rc;
    if ((rc = ot_lg__db_interval_digest(db, e->shipment, e->index, leaves, e->readings_root)))
        return rc;
    e->readings_count = (int64_t)leaves->n;
    if (leaves->n) {
        e->readings_from_seq.set = e->readings_to_seq.set = 1;
        e->readings_from_seq.v = (double)leaves->min_seq;
        e->readings_to_seq.v = (double)leaves->max_seq;
    }
    return OT_OK;
}

static enum ot_err insert_entry(struct ot_sql *db, const struct ot_lg_entry *e)
{
    struct ot_sql_stmt *st = NULL;
    enum ot_err rc = ot_lg__stmt(db,
                                 "INSERT INTO custody (" OT_LG_ENTRY_COLS ") VALUES"
                                 " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                 &st);
    if (rc)
        return rc;
    if ((rc = ot_sql_bind_int64(st, 1, e->shipment)) || (rc = ot_sql_bind_int64(st, 2, e->index)) ||
        (rc = ot_sql_bind_int64(st, 3, e->ts)) || (rc = ot_sql_bind_text(st, 4, e->type, -1)) ||
        (rc = ot_sql_bind_text(st, 5, e->actor_name, -1)) ||
        (rc = ot_sql_bind_text(st, 6, e->actor_role, -1)) ||
        (rc = ot_sql_bind_text(st, 7, e->from, -1)) || (rc = ot_sql_bind_text(st, 8, e->to, -1)) ||
        (rc = ot_sql_bind_text(st, 9, e->witness, -1)) || (rc = ot_lg__bind_num(st, 10, &e->lat)) ||
        (rc = ot_lg__bind_num(st, 11, &e->lon)) ||
        (rc = e->temp_c.set ? ot_sql_bind_double(st, 12, e->temp_c.v) : ot_sql_bind_null(st, 12)) ||
        (rc = ot_lg__bind_num(st, 13, &e->temp_ts)) ||
        (rc = ot_sql_bind_text(st, 14, e->seal, -1)) ||
        (rc = ot_sql_bind_text(st, 15, e->comment, -1)) ||
        (rc = ot_sql_bind_int64(st, 16, e->readings_count)) ||
        (rc = ot_lg__bind_num(st, 17, &e->readings_from_seq)) ||
        (rc = ot_lg__bind_num(st, 18, &e->readings_to_seq)) ||
        (rc = ot_sql_bind_text(st, 19, e->readings_root, -1)) ||
        (rc = ot_sql_bind_text(st, 20, e->prev_hash, -1)) ||
        (rc = ot_sql_bind_text(st, 21, e->hash, -1)) ||
        (rc = ot_sql_bind_text(st, 22, e->meaning, -1))) {
        ot_sql_reset(st);
        return rc;
    }
    return run(st);
}

static enum ot_err insert_head(struct ot_sql *db, const struct ot_ledger_key *key,
                               const struct ot_lg_entry *e)
{
    struct ot_sql_stmt *st = NULL;
    char sig[129], pub[65];
    enum ot_err rc = ot_lg__sign_head(key, e->shipment, e->index, e->hash, sig);
    if (rc)
        return rc;
    ot_ledger_key_public_hex(key, pub);
    if ((rc = ot_lg__stmt(db,
                          "INSERT INTO ledger_heads (shipment_id, idx, hash, signature,"
                          " public_key, signed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                          &st)))
        return rc;
    if ((rc = ot_sql_bind_int64(st, 1, e->shipment)) || (rc = ot_sql_bind_int64(st, 2, e->index)) ||
        (rc = ot_sql_bind_text(st, 3, e->hash, -1)) || (rc = ot_sql_bind_text(st, 4, sig, -1)) ||
        (rc = ot_sql_bind_text(st, 5, pub, -1)) ||
        (rc = ot_sql_bind_int64(st, 6, ot_time_now_ms()))) {
        ot_sql_reset(st);
        return rc;
    }
    return run(st);
}

enum ot_err ot_ledger_append(struct ot_sql *db, const struct ot_ledger_key *key,
                             int64_t shipment_id, const struct ot_custody_input *in,
                             cJSON **entry_out, char *why, size_t whylen)
{
    struct ot_lg_shipment sh = {0};
    struct ot_lg_entry e;
    struct ot_trail_seq state = {0};
    struct ot_trail_entry te;
    struct ot_lg_leaves leaves = {0};
    char status[32] = "";
    enum ot_err rc;

    memset(&e, 0, sizeof e);
    if (entry_out)
        *entry_out = NULL;
    setwhy(why, whylen, "%s", "");
    if (!db || !key || !in) {
        setwhy(why, whylen, "internal: missing argument");
        return OT_ERR_INVAL;
    }
    if (!ot_trail_entry_type_stored(in->type)) {
        setwhy(why, whylen, "type must be one of " OT_TRAIL_ENTRY_TYPES_TEXT);
        return OT_ERR_INVAL;
    }
    if (empty(in->actor_name) || empty(in->actor_role)) {
        setwhy(why, whylen, "the actor (token name and role) is required");
        return OT_ERR_INVAL;
    }
    if (!field_ok(in->actor_name) || !field_ok(in->actor_role) || !field_ok(in->from_party) ||
        !field_ok(in->to_party) || !field_ok(in->witness) || !field_ok(in->seal) ||
        !field_ok(in->comment)) {
        setwhy(why, whylen, "a text field is longer than %d bytes", OT_LG_FIELD_MAX);
        return OT_ERR_INVAL;
    }
    if ((strcmp(in->type, OT_TRAIL_SIGNED) == 0) != (in->meaning != NULL) ||
        (in->meaning && !ot_trail_meaning_known(in->meaning))) {
        setwhy(why, whylen, "a signed entry, and only it, has a meaning: " OT_TRAIL_MEANINGS_TEXT);
        return OT_ERR_INVAL;
    }
    if (in->has_place &&
        (!(in->lat >= -90 && in->lat <= 90) || !(in->lon >= -180 && in->lon <= 180))) {
        setwhy(why, whylen, "place: lat must be -90..90 and lon -180..180");
        return OT_ERR_INVAL;
    }

    /* the caller's transaction is open (ot_ledger.h): the entry commits
     * together with its consequences, or not at all */
    if ((rc = read_status(db, shipment_id, status, sizeof status)))
        goto fail;
    rc = ot_lg_load_shipment(db, shipment_id, &sh);
    if (rc) {
        if (rc == OT_ERR_NOTFOUND)
            setwhy(why, whylen, "no shipment %lld", (long long)shipment_id);
        goto fail;
    }

    /* the trail so far (where it stands, the hash to link to), then the
     * rules of ot_trail: is this entry possible now? */
    if ((rc = ot_lg__genesis_hash(&sh, e.prev_hash)))
        goto fail;
    if ((rc = read_trail(db, shipment_id, &state, e.prev_hash, why, whylen)))
        goto fail;
    te = (struct ot_trail_entry){in->type, in->from_party, in->to_party, in->witness, in->ts};
    if ((rc = ot_trail_entry_check(shipment_id, status, &state, &te, why, whylen)))
        goto fail;

    e.shipment = shipment_id;
    e.index = state.count;
    e.ts = in->ts;
    e.type = ot_lg__dupstr(in->type);
    e.actor_name = ot_lg__dupstr(in->actor_name);
    e.actor_role = ot_lg__dupstr(in->actor_role);
    e.from = empty(in->from_party) ? NULL : ot_lg__dupstr(in->from_party);
    e.to = empty(in->to_party) ? NULL : ot_lg__dupstr(in->to_party);
    e.witness = empty(in->witness) ? NULL : ot_lg__dupstr(in->witness);
    e.seal = empty(in->seal) ? NULL : ot_lg__dupstr(in->seal);
    e.comment = empty(in->comment) ? NULL : ot_lg__dupstr(in->comment);
    e.meaning = in->meaning ? ot_lg__dupstr(in->meaning) : NULL;
    if (!e.type || !e.actor_name || !e.actor_role || (!empty(in->from_party) && !e.from) ||
        (!empty(in->to_party) && !e.to) || (!empty(in->witness) && !e.witness) ||
        (!empty(in->seal) && !e.seal) || (!empty(in->comment) && !e.comment) ||
        (in->meaning && !e.meaning)) {
        rc = OT_ERR_NOMEM;
        goto fail;
    }
    if (in->has_place) {
        e.lat.set = e.lon.set = 1;
        e.lat.v = in->lat;
        e.lon.v = in->lon;
    }

    if ((rc = read_temperature(db, &sh, in->ts, &e)) || (rc = link_readings(db, &e, &leaves)) ||
        (rc = ot_lg__entry_hash(&e, e.hash)) || (rc = insert_entry(db, &e)) ||
        (rc = insert_head(db, key, &e))) {
        if (rc == OT_ERR_CONFLICT)
            setwhy(why, whylen, "another entry was appended to this trail at the same time: retry");
        goto fail;
    }

    /* The change feed row (events, kind 'custody') is written by the API in
     * the same transaction together with the status change, so it is not
     * duplicated here. */
    if (entry_out) {
        *entry_out = ot_lg_entry_json(&e);
        if (!*entry_out)
            ot_warn("ledger: entry stored but its JSON could not be built (out of memory)");
    }
    ot_info("custody entry written shipment=%lld index=%lld type=%s readings=%lld hash=%s",
            (long long)e.shipment, (long long)e.index, e.type, (long long)e.readings_count, e.hash);
    rc = OT_OK;
    goto out;
fail:
    if (why && whylen && !why[0])
        setwhy(why, whylen, "%s", ot_strerror(rc));
    if (rc != OT_ERR_CONFLICT && rc != OT_ERR_INVAL && rc != OT_ERR_NOTFOUND)
        ot_error("ledger: append failed shipment=%lld database=%s error=\"%s\"",
                 (long long)shipment_id, ot_sql_name(db), why && whylen ? why : ot_strerror(rc));
out:
    free(leaves.h);
    ot_lg_entry_clear(&e);
    ot_lg_shipment_clear(&sh);
    return rc;
}
