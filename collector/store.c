/* store.c - writes a batch's messages to the database (store.h).
 *
 * Inside the transaction worker.c opened: decode every message strictly,
 * INSERT OR IGNORE each reading on (container, seq) (a duplicate changes
 * nothing and is counted), let delivery.c record gaps and declared losses,
 * append 'reading' events for the API's stream, build the reading's
 * InfluxDB line, feed the rules (alarms.c), and write the containers rows
 * (max_seq, ack_seq) and the gateway state. */
#include "store.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "ot_log.h"
#include "ot_time.h"
#include "sql.h"

#define REJECT_LOG_PER_S 20

/* ---- statements ------------------------------------------------------- */

enum ot_err store__prepare(struct ingest *in)
{
    static const char reading_sql[] =
        "INSERT OR IGNORE INTO readings(container,seq,gateway,boot,ts,received_at,late,"
        "shipment_id,temp_c,temp2_c,ambient_c,lat,lon,alt_m,speed_kmh,heading_deg,lid_open,"
        "shock_g,battery_pct,gnss_fix,missing,extra) VALUES"
        "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    enum ot_err rc;
    if ((rc = sql__prepare(in->db, &in->st_ins_reading, reading_sql)) ||
        (rc = sql__prepare(in->db, &in->st_ins_event,
                           "INSERT INTO events(ts,kind,shipment_id,container,payload) "
                           "VALUES(?,?,?,?,?)")) ||
        (rc = sql__prepare(in->db, &in->st_upd_container,
                           "INSERT INTO containers(container,last_seen,max_seq,ack_seq) "
                           "VALUES(?1,?2,?3,?4) ON CONFLICT(container) DO UPDATE SET "
                           "last_seen=?2, max_seq=?3, ack_seq=?4")) ||
        (rc = sql__prepare(in->db, &in->st_upd_state,
                           "INSERT INTO containers(container,gateway,online,boot,state_ts,"
                           "last_seen) VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(container) DO "
                           "UPDATE SET gateway=?2, online=?3, boot=?4, state_ts=?5, "
                           "last_seen=?6")))
        return rc;
    return OT_OK;
}

void store__close(struct ingest *in)
{
    sqlite3_stmt **all[] = {&in->st_ins_reading, &in->st_ins_event, &in->st_upd_container,
                            &in->st_upd_state};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
}

/* ---- rejects ---------------------------------------------------------- */

static void reject(struct ingest *in, const char *container, const char *reason, const char *detail)
{
    outbox__count(&in->ob, "rejects", reason, 1);
    int64_t now = ot_time_mono_ms();
    if (now - in->reject_window_start >= 1000) {
        if (in->rejects_suppressed)
            ot_warn("rejected messages not logged suppressed=%lld",
                    (long long)in->rejects_suppressed);
        in->reject_window_start = now;
        in->rejects_in_window = 0;
        in->rejects_suppressed = 0;
    }
    if (in->rejects_in_window++ < REJECT_LOG_PER_S) {
        /* the detail names a key or an index; never echo payload text */
        char safe[96];
        size_t k = 0;
        if (detail && strstr(detail, "unknown key"))
            detail = "unknown key";
        for (const char *p = detail ? detail : ""; *p && k + 1 < sizeof safe; p++) {
            char ch = *p;
            int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || strchr("_.[]:=-+ ^{}|,", ch);
            safe[k++] = ok ? ch : '?';
        }
        safe[k] = '\0';
        ot_warn("message rejected container=%s reason=%s detail=\"%s\"", container, reason, safe);
    } else
        in->rejects_suppressed++;
}

/* ---- readings --------------------------------------------------------- */

static void bind_double_opt(sqlite3_stmt *st, int idx, const struct ot_reading *r,
                            enum ot_channel ch)
{
    if (ot_reading_has(r, ch))
        sqlite3_bind_double(st, idx, r->v[ch]);
    else
        sqlite3_bind_null(st, idx);
}

/* JSON of missing channels and extra channels, or NULL when none */
static char *missing_json(const struct ot_reading *r)
{
    if (!r->missing)
        return NULL;
    cJSON *a = cJSON_CreateArray();
    char *s = NULL;
    if (!a)
        return NULL;
    for (int ch = 0; ch < OT_CH__COUNT; ch++)
        if ((r->missing >> ch) & 1u)
            cJSON_AddItemToArray(a, cJSON_CreateString(ot_channels[ch].name));
    s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return s;
}

