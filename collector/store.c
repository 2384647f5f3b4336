/* store.c - writes a batch's messages to the database (store.h).
 *
 * Inside the transaction worker.c opened, in groups of messages (at most
 * READINGS_GROUP_MAX readings each), three passes: decode every message
 * strictly and find each container's open shipment; insert the group's
 * readings in one go (readings.c, ON CONFLICT (container, seq) DO NOTHING:
 * a duplicate changes nothing and is counted); then, message by message in
 * arrival order, let delivery.c record gaps and declared losses, append
 * 'reading' events (feed.c, written once per group), build the InfluxDB
 * lines, feed the rules (alarms.c), and handle gateway state messages.
 * Finally the containers rows (max_seq, ack_seq). Every write returns its
 * error, which fails the whole transaction. */
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
/* A seq (or the end of a lost range) this far past the container's last
 * seq, or a lost range this long, is a corrupt or hostile message, not a
 * gateway that was offline: at one reading a second it is 115 days. */
#define SEQ_JUMP_MAX INT64_C(10000000)

/* ---- statements ------------------------------------------------------- */

/* One message of a group: decoded in the first pass, handled in the third. */
struct pending {
    const struct queue_msg *m;
    enum { P_SKIP, P_READINGS, P_STATE } kind;
    char cname[OT_ID_MAX + 1];
    struct ot_batch b;
    struct container *c;
    size_t first_row; /* its readings: rows[first_row .. first_row + b.n) */
};

struct store_group {
    struct pending *p;
    size_t cap;
    struct reading_row rows[READINGS_GROUP_MAX];
};

enum ot_err store__prepare(struct ingest *in)
{
    enum ot_err rc;
    in->grp = calloc(1, sizeof *in->grp);
    if (!in->grp || !(in->grp->p = calloc((size_t)in->cc->batch_max, sizeof *in->grp->p)))
        return OT_ERR_NOMEM;
    in->grp->cap = (size_t)in->cc->batch_max;
    if ((rc = readings__open(&in->readings, in->sql)) ||
        (rc = sql__prepare(in->sql, &in->st_upd_container,
                           "INSERT INTO containers(container,last_seen,max_seq,ack_seq) "
                           "VALUES(?1,?2,?3,?4) ON CONFLICT(container) DO UPDATE SET "
                           "last_seen=excluded.last_seen, max_seq=excluded.max_seq, "
                           "ack_seq=excluded.ack_seq")) ||
        (rc = sql__prepare(in->sql, &in->st_upd_state,
                           "INSERT INTO containers(container,gateway,online,boot,state_ts,"
                           "last_seen,flight,radio_since) VALUES(?1,?2,?3,?4,?5,?6,?7,?8) "
                           "ON CONFLICT(container) DO "
                           "UPDATE SET gateway=excluded.gateway, online=excluded.online, "
                           "boot=excluded.boot, state_ts=excluded.state_ts, "
                           "last_seen=excluded.last_seen, flight=excluded.flight, "
                           /* since when: kept while the radio state stays the same */
                           "radio_since=CASE WHEN containers.online=excluded.online AND "
                           "containers.flight=excluded.flight AND containers.radio_since IS NOT "
                           "NULL THEN containers.radio_since ELSE excluded.radio_since END "
                           "RETURNING radio_since")))
        return rc;
    if (ot_sql_kind(in->sql) == OT_SQL_POSTGRES)
        return sql__prepare(in->sql, &in->st_upd_containers,
                            "INSERT INTO containers(container,last_seen,max_seq,ack_seq) "
                            "SELECT * FROM unnest(CAST(?1 AS TEXT[]), CAST(?2 AS BIGINT[]), "
                            "CAST(?3 AS BIGINT[]), CAST(?4 AS BIGINT[])) "
                            "ON CONFLICT(container) DO UPDATE SET "
                            "last_seen=excluded.last_seen, max_seq=excluded.max_seq, "
                            "ack_seq=excluded.ack_seq");
    return OT_OK;
}

