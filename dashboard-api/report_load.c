/* report_load.c - fills the shipment report's model (report_model.h) from
 * the database: the shipment row, its readings, sequence gaps, alarms,
 * custody trail, signatures and signed head (docs/internals/report.md has
 * the field -> column table). The caller runs it inside one read
 * transaction (report_route.c), so the report is one consistent picture of
 * the trail. Prepared statements only; every string is copied into the
 * loader's own storage and freed by api__report_load_free. */
#include "api.h"
#include "report_load.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ot_legs.h"
#include "ot_log.h"
#include "ot_preservation.h"
#include "ot_sql.h"

static const char *keep(struct api_report_data *rd, const struct ot_sql_stmt *st, int col, int *oom)
{
    const char *s = ot_sql_text(st, col);
    if (!s)
        return NULL;
    if (rd->n_strs == rd->cap_strs) {
        size_t cap = rd->cap_strs ? rd->cap_strs * 2 : 64;
        char **v = realloc(rd->strs, cap * sizeof *v);
        if (!v) {
            *oom = 1;
            return NULL;
        }
        rd->strs = v;
        rd->cap_strs = cap;
    }
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (!p) {
        *oom = 1;
        return NULL;
    }
    memcpy(p, s, n);
    rd->strs[rd->n_strs++] = p;
    return p;
}

static double col_real(const struct ot_sql_stmt *st, int col)
{
    return ot_sql_is_null(st, col) ? NAN : ot_sql_double(st, col);
}

static int64_t col_time(const struct ot_sql_stmt *st, int col)
{
    return ot_sql_is_null(st, col) ? 0 : ot_sql_int64(st, col);
}

/* Grows *v (element size sz) to hold n + 1 elements, at most max. */
static enum ot_err grow(void **v, size_t *cap, size_t n, size_t sz, size_t max)
{
    if (n < *cap)
        return OT_OK;
    if (n >= max)
        return OT_ERR_TOOBIG;
    size_t c = *cap ? *cap * 2 : 16;
    if (c > max)
        c = max;
    void *p = realloc(*v, c * sz);
    if (!p)
        return OT_ERR_NOMEM;
    *v = p;
    *cap = c;
    return OT_OK;
}

static enum ot_err prep(struct ot_sql *db, const char *sql, int64_t id, struct ot_sql_stmt **st)
{
    enum ot_err rc = ot_sql_prepare_cached(db, sql, st);
    if (rc)
        return rc;
    ot_sql_reset(*st);
    return ot_sql_bind_int64(*st, 1, id);
}

static enum ot_err load_shipment(struct ot_sql *db, const struct api_ctx *ctx,
                                 struct api_report_data *rd, int64_t id, int64_t *delivered_at,
                                 int64_t *ended_at)
{
    struct report_model *m = &rd->m;
    struct ot_sql_stmt *st;
    int row = 0, oom = 0;
    enum ot_err rc = prep(db,
                          "SELECT donation_code, profile, container, mode, status, origin_name,"
                          " origin_lat, origin_lon, dest_name, dest_lat, dest_lon, cross_clamp_at,"
                          " delivered_at, laterality, abo, ischemia_ended_at"
                          " FROM shipments WHERE id = ?1",
                          id, &st);
    if (rc || (rc = ot_sql_step(st, &row)))
        return rc;
    if (!row)
        return OT_ERR_NOTFOUND;
    m->shipment_id = id;
    m->donation_code = keep(rd, st, 0, &oom);
    m->profile = keep(rd, st, 1, &oom);
    m->container = keep(rd, st, 2, &oom);
    m->mode = keep(rd, st, 3, &oom);
    m->status = keep(rd, st, 4, &oom);
    m->origin = (struct report_place){keep(rd, st, 5, &oom), col_real(st, 6), col_real(st, 7)};
    m->destination =
        (struct report_place){keep(rd, st, 8, &oom), col_real(st, 9), col_real(st, 10)};
    m->cross_clamp_at = ot_sql_int64(st, 11);
    *delivered_at = col_time(st, 12);
    m->laterality = keep(rd, st, 13, &oom);
    m->abo = keep(rd, st, 14, &oom);
    *ended_at = col_time(st, 15); /* reperfusion, possibly given as earlier than its entry */
    ot_sql_reset(st);
    if (oom)
        return OT_ERR_NOMEM;
    /* the profile's band and limit; an unknown profile leaves them unset */
    const struct ot_preservation *p =
        ctx->pres && m->profile ? ot_preservation_find(ctx->pres, m->profile) : NULL;
    m->band_min_c = p ? p->temp_min_c : NAN;
    m->band_max_c = p ? p->temp_max_c : NAN;
    m->limit_min = p ? p->max_cold_ischemia_min : 0;
    return OT_OK;
}