static char *extra_json(const struct ot_reading *r)
{
    if (!r->n_extra)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    char *s = NULL;
    if (!o)
        return NULL;
    for (size_t i = 0; i < r->n_extra; i++) {
        if (r->extra[i].is_bool)
            cJSON_AddBoolToObject(o, r->extra[i].name, r->extra[i].value != 0.0);
        else
            cJSON_AddNumberToObject(o, r->extra[i].name, r->extra[i].value);
    }
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static enum ot_err store_reading(struct ingest *in, struct container *c, const struct ot_batch *b,
                                 const struct ot_reading *r, int late, int *stored)
{
    static const int cols[OT_CH__COUNT] = {9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    sqlite3_stmt *st = in->st_ins_reading;
    int64_t ship = alarms__shipment(c->al);
    char *miss = missing_json(r), *extra = extra_json(r);
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, r->seq);
    sqlite3_bind_text(st, 3, b->gateway, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, b->boot);
    sqlite3_bind_int64(st, 5, r->ts);
    sqlite3_bind_int64(st, 6, in->now);
    sqlite3_bind_int(st, 7, late);
    if (ship)
        sqlite3_bind_int64(st, 8, ship);
    for (int ch = 0; ch < OT_CH__COUNT; ch++) {
        if (!ot_reading_has(r, (enum ot_channel)ch))
            sqlite3_bind_null(st, cols[ch]);
        else if (ot_channels[ch].is_bool || ot_channels[ch].is_int)
            sqlite3_bind_int64(st, cols[ch], (sqlite3_int64)r->v[ch]);
        else
            bind_double_opt(st, cols[ch], r, (enum ot_channel)ch);
    }
    if (miss)
        sqlite3_bind_text(st, 21, miss, -1, SQLITE_TRANSIENT);
    if (extra)
        sqlite3_bind_text(st, 22, extra, -1, SQLITE_TRANSIENT);
    enum ot_err rc = sql__step_done(in->db, st);
    *stored = !rc && sqlite3_changes(in->db) > 0;
    cJSON_free(miss);
    cJSON_free(extra);
    return rc;
}

static enum ot_err store_event(struct ingest *in, struct container *c, const struct ot_reading *r,
                               int late)
{
    char *enc = NULL, *payload = NULL;
    char head[160];
    int64_t ship = alarms__shipment(c->al);
    enum ot_err rc = ot_reading_encode(r, &enc);
    if (rc)
        return rc;
    int hn = ship ? snprintf(head, sizeof head,
                             "{\"container\":\"%s\",\"shipment_id\":%lld,"
                             "\"late\":%s,",
                             c->name, (long long)ship, late ? "true" : "false")
                  : snprintf(head, sizeof head,
                             "{\"container\":\"%s\",\"shipment_id\":null,"
                             "\"late\":%s,",
                             c->name, late ? "true" : "false");
    size_t el = strlen(enc);
    payload = malloc((size_t)hn + el);
    if (!payload || el < 2) {
        rc = OT_ERR_NOMEM;
        goto done;
    }
    memcpy(payload, head, (size_t)hn);
    memcpy(payload + hn, enc + 1, el); /* skips "{", copies the NUL */
    sqlite3_bind_int64(in->st_ins_event, 1, in->now);
    sqlite3_bind_text(in->st_ins_event, 2, "reading", -1, SQLITE_STATIC);
    if (ship)
        sqlite3_bind_int64(in->st_ins_event, 3, ship);
    sqlite3_bind_text(in->st_ins_event, 4, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(in->st_ins_event, 5, payload, -1, SQLITE_STATIC);
    rc = sql__step_done(in->db, in->st_ins_event);
done:
    free(payload);
    cJSON_free(enc);
    return rc;
}

static void influx_reading(struct ingest *in, struct container *c, const struct ot_reading *r,
                           int late)
{
    struct lineproto *lp = outbox__lines(&in->ob);
    int64_t ship_id = alarms__shipment(c->al);
    const char *profile = alarms__profile(c->al);
    char ship[24];
    if (!lp)
        return;
    lineproto__begin(lp, "reading");
    lineproto__tag(lp, "container", c->name);
    if (ship_id) {
        snprintf(ship, sizeof ship, "%lld", (long long)ship_id);
        lineproto__tag(lp, "shipment", ship);
        if (profile[0])
            lineproto__tag(lp, "profile", profile);
    }
    lineproto__tag(lp, "late", late ? "true" : "false");
    lineproto__field_int(lp, "seq", r->seq);
    for (int ch = 0; ch < OT_CH__COUNT; ch++) {
        if (!ot_reading_has(r, (enum ot_channel)ch))
            continue;
        if (ot_channels[ch].is_bool)
            lineproto__field_bool(lp, ot_channels[ch].name, r->v[ch] != 0.0);
        else if (ot_channels[ch].is_int)
            lineproto__field_int(lp, ot_channels[ch].name, (int64_t)r->v[ch]);
        else
            lineproto__field_float(lp, ot_channels[ch].name, r->v[ch]);
    }
    for (size_t i = 0; i < r->n_extra; i++) {
        if (r->extra[i].is_bool)
            lineproto__field_bool(lp, r->extra[i].name, r->extra[i].value != 0.0);
        else
            lineproto__field_float(lp, r->extra[i].name, r->extra[i].value);
    }
    enum ot_err rc = lineproto__end(lp, r->ts);
    if (rc == OT_ERR_FULL) {
        /* hand over what is built and retry the line once */
        outbox__spill_lines(&in->ob);
        influx_reading(in, c, r, late);
    } else if (rc) {
        outbox__count(&in->ob, "influx", "unencodable", 1);
    }
}

static enum ot_err handle_readings(struct ingest *in, const char *cname, const char *payload,
                                   size_t len, int64_t received_at)
{
    struct ot_batch b;
    struct ot_decode_error de;
    enum ot_err rc = OT_OK;
    memset(&b, 0, sizeof b);
    memset(&de, 0, sizeof de);
    if (ot_batch_decode(payload ? payload : "", len, &b, &de)) {
        reject(in, cname, de.reason ? de.reason : "schema", de.detail);
        return OT_OK;
    }
    if (strcmp(b.container, cname)) {
        reject(in, cname, "topic_mismatch", "payload container differs from topic");
        ot_batch_free(&b);
        return OT_OK;
    }
    outbox__count(&in->ob, "messages", "readings", 1);
    struct container *c = delivery__container(in, cname);
    if (!c) {
        ot_batch_free(&b);
        return OT_ERR_NOMEM;
    }
    rc = delivery__pending(in, c, &b);
    alarms__refresh_shipment(in->alarms, c->al, 0);
    if (!rc)
        rc = delivery__lost(in, c, &b);
    for (size_t i = 0; i < b.n && !rc; i++) {
        const struct ot_reading *r = &b.readings[i];
        int late = received_at - r->ts > in->cc->late_after_s * 1000;
        int stored = 0;
        rc = store_reading(in, c, &b, r, late, &stored);
        if (rc)
            break;
        if (!stored) {
            outbox__count(&in->ob, "duplicates", "", 1);
            continue;
        }
        outbox__count(&in->ob, "readings", "stored", 1);
        if (late)
            outbox__count(&in->ob, "readings", "late", 1);
        rc = delivery__stored(in, c, r->seq);
        if (!rc)
            rc = store_event(in, c, r, late);
        if (rc)
            break;
        influx_reading(in, c, r, late);
        alarms__on_reading(in->alarms, c->al, r, late, in->now, &in->ob);
    }
    if (!rc) {
        if (c->known)
            delivery__advance_ack(c);
        c->last_seen = in->now;
        c->row_dirty = 1;
    }
    ot_batch_free(&b);
    return rc;
}

/* ---- state topic ------------------------------------------------------ */

static int json_int(const cJSON *o, const char *key, int64_t min, int64_t max, int64_t *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(it) || it->valuedouble != (double)(int64_t)it->valuedouble ||
        it->valuedouble < (double)min || it->valuedouble > (double)max)
        return -1;
    *out = (int64_t)it->valuedouble;
    return 0;
}

static enum ot_err handle_state(struct ingest *in, const char *cname, const char *payload,
                                size_t len)
{
    cJSON *o = NULL;
    enum ot_err rc = OT_OK;
    int64_t v = 0, ts = 0, boot = 0, seq = -1;
    const char *why = NULL;
    if (len == 0)
        return OT_OK; /* a retained state being cleared */
    if (len > 4096) {
        reject(in, cname, "too_large", "state message");
        return OT_OK;
    }
    o = cJSON_ParseWithLength(payload, len);
    if (!o || !cJSON_IsObject(o)) {
        reject(in, cname, "json", "state message");
        goto done;
    }
    const cJSON *jc = cJSON_GetObjectItemCaseSensitive(o, "container");
    const cJSON *jg = cJSON_GetObjectItemCaseSensitive(o, "gateway");
    const cJSON *jon = cJSON_GetObjectItemCaseSensitive(o, "online");
    if (json_int(o, "v", 1, 1, &v))
        why = "v";
    else if (!cJSON_IsString(jc) || !ot_id_valid(jc->valuestring))
        why = "container";
    else if (!cJSON_IsString(jg) || !ot_id_valid(jg->valuestring))
        why = "gateway";
    else if (!cJSON_IsBool(jon))
        why = "online";
    else if (cJSON_GetObjectItemCaseSensitive(o, "ts") &&
             json_int(o, "ts", 0, INT64_C(1) << 50, &ts))
        why = "ts";
    else if (cJSON_GetObjectItemCaseSensitive(o, "boot") &&
             json_int(o, "boot", 0, OT_SEQ_MAX, &boot))
        why = "boot";
    else if (cJSON_GetObjectItemCaseSensitive(o, "seq") && json_int(o, "seq", 0, OT_SEQ_MAX, &seq))
        why = "seq";
    if (why) {
        char detail[64];
        snprintf(detail, sizeof detail, "state key %s", why);
        reject(in, cname, "state", detail);
        goto done;
    }
    if (strcmp(jc->valuestring, cname)) {
        reject(in, cname, "topic_mismatch", "state container differs from topic");
        goto done;
    }
    outbox__count(&in->ob, "messages", "state", 1);
    struct container *c = delivery__container(in, cname);
    if (!c) {
        rc = OT_ERR_NOMEM;
        goto done;
    }
    c->state_seen = 1;
    c->online = cJSON_IsTrue(jon);
    c->last_seen = in->now;
    ot_info("gateway state container=%s gateway=%s online=%d boot=%lld seq=%lld", cname,
            jg->valuestring, c->online, (long long)boot, (long long)seq);
    if (seq >= 0) {
        rc = delivery__state_seq(in, c, seq);
        if (rc)
            goto done;
    }
    sqlite3_stmt *st = in->st_upd_state;
    sqlite3_bind_text(st, 1, cname, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, jg->valuestring, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, c->online);
    sqlite3_bind_int64(st, 4, boot);
    sqlite3_bind_int64(st, 5, ts);
    sqlite3_bind_int64(st, 6, in->now);
    rc = sql__step_done(in->db, st);
done:
    cJSON_Delete(o);
    return rc;
}

/* ---- one message ------------------------------------------------------ */

enum ot_err store__message(struct ingest *in, const struct queue_msg *m)
{
    char cname[OT_ID_MAX + 1];
    const char *leaf = ot_topic_parse(m->topic, in->cc->mqtt.topic_root, cname);
    if (!leaf) {
        reject(in, "?", "topic", "topic does not name a valid container");
        return OT_OK;
    }
    if (!strcmp(leaf, "readings"))
        return handle_readings(in, cname, m->payload, m->len, m->received_at);
    if (!strcmp(leaf, "state"))
        return handle_state(in, cname, m->payload, m->len);
    reject(in, cname, "topic", "unexpected topic leaf");
    return OT_OK;
}

/* ---- containers rows -------------------------------------------------- */

static enum ot_err write_container(struct ingest *in, struct container *c)
{
    sqlite3_stmt *st = in->st_upd_container;
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, c->last_seen);
    if (c->max_seq >= 0)
        sqlite3_bind_int64(st, 3, c->max_seq);
    if (c->known)
        sqlite3_bind_int64(st, 4, c->ack);
    c->row_dirty = 0;
    return sql__step_done(in->db, st);
}

enum ot_err store__containers(struct ingest *in)
{
    enum ot_err rc = OT_OK;
    for (size_t i = 0; i < in->n_ct && !rc; i++)
        if (in->ct[i]->row_dirty)
            rc = write_container(in, in->ct[i]);
    return rc;
}
