/* ot_ledger_append.c - appending one custody entry (ot_ledger_append): the
 * sequence rules, container temperature, linking and digesting the
 * readings of the interval, hash, insert and signed head, in one
 * transaction (docs/internals/ledger.md, "Database"). The only part of the
 * ledger that writes; organtrack-ledger does not link it. */
#include "ot_ledger.h"
#include "ot_ledger_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ot_log.h"
#include "ot_time.h"

/* -------------------------------------------------------------- append */

static const char *const entry_types[] = {"packed", "handoff",   "departed", "arrived", "received",
                                          "opened", "discarded", "note",     NULL};

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

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_num(sqlite3_stmt *st, int i, const struct ot_lg_num *n)
{
    if (!n->set)
        sqlite3_bind_null(st, i);
    else if (n->v == floor(n->v) && fabs(n->v) <= 9007199254740992.0)
        sqlite3_bind_int64(st, i, (sqlite3_int64)n->v);
    else
        sqlite3_bind_double(st, i, n->v);
}

static int is_type(const char *t)
{
    for (int i = 0; entry_types[i]; i++)
        if (strcmp(t, entry_types[i]) == 0)
            return 1;
    return 0;
}

static int empty(const char *s)
{
    if (!s)
        return 1;
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0';
}

/* party names compare case-insensitively, ignoring surrounding blanks */
static int same_party(const char *a, const char *b)
{
    size_t la, lb;
    if (empty(a) || empty(b))
        return 0;
    while (*a == ' ' || *a == '\t')
        a++;
    while (*b == ' ' || *b == '\t')
        b++;
    la = strlen(a);
    lb = strlen(b);
    while (la && (a[la - 1] == ' ' || a[la - 1] == '\t'))
        la--;
    while (lb && (b[lb - 1] == ' ' || b[lb - 1] == '\t'))
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

static int field_ok(const char *s)
{
    return !s || strlen(s) <= OT_LG_FIELD_MAX;
}

/* Where the trail stands, from the types of the entries so far. */
struct lg_state {
    int in_transit; /* departed and not yet arrived/received */
    int departed;   /* departed at least once */
    int received;
    int discarded;
    int64_t last_ts;
    int64_t count;
};

static enum ot_err check_sequence(const struct lg_state *s, const struct ot_custody_input *in,
                                  char *why, size_t whylen)
{
    const char *t = in->type;
    if (s->discarded) {
        setwhy(why, whylen, "the organ was discarded: no custody events after 'discarded'");
        return OT_ERR_CONFLICT;
    }
    if (s->count > 0 && in->ts < s->last_ts) {
        setwhy(why, whylen, "event time is before the previous entry's time");
        return OT_ERR_CONFLICT;
    }
    if (!empty(in->from_party) && !empty(in->to_party) &&
        same_party(in->from_party, in->to_party)) {
        setwhy(why, whylen, "'from' and 'to' are the same party: custody cannot pass to itself");
        return OT_ERR_CONFLICT;
    }
    if (!empty(in->witness) &&
        (same_party(in->witness, in->from_party) || same_party(in->witness, in->to_party))) {
        setwhy(why, whylen,
               "the witness must be a second person, not the party handing over or receiving");
        return OT_ERR_CONFLICT;
    }
    if (strcmp(t, "handoff") == 0) {
        if (empty(in->from_party) || empty(in->to_party)) {
            setwhy(why, whylen, "a hand-off names both 'from' and 'to'");
            return OT_ERR_INVAL;
        }
        if (empty(in->witness)) {
            setwhy(why, whylen,
                   "a hand-off needs a 'witness' who verified label and seal (two-person check)");
            return OT_ERR_INVAL;
        }
    } else if (strcmp(t, "departed") == 0) {
        if (s->in_transit) {
            setwhy(why, whylen, "departed twice without an arrival in between");
            return OT_ERR_CONFLICT;
        }
        if (s->received) {
            setwhy(why, whylen, "the organ was already received at its destination");
            return OT_ERR_CONFLICT;
        }
    } else if (strcmp(t, "arrived") == 0) {
        if (!s->in_transit) {
            setwhy(why, whylen, "arrived before departed");
            return OT_ERR_CONFLICT;
        }
    } else if (strcmp(t, "received") == 0) {
        if (!s->departed) {
            setwhy(why, whylen, "received before departed");
            return OT_ERR_CONFLICT;
        }
        if (s->received) {
            setwhy(why, whylen, "the organ was already received");
            return OT_ERR_CONFLICT;
        }
    }
    return OT_OK;
}

static void state_apply(struct lg_state *s, const char *type, int64_t ts)
{
    if (strcmp(type, "departed") == 0) {
        s->in_transit = 1;
        s->departed = 1;
    } else if (strcmp(type, "arrived") == 0) {
        s->in_transit = 0;
    } else if (strcmp(type, "received") == 0) {
        s->in_transit = 0;
        s->received = 1;
    } else if (strcmp(type, "discarded") == 0) {
        s->discarded = 1;
    }
    s->last_ts = ts;
    s->count++;
}

static enum ot_err step_done(sqlite3 *db, sqlite3_stmt *st)
{
    int s = sqlite3_step(st);
    if (s != SQLITE_DONE) {
        ot_error("ledger: sqlite step failed error=\"%s\"", sqlite3_errmsg(db));
        return OT_ERR_DB;
    }
    return OT_OK;
}

enum ot_err ot_ledger_append(sqlite3 *db, const struct ot_ledger_key *key, int64_t shipment_id,
                             const struct ot_custody_input *in, cJSON **entry_out, char *why,
                             size_t whylen)
{
    sqlite3_stmt *st = NULL;
    struct ot_lg_shipment sh = {0};
    struct ot_lg_entry e;
    struct lg_state state = {0};
    struct ot_lg_leaves leaves = {0};
    char status[32] = "", sig[129], pub[65];
    int s;
    enum ot_err rc;

    memset(&e, 0, sizeof e);
    if (entry_out)
        *entry_out = NULL;
    setwhy(why, whylen, "%s", "");
    if (!db || !key || !in) {
        setwhy(why, whylen, "internal: missing argument");
        return OT_ERR_INVAL;
    }
    if (!in->type || !is_type(in->type)) {
        setwhy(why, whylen,
               "type must be one of packed, handoff, departed, arrived, received, opened, "
               "discarded, note");
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
    if (in->has_place &&
        (!(in->lat >= -90 && in->lat <= 90) || !(in->lon >= -180 && in->lon <= 180))) {
        setwhy(why, whylen, "place: lat must be -90..90 and lon -180..180");
        return OT_ERR_INVAL;
    }

    /* the caller's transaction is open (ot_ledger.h): the entry commits
     * together with its consequences, or not at all */

    rc = ot_lg_load_shipment(db, shipment_id, &sh);
    if (rc) {
        if (rc == OT_ERR_NOTFOUND)
            setwhy(why, whylen, "no shipment %lld", (long long)shipment_id);
        goto fail;
    }
    if ((rc = ot_lg__prepare(db, "SELECT status FROM shipments WHERE id=?", &st)))
        goto fail;
    sqlite3_bind_int64(st, 1, shipment_id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        snprintf(status, sizeof status, "%s", t ? t : "");
    }
    sqlite3_finalize(st);
    st = NULL;
    if (strcmp(status, "closed") == 0 || strcmp(status, "discarded") == 0) {
        setwhy(why, whylen, "shipment %lld is %s: its custody trail is closed",
               (long long)shipment_id, status);
        rc = OT_ERR_CONFLICT;
        goto fail;
    }

    /* the trail so far: state machine and the previous hash */
    snprintf(e.prev_hash, sizeof e.prev_hash, "%s", "");
    if ((rc = ot_lg__genesis_hash(&sh, e.prev_hash)))
        goto fail;
    if ((rc = ot_lg__prepare(
             db, "SELECT idx, ts, type, hash FROM custody WHERE shipment_id=? ORDER BY idx", &st)))
        goto fail;
    sqlite3_bind_int64(st, 1, shipment_id);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 2);
        const char *h = (const char *)sqlite3_column_text(st, 3);
        if (sqlite3_column_int64(st, 0) != state.count) {
            setwhy(why, whylen, "custody trail of shipment %lld is corrupt (index gap)",
                   (long long)shipment_id);
            rc = OT_ERR_CORRUPT;
            goto fail;
        }
        state_apply(&state, t ? t : "", sqlite3_column_int64(st, 1));
        snprintf(e.prev_hash, sizeof e.prev_hash, "%s", h ? h : "");
    }
    sqlite3_finalize(st);
    st = NULL;
    if (s != SQLITE_DONE) {
        rc = OT_ERR_DB;
        goto fail;
    }
    if ((rc = check_sequence(&state, in, why, whylen)))
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
    if (!e.type || !e.actor_name || !e.actor_role || (!empty(in->from_party) && !e.from) ||
        (!empty(in->to_party) && !e.to) || (!empty(in->witness) && !e.witness) ||
        (!empty(in->seal) && !e.seal) || (!empty(in->comment) && !e.comment)) {
        rc = OT_ERR_NOMEM;
        goto fail;
    }
    if (in->has_place) {
        e.lat.set = e.lon.set = 1;
        e.lat.v = in->lat;
        e.lon.v = in->lon;
    }

    /* container temperature at that moment: the latest reading with temp_c
     * at or before the event, of this shipment (or of its container since
     * the shipment was created) */
    if ((rc = ot_lg__prepare(db,
                             "SELECT temp_c, ts FROM readings WHERE container=? AND ts<=?"
                             " AND temp_c IS NOT NULL AND (shipment_id=? OR ts>=?)"
                             " ORDER BY ts DESC LIMIT 1",
                             &st)))
        goto fail;
    sqlite3_bind_text(st, 1, sh.container, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, in->ts);
    sqlite3_bind_int64(st, 3, shipment_id);
    sqlite3_bind_int64(st, 4, sh.created_at);
    if (sqlite3_step(st) == SQLITE_ROW) {
        e.temp_c = ot_lg__col_num(st, 0);
        e.temp_ts = ot_lg__col_num(st, 1);
    }
    sqlite3_finalize(st);
    st = NULL;

    /* readings of this interval: every reading of the shipment up to the
     * event time that no earlier entry covers (late replays included) */
    if ((rc = ot_lg__prepare(db,
                             "INSERT INTO custody_readings (shipment_id, idx, container, seq)"
                             " SELECT ?1, ?2, r.container, r.seq FROM readings r"
                             " WHERE r.shipment_id=?1 AND r.ts<=?3 AND NOT EXISTS"
                             " (SELECT 1 FROM custody_readings c WHERE c.container=r.container"
                             " AND c.seq=r.seq)",
                             &st)))
        goto fail;
    sqlite3_bind_int64(st, 1, shipment_id);
    sqlite3_bind_int64(st, 2, e.index);
    sqlite3_bind_int64(st, 3, in->ts);
    rc = step_done(db, st);
    sqlite3_finalize(st);
    st = NULL;
    if (rc)
        goto fail;
    if ((rc = ot_lg_readings_prepare(db, &st)))
        goto fail;
    rc = ot_lg__db_interval_digest(db, st, shipment_id, e.index, &leaves, e.readings_root);
    sqlite3_finalize(st);
    st = NULL;
    if (rc)
        goto fail;
    e.readings_count = (int64_t)leaves.n;
    if (leaves.n) {
        e.readings_from_seq.set = e.readings_to_seq.set = 1;
        e.readings_from_seq.v = (double)leaves.min_seq;
        e.readings_to_seq.v = (double)leaves.max_seq;
    }

    if ((rc = ot_lg__entry_hash(&e, e.hash)))
        goto fail;

    if ((rc = ot_lg__prepare(db,
                             "INSERT INTO custody (" OT_LG_ENTRY_COLS ") VALUES"
                             " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                             &st)))
        goto fail;
    sqlite3_bind_int64(st, 1, e.shipment);
    sqlite3_bind_int64(st, 2, e.index);
    sqlite3_bind_int64(st, 3, e.ts);
    bind_text(st, 4, e.type);
    bind_text(st, 5, e.actor_name);
    bind_text(st, 6, e.actor_role);
    bind_text(st, 7, e.from);
    bind_text(st, 8, e.to);
    bind_text(st, 9, e.witness);
    bind_num(st, 10, &e.lat);
    bind_num(st, 11, &e.lon);
    if (e.temp_c.set)
        sqlite3_bind_double(st, 12, e.temp_c.v);
    else
        sqlite3_bind_null(st, 12);
    bind_num(st, 13, &e.temp_ts);
    bind_text(st, 14, e.seal);
    bind_text(st, 15, e.comment);
    sqlite3_bind_int64(st, 16, e.readings_count);
    bind_num(st, 17, &e.readings_from_seq);
    bind_num(st, 18, &e.readings_to_seq);
    bind_text(st, 19, e.readings_root);
    bind_text(st, 20, e.prev_hash);
    bind_text(st, 21, e.hash);
    rc = step_done(db, st);
    sqlite3_finalize(st);
    st = NULL;
    if (rc)
        goto fail;

    /* sign the new head */
    if ((rc = ot_lg__sign_head(key, e.shipment, e.index, e.hash, sig)))
        goto fail;
    if ((rc = ot_lg__prepare(
             db,
             "INSERT INTO ledger_heads (shipment_id, idx, hash, signature, public_key,"
             " signed_at) VALUES (?,?,?,?,?,?)",
             &st)))
        goto fail;
    sqlite3_bind_int64(st, 1, e.shipment);
    sqlite3_bind_int64(st, 2, e.index);
    bind_text(st, 3, e.hash);
    bind_text(st, 4, sig);
    ot_ledger_key_public_hex(key, pub);
    bind_text(st, 5, pub);
    sqlite3_bind_int64(st, 6, ot_time_now_ms());
    rc = step_done(db, st);
    sqlite3_finalize(st);
    st = NULL;
    if (rc)
        goto fail;

    /* The change feed row (events, kind 'custody') is written by the API in
     * its follow-up transaction together with the status change, so it is
     * not duplicated here. */
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
    sqlite3_finalize(st);
out:
    free(leaves.h);
    ot_lg_entry_clear(&e);
    ot_lg_shipment_clear(&sh);
    return rc;
}