/* The planned legs, from the JSON text the API validated when it stored
 * them (common/ot_legs.h). Text that no longer parses (a hand edit of the
 * database) leaves the route without legs and says so in the log: the
 * report still prints the trail, which is what it is for. */
static enum ot_err load_legs(struct ot_sql *db, struct api_report_data *rd, int64_t id)
{
    struct ot_sql_stmt *st;
    int row = 0;
    enum ot_err rc = prep(db, "SELECT legs FROM shipments WHERE id = ?1", id, &st);
    if (rc || (rc = ot_sql_step(st, &row)) || !row || ot_sql_is_null(st, 0)) {
        ot_sql_reset(st);
        return rc;
    }
    struct ot_leg *plan = calloc(OT_LEGS_MAX, sizeof *plan);
    struct report_leg *legs = calloc(OT_LEGS_MAX, sizeof *legs);
    rd->plan = plan;
    rd->legs = legs;
    if (!plan || !legs) {
        ot_sql_reset(st);
        return OT_ERR_NOMEM;
    }
    size_t n = 0;
    char msg[160];
    if (ot_legs_parse_text(ot_sql_text(st, 0), plan, &n, msg, sizeof msg) != OT_OK) {
        ot_warn("report: shipment %lld has legs that do not parse, printed without them"
                " error=\"%s\"",
                (long long)id, msg);
        n = 0;
    }
    ot_sql_reset(st);
    for (size_t i = 0; i < n; i++) {
        const struct ot_leg *l = &plan[i];
        legs[i] = (struct report_leg){l->mode == OT_LEG_AIR ? "air" : "ground",
                                      l->from.name,
                                      l->to.name,
                                      l->planned_departure,
                                      l->planned_arrival,
                                      l->carrier[0] ? l->carrier : NULL,
                                      l->flight[0] ? l->flight : NULL};
    }
    rd->m.legs = legs;
    rd->m.n_legs = n;
    return OT_OK;
}

static enum ot_err load_readings(struct ot_sql *db, struct api_report_data *rd, int64_t id)
{
    struct ot_sql_stmt *st;
    int row = 0;
    size_t cap = 0;
    enum ot_err rc = prep(db,
                          "SELECT ts, temp_c, temp2_c, ambient_c FROM readings"
                          " WHERE shipment_id = ?1 ORDER BY ts, seq",
                          id, &st);
    while (!rc && !(rc = ot_sql_step(st, &row)) && row) {
        void *v = rd->readings;
        if ((rc = grow(&v, &cap, rd->m.n_readings, sizeof *rd->readings, REPORT_MAX_READINGS)))
            break;
        rd->readings = v;
        rd->readings[rd->m.n_readings++] = (struct report_reading){
            ot_sql_int64(st, 0), col_real(st, 1), col_real(st, 2), col_real(st, 3)};
    }
    ot_sql_reset(st);
    rd->m.readings = rd->readings;
    return rc;
}