void store__close(struct ingest *in)
{
    readings__close(&in->readings);
    if (in->grp)
        free(in->grp->p);
    free(in->grp);
    in->grp = NULL;
    /* the statements are owned by the connection */
    in->st_upd_container = in->st_upd_containers = in->st_upd_state = NULL;
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
    rc = feed__add(&in->feed, "reading", ship, c->name, payload, in->now);
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

/* Why the batch's seqs are out of bounds, or NULL. Unknown containers
 * (no baseline yet) are bounded by the batch's own lowest seq. */
static const char *seq_out_of_bounds(const struct container *c, const struct ot_batch *b)
{
    int64_t lo = INT64_MAX, hi = -1;
    for (size_t i = 0; i < b->n; i++) {
        if (b->readings[i].seq < lo)
            lo = b->readings[i].seq;
        if (b->readings[i].seq > hi)
            hi = b->readings[i].seq;
    }
    for (size_t i = 0; i < b->n_lost; i++) {
        if (b->lost[i].to - b->lost[i].from >= SEQ_JUMP_MAX)
            return "lost range longer than 10000000";
        if (b->lost[i].from < lo)
            lo = b->lost[i].from;
        if (b->lost[i].to > hi)
            hi = b->lost[i].to;
    }
    int64_t base = c->known ? c->hi : lo;
    if (hi >= 0 && hi - base > SEQ_JUMP_MAX)
        return "seq more than 10000000 past the last seq";
    return NULL;
}

/* First pass: decodes a readings message (a refusal is counted and the
 * message skipped), finds its container and open shipment, adds its rows. */
static enum ot_err decode_readings(struct ingest *in, struct pending *p, struct reading_row *rows,
                                   size_t *n_rows)
{
    const struct queue_msg *m = p->m;
    struct ot_decode_error de;
    memset(&de, 0, sizeof de);
    if (ot_batch_decode(m->payload ? m->payload : "", m->len, &p->b, &de)) {
        reject(in, p->cname, de.reason ? de.reason : "schema", de.detail);
        p->kind = P_SKIP;
        return OT_OK;
    }
    if (strcmp(p->b.container, p->cname)) {
        reject(in, p->cname, "topic_mismatch", "payload container differs from topic");
        ot_batch_free(&p->b);
        p->kind = P_SKIP;
        return OT_OK;
    }
    outbox__count(&in->ob, "messages", "readings", 1);
    p->c = delivery__container(in, p->cname);
    if (!p->c)
        return OT_ERR_NOMEM;
    const char *jump = seq_out_of_bounds(p->c, &p->b);
    if (jump) {
        /* refused whole (never acked): absorbing it would move max_seq
         * and the ack's horizon there for good */
        reject(in, p->cname, "seq_jump", jump);
        ot_batch_free(&p->b);
        p->kind = P_SKIP;
        return OT_OK;
    }
    enum ot_err rc = alarms__refresh_shipment(in->alarms, p->c->al, 0);
    if (rc)
        return rc;
    int64_t ship = alarms__shipment(p->c->al);
    p->first_row = *n_rows;
    for (size_t i = 0; i < p->b.n; i++) {
        struct reading_row *w = &rows[(*n_rows)++];
        w->container = p->c->name;
        w->gateway = p->b.gateway;
        w->boot = p->b.boot;
        w->shipment = ship;
        w->r = &p->b.readings[i];
        w->late = m->received_at - w->r->ts > in->cc->late_after_s * 1000;
        w->clock_future = w->r->ts - m->received_at > in->cc->clock_skew_max_s * 1000;
    }
    return OT_OK;
}

/* Third pass: the readings of one message were inserted (rows say which
 * were new): gaps and the ack, events, InfluxDB lines, the rules. */
static enum ot_err handle_readings(struct ingest *in, struct pending *p,
                                   const struct reading_row *rows)
{
    struct container *c = p->c;
    enum ot_err rc = delivery__pending(in, c, &p->b);
    if (!rc)
        rc = delivery__lost(in, c, &p->b);
    for (size_t i = 0; i < p->b.n && !rc; i++) {
        const struct reading_row *w = &rows[i];
        const struct ot_reading *r = w->r;
        if (!w->stored) {
            outbox__count(&in->ob, "duplicates", "", 1);
            continue;
        }
        outbox__count(&in->ob, "readings", "stored", 1);
        if (w->clock_future) {
            /* the gateway's clock is ahead: keep the reading (flagged) and
             * ack it, but it is no shipment's latest, no event, no point in
             * InfluxDB, and it drives no rule or timer */
            outbox__count(&in->ob, "readings", "clock_future", 1);
            rc = readings__flag_future(&in->readings, c->name, r->seq);
            if (!rc)
                rc = delivery__stored(in, c, r->seq);
            if (!rc)
                rc = alarms__clock(in->alarms, c->al, 1, r->ts - p->m->received_at, in->now,
                                   &in->ob);
            continue;
        }
        rc = alarms__clock(in->alarms, c->al, 0, 0, in->now, &in->ob);
        if (rc)
            break;
        if (w->late)
            outbox__count(&in->ob, "readings", "late", 1);
        rc = delivery__stored(in, c, r->seq);
        if (!rc)
            rc = store_event(in, c, r, w->late);
        if (rc)
            break;
        influx_reading(in, c, r, w->late);
        rc = alarms__on_reading(in->alarms, c->al, r, w->late, in->now, &in->ob);
    }
    if (!rc) {
        if (c->known)
            delivery__advance_ack(c);
        c->last_seen = in->now;
        c->row_dirty = 1;
    }
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

/* The radio state changed (online, flight, offline): a 'shipment' event
 * for the open shipment, so screens and cached lists follow (the API's
 * shipment carries radio and radio_since). */
static enum ot_err radio_event(struct ingest *in, struct container *c, int flight, int64_t since)
{
    char payload[256], iso[32];
    enum ot_err rc = alarms__refresh_shipment(in->alarms, c->al, 0);
    int64_t ship = alarms__shipment(c->al);
    if (rc || !ship)
        return rc;
    snprintf(payload, sizeof payload,
             "{\"container\":\"%s\",\"shipment_id\":%lld,\"change\":\"radio\","
             "\"radio\":\"%s\",\"radio_since\":\"%s\"}",
             c->name, (long long)ship,
             c->online ? "online"
             : flight  ? "flight"
                       : "offline",
             ot_time_format_iso(since, iso, sizeof iso));
    return feed__add(&in->feed, "shipment", ship, c->name, payload, in->now);
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
    const cJSON *jfl = cJSON_GetObjectItemCaseSensitive(o, "flight");
    if (json_int(o, "v", 1, 1, &v))
        why = "v";
    else if (!cJSON_IsString(jc) || !ot_id_valid(jc->valuestring))
        why = "container";
    else if (!cJSON_IsString(jg) || !ot_id_valid(jg->valuestring))
        why = "gateway";
    else if (!cJSON_IsBool(jon))
        why = "online";
    else if (jfl && !cJSON_IsBool(jfl))
        why = "flight";
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
    int changed = !c->state_seen || c->online != cJSON_IsTrue(jon);
    c->state_seen = 1;
    c->online = cJSON_IsTrue(jon);
    /* flight mode: radio off by design (an online gateway is not flying) */
    int flight = !c->online && cJSON_IsTrue(jfl);
    changed = changed || c->flight != flight;
    c->flight = flight;
    c->last_seen = in->now;
    ot_info("gateway state container=%s gateway=%s online=%d flight=%d boot=%lld seq=%lld", cname,
            jg->valuestring, c->online, flight, (long long)boot, (long long)seq);
    if (seq >= 0) {
        rc = delivery__state_seq(in, c, seq);
        if (rc)
            goto done;
    }
    struct ot_sql_stmt *st = in->st_upd_state;
    sql__bind_txt(st, 1, cname, &rc);
    sql__bind_txt(st, 2, jg->valuestring, &rc);
    sql__bind_i64(st, 3, c->online, &rc);
    sql__bind_i64(st, 4, boot, &rc);
    sql__bind_i64(st, 5, ts, &rc);
    sql__bind_i64(st, 6, in->now, &rc);
    sql__bind_i64(st, 7, flight, &rc);
    /* entering flight: the gateway's own time of it (a retained state seen
     * later still dates the flight), unless that lies ahead of our clock;
     * otherwise (a last will carries its connect time) when we learn it */
    sql__bind_i64(st, 8, flight && ts > 0 && ts <= in->now ? ts : in->now, &rc);
    int row = 0;
    int64_t since = in->now;
    if (!rc)
        rc = ot_sql_step(st, &row);
    if (!rc && row && !ot_sql_is_null(st, 0))
        since = ot_sql_int64(st, 0);
    ot_sql_reset(st);
    if (!rc)
        alarms__radio(c->al, flight, since, in->now);
    if (!rc && changed)
        rc = radio_event(in, c, flight, since);
done:
    cJSON_Delete(o);
    return rc;
}

/* ---- a batch of messages ---------------------------------------------- */

/* Handles the group's messages in order, once their readings are in. */
static enum ot_err process_group(struct ingest *in, struct pending *p, size_t np, size_t n_rows)
{
    struct store_group *g = in->grp;
    enum ot_err rc = readings__insert(&in->readings, g->rows, n_rows, in->now);
    for (size_t i = 0; i < np && !rc; i++) {
        if (p[i].kind == P_READINGS)
            rc = handle_readings(in, &p[i], &g->rows[p[i].first_row]);
        else if (p[i].kind == P_STATE)
            rc = handle_state(in, p[i].cname, p[i].m->payload, p[i].m->len);
    }
    /* the events of the group in one go */
    if (!rc)
        rc = feed__flush(&in->feed, in->now);
    return rc;
}

static void free_pending(struct pending *p, size_t np)
{
    for (size_t i = 0; i < np; i++)
        if (p[i].kind == P_READINGS)
            ot_batch_free(&p[i].b);
}

enum ot_err store__messages(struct ingest *in, const struct queue_msg *msgs, size_t n)
{
    struct store_group *g = in->grp;
    struct pending *p = g->p;
    size_t np = 0, n_rows = 0;
    enum ot_err rc = OT_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        struct pending *q = &p[np];
        memset(q, 0, sizeof *q);
        q->m = &msgs[i];
        const char *leaf = ot_topic_parse(q->m->topic, in->cc->mqtt.topic_root, q->cname);
        if (!leaf) {
            reject(in, "?", "topic", "topic does not name a valid container");
            continue;
        }
        if (!strcmp(leaf, "state")) {
            q->kind = P_STATE;
            np++;
            continue;
        }
        if (strcmp(leaf, "readings")) {
            reject(in, q->cname, "topic", "unexpected topic leaf");
            continue;
        }
        q->kind = P_READINGS;
        rc = decode_readings(in, q, g->rows, &n_rows);
        if (rc) {
            if (q->kind == P_READINGS)
                ot_batch_free(&q->b);
            break;
        }
        np++;
        /* a group holds at most READINGS_GROUP_MAX rows: the next message
         * must fit */
        if (np == g->cap || n_rows + OT_BATCH_MAX_READINGS > READINGS_GROUP_MAX) {
            rc = process_group(in, p, np, n_rows);
            free_pending(p, np);
            np = n_rows = 0;
        }
    }
    if (!rc && np)
        rc = process_group(in, p, np, n_rows);
    free_pending(p, np);
    return rc;
}

/* ---- containers rows -------------------------------------------------- */

static enum ot_err write_container(struct ingest *in, struct container *c)
{
    struct ot_sql_stmt *st = in->st_upd_container;
    enum ot_err rc = OT_OK;
    sql__bind_txt(st, 1, c->name, &rc);
    sql__bind_i64(st, 2, c->last_seen, &rc);
    if (c->max_seq >= 0)
        sql__bind_i64(st, 3, c->max_seq, &rc);
    else
        sql__bind_null(st, 3, &rc);
    if (c->known)
        sql__bind_i64(st, 4, c->ack, &rc);
    else
        sql__bind_null(st, 4, &rc);
    rc = sql__run(st, rc, NULL);
    if (!rc)
        c->row_dirty = 0;
    return rc;
}

/* PostgreSQL: every dirty row in one statement */
static enum ot_err write_containers_many(struct ingest *in)
{
    struct sql_arr *a = in->scratch;
    enum ot_err rc = OT_OK;
    size_t n = 0;
    for (int k = 0; k < 4; k++)
        sql_arr__start(&a[k]);
    for (size_t i = 0; i < in->n_ct; i++) {
        struct container *c = in->ct[i];
        if (!c->row_dirty)
            continue;
        n++;
        sql_arr__txt(&a[0], c->name);
        sql_arr__i64(&a[1], c->last_seen);
        if (c->max_seq >= 0)
            sql_arr__i64(&a[2], c->max_seq);
        else
            sql_arr__null(&a[2]);
        if (c->known)
            sql_arr__i64(&a[3], c->ack);
        else
            sql_arr__null(&a[3]);
    }
    if (!n)
        return OT_OK;
    for (int k = 0; k < 4; k++) {
        const char *lit = sql_arr__end(&a[k]);
        if (!lit && !rc)
            rc = OT_ERR_NOMEM;
        sql__bind_txt(in->st_upd_containers, k + 1, lit, &rc);
    }
    rc = sql__run(in->st_upd_containers, rc, NULL);
    for (size_t i = 0; i < in->n_ct && !rc; i++)
        in->ct[i]->row_dirty = 0;
    return rc;
}

enum ot_err store__containers(struct ingest *in)
{
    enum ot_err rc = OT_OK;
    if (in->st_upd_containers)
        return write_containers_many(in);
    for (size_t i = 0; i < in->n_ct && !rc; i++)
        if (in->ct[i]->row_dirty)
            rc = write_container(in, in->ct[i]);
    return rc;
}