static enum ot_err load_gaps(struct ot_sql *db, struct api_report_data *rd, int64_t id)
{
    struct ot_sql_stmt *st;
    int row = 0;
    size_t cap = 0;
    /* the container's open gaps and declared losses inside the shipment's
     * seq range, with the times of the readings either side */
    enum ot_err rc =
        prep(db,
             "SELECT g.from_seq, g.to_seq, g.kind,"
             " (SELECT r.ts FROM readings r WHERE r.container = g.container AND r.seq < g.from_seq"
             "  ORDER BY r.seq DESC LIMIT 1),"
             " (SELECT r.ts FROM readings r WHERE r.container = g.container AND r.seq > g.to_seq"
             "  ORDER BY r.seq LIMIT 1)"
             " FROM seq_gaps g JOIN shipments s ON s.container = g.container AND s.id = ?1"
             " WHERE (g.closed_at IS NULL OR g.kind = 'lost')"
             " AND g.from_seq >= (SELECT min(seq) FROM readings WHERE shipment_id = ?1)"
             " AND g.to_seq <= (SELECT max(seq) FROM readings WHERE shipment_id = ?1)"
             " ORDER BY g.from_seq, g.kind",
             id, &st);
    while (!rc && !(rc = ot_sql_step(st, &row)) && row) {
        void *v = rd->gaps;
        if ((rc = grow(&v, &cap, rd->m.n_gaps, sizeof *rd->gaps, REPORT_MAX_ROWS)))
            break;
        rd->gaps = v;
        const char *kind = ot_sql_text(st, 2);
        rd->gaps[rd->m.n_gaps++] =
            (struct report_gap){ot_sql_int64(st, 0), ot_sql_int64(st, 1), col_time(st, 3),
                                col_time(st, 4), kind && strcmp(kind, "lost") == 0};
    }
    ot_sql_reset(st);
    rd->m.gaps = rd->gaps;
    return rc;
}

static enum ot_err load_alarms(struct ot_sql *db, struct api_report_data *rd, int64_t id)
{
    struct ot_sql_stmt *st;
    int row = 0, oom = 0;
    size_t cap = 0;
    enum ot_err rc = prep(db,
                          "SELECT type, severity, raised_at, cleared_at, acked_at, acked_by,"
                          " ack_comment, value FROM alarms WHERE shipment_id = ?1"
                          " ORDER BY raised_at, id",
                          id, &st);
    while (!rc && !(rc = ot_sql_step(st, &row)) && row) {
        void *v = rd->alarms;
        if ((rc = grow(&v, &cap, rd->m.n_alarms, sizeof *rd->alarms, REPORT_MAX_ROWS)))
            break;
        rd->alarms = v;
        struct report_alarm *a = &rd->alarms[rd->m.n_alarms++];
        a->type = keep(rd, st, 0, &oom);
        a->severity = keep(rd, st, 1, &oom);
        a->raised_at = col_time(st, 2);
        a->cleared_at = col_time(st, 3);
        a->acked_at = col_time(st, 4);
        a->acked_by = keep(rd, st, 5, &oom);
        a->comment = keep(rd, st, 6, &oom);
        a->value = col_real(st, 7);
    }
    ot_sql_reset(st);
    rd->m.alarms = rd->alarms;
    return rc ? rc : oom ? OT_ERR_NOMEM : OT_OK;
}

static enum ot_err load_custody(struct ot_sql *db, struct api_report_data *rd, int64_t id,
                                int64_t *reperfused_at)
{
    struct ot_sql_stmt *st;
    int row = 0, oom = 0;
    size_t cap = 0, scap = 0;
    enum ot_err rc = prep(db,
                          "SELECT idx, ts, type, actor_name, actor_role, from_party, to_party,"
                          " witness, seal, comment, temp_c, hash, meaning FROM custody"
                          " WHERE shipment_id = ?1 ORDER BY idx",
                          id, &st);
    while (!rc && !(rc = ot_sql_step(st, &row)) && row) {
        void *v = rd->custody;
        if ((rc = grow(&v, &cap, rd->m.n_custody, sizeof *rd->custody, REPORT_MAX_ROWS)))
            break;
        rd->custody = v;
        struct report_custody *c = &rd->custody[rd->m.n_custody++];
        c->index = ot_sql_int64(st, 0);
        c->ts = ot_sql_int64(st, 1);
        c->type = keep(rd, st, 2, &oom);
        c->actor_name = keep(rd, st, 3, &oom);
        c->actor_role = keep(rd, st, 4, &oom);
        c->from = keep(rd, st, 5, &oom);
        c->to = keep(rd, st, 6, &oom);
        c->witness = keep(rd, st, 7, &oom);
        c->seal = keep(rd, st, 8, &oom);
        c->comment = keep(rd, st, 9, &oom);
        c->temp_c = col_real(st, 10);
        c->hash = keep(rd, st, 11, &oom);
        if (oom || !c->type)
            continue;
        if (strcmp(c->type, "reperfused") == 0 && !*reperfused_at)
            *reperfused_at = c->ts;
        if (strcmp(c->type, "signed") != 0)
            continue;
        v = rd->sigs;
        if ((rc = grow(&v, &scap, rd->m.n_signatures, sizeof *rd->sigs, REPORT_MAX_ROWS)))
            break;
        rd->sigs = v;
        rd->sigs[rd->m.n_signatures++] = (struct report_signature){
            c->actor_name, c->actor_role, keep(rd, st, 12, &oom), c->comment, c->ts, c->index};
    }
    ot_sql_reset(st);
    rd->m.custody = rd->custody;
    rd->m.signatures = rd->sigs;
    return rc ? rc : oom ? OT_ERR_NOMEM : OT_OK;
}

static enum ot_err load_head(struct ot_sql *db, struct api_report_data *rd, int64_t id)
{
    struct ot_sql_stmt *st;
    int row = 0, oom = 0;
    enum ot_err rc = prep(db,
                          "SELECT idx, hash, signature, public_key FROM ledger_heads"
                          " WHERE shipment_id = ?1 ORDER BY idx DESC LIMIT 1",
                          id, &st);
    if (!rc && !(rc = ot_sql_step(st, &row)) && row) {
        rd->m.head_index = ot_sql_int64(st, 0);
        rd->m.head_hash = keep(rd, st, 1, &oom);
        rd->m.head_signature = keep(rd, st, 2, &oom);
        rd->m.public_key = keep(rd, st, 3, &oom);
    } else {
        rd->m.head_index = -1;
    }
    ot_sql_reset(st);
    return rc ? rc : oom ? OT_ERR_NOMEM : OT_OK;
}

enum ot_err api__report_load(struct api_ctx *ctx, struct api_db *d, int64_t id,
                             struct api_report_data *rd)
{
    int64_t delivered_at = 0, reperfused_at = 0, ended_at = 0;
    enum ot_err rc;
    memset(rd, 0, sizeof *rd);
    if ((rc = load_shipment(d->sql, ctx, rd, id, &delivered_at, &ended_at)) ||
        (rc = load_legs(d->sql, rd, id)) || (rc = load_readings(d->sql, rd, id)) ||
        (rc = load_gaps(d->sql, rd, id)) || (rc = load_alarms(d->sql, rd, id)) ||
        (rc = load_custody(d->sql, rd, id, &reperfused_at)) || (rc = load_head(d->sql, rd, id)))
        return rc;
    if (ended_at)
        reperfused_at = ended_at; /* the stated time of reperfusion (issue 12) */
    rd->m.ischemia_end_at = reperfused_at ? reperfused_at : delivered_at;
    rd->m.ischemia_end_reperfusion = reperfused_at != 0;
    rd->m.gap_ms = 0; /* automatic: five times the median spacing */
    /* one offset per report, the deployment's (api.json report_utc_offset_min,
     * Kazakhstan +300 since 2024-03-01), stated in every page header */
    rd->m.utc_offset_min = (int)ctx->cfg.report_utc_offset_min;
    return OT_OK;
}

void api__report_load_free(struct api_report_data *rd)
{
    if (!rd)
        return;
    for (size_t i = 0; i < rd->n_strs; i++)
        free(rd->strs[i]);
    free(rd->strs);
    free(rd->readings);
    free(rd->gaps);
    free(rd->alarms);
    free(rd->custody);
    free(rd->sigs);
    free(rd->plan);
    free(rd->legs);
    memset(rd, 0, sizeof *rd);
}
