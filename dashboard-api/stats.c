/* stats.c - GET /api/v1/stats?from=&to= (coordinators, auditors): the
 * figures a review board asks for (SPEC v1.1 "Incidents"), over shipments
 * created and incidents opened in [from, to) (default: the last 30 days):
 *   shipments: total, by organ (profile) and by mode;
 *   delivered_within_limit_pct: of the delivered shipments, the share whose
 *     cold ischaemia ended (reperfusion, else delivery) within the
 *     profile's limit;
 *   excursions_per_shipment: temp_excursion alarms / shipments (2 decimals);
 *   median_cold_ischemia_min by organ: over shipments whose ischaemia ended;
 *   incidents: opened, answered_in_time (answered by due_at), overdue (open
 *     past due_at now).
 * One pass over the shipment rows; at most 100000 shipments per request
 * (more is refused: narrow the period). */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_preservation.h"
#include "ot_time.h"

#define STATS_MAX_ROWS 100000
#define STATS_MAX_GROUPS 32

struct group {
    char name[48];
    int64_t n, delivered, in_limit;
    double *isch;
    size_t n_isch, cap_isch;
};

struct groups {
    struct group g[STATS_MAX_GROUPS];
    size_t n;
};

static struct group *group_of(struct groups *gs, const char *name)
{
    for (size_t i = 0; i < gs->n; i++)
        if (!strcmp(gs->g[i].name, name))
            return &gs->g[i];
    if (gs->n == STATS_MAX_GROUPS)
        return &gs->g[STATS_MAX_GROUPS - 1]; /* the rest share the last group */
    struct group *g = &gs->g[gs->n++];
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    return g;
}

static int push(struct group *g, double v)
{
    if (g->n_isch == g->cap_isch) {
        size_t cap = g->cap_isch ? g->cap_isch * 2 : 16;
        double *p = realloc(g->isch, cap * sizeof *p);
        if (!p)
            return -1;
        g->isch = p;
        g->cap_isch = cap;
    }
    g->isch[g->n_isch++] = v;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(struct group *g)
{
    qsort(g->isch, g->n_isch, sizeof g->isch[0], cmp_double);
    size_t n = g->n_isch;
    return n % 2 ? g->isch[n / 2] : (g->isch[n / 2 - 1] + g->isch[n / 2]) / 2.0;
}

static void groups_free(struct groups *gs)
{
    for (size_t i = 0; i < gs->n; i++)
        free(gs->g[i].isch);
}

static int period(struct api_req *r, int64_t *from, int64_t *to)
{
    const char *f = api__query(r, "from"), *t = api__query(r, "to");
    int64_t now = ot_time_now_ms();
    *to = now + 1;
    *from = now - 30LL * 24 * 3600 * 1000;
    if ((f && api__parse_time(f, from)) || (t && api__parse_time(t, to)) || *from >= *to) {
        api__reply_error(r, 400, "invalid_parameter",
                         "from, to: RFC 3339 times (or epoch ms), from before to");
        return -1;
    }
    return 0;
}

static double round1(double v)
{
    return (double)(int64_t)(v * 10.0 + (v < 0 ? -0.5 : 0.5)) / 10.0;
}

void api__h_stats(struct api_req *r)
{
    static const char *const known[] = {"from", "to", NULL};
    struct groups organs, modes;
    int64_t from, to, total = 0, delivered = 0, in_limit = 0, excursions = 0;
    char iso[32];
    int row = 0, fail = 0;
    if (api__query_check(r, known) || period(r, &from, &to))
        return;
    organs.n = modes.n = 0;
    struct api_db *d = api__req_db(r);
    struct ot_sql_stmt *st = api__stmt(d, ST_STATS_SHIPMENTS);
    if (!st || ot_sql_bind_int64(st, 1, from) || ot_sql_bind_int64(st, 2, to))
        fail = 1;
    while (!fail && !ot_sql_step(st, &row) && row) {
        if (++total > STATS_MAX_ROWS)
            break;
        const char *prof = ot_sql_text(st, 1), *mode = ot_sql_text(st, 2);
        struct group *o = group_of(&organs, prof ? prof : "?");
        struct group *m = group_of(&modes, mode ? mode : "?");
        o->n++;
        m->n++;
        excursions += ot_sql_int64(st, 6);
        int has_del = !ot_sql_is_null(st, 4), has_end = !ot_sql_is_null(st, 5);
        if (!has_del && !has_end)
            continue;
        int64_t end = has_end ? ot_sql_int64(st, 5) : ot_sql_int64(st, 4);
        double min = (double)(end - ot_sql_int64(st, 3)) / 60000.0;
        const struct ot_preservation *p =
            r->ctx->pres && prof ? ot_preservation_find(r->ctx->pres, prof) : NULL;
        if (has_del) {
            delivered++;
            o->delivered++;
            if (p && p->max_cold_ischemia_min > 0 && min <= (double)p->max_cold_ischemia_min) {
                in_limit++;
                o->in_limit++;
            }
        }
        if (push(o, min))
            fail = 1;
    }
    if (st)
        ot_sql_reset(st);
    if (total > STATS_MAX_ROWS) {
        groups_free(&organs);
        api__reply_error(r, 400, "invalid_parameter",
                         "from, to: more than %d shipments in the period; narrow it",
                         STATS_MAX_ROWS);
        return;
    }
    int64_t inc[3] = {0, 0, 0};
    struct ot_sql_stmt *si = fail ? NULL : api__stmt(d, ST_STATS_INCIDENTS);
    if (!si || ot_sql_bind_int64(si, 1, from) || ot_sql_bind_int64(si, 2, to) ||
        ot_sql_bind_int64(si, 3, ot_time_now_ms()) || ot_sql_step(si, &row) || !row)
        fail = 1;
    else
        for (int k = 0; k < 3; k++)
            inc[k] = ot_sql_int64(si, k);
    if (si)
        ot_sql_reset(si);
    cJSON *o = fail ? NULL : cJSON_CreateObject();
    if (!o) {
        groups_free(&organs);
        api__reply_error(r, 500, "internal", "stats: the database did not answer");
        return;
    }
    cJSON_AddStringToObject(o, "from", ot_time_format_iso(from, iso, sizeof iso));
    cJSON_AddStringToObject(o, "to", ot_time_format_iso(to, iso, sizeof iso));
    cJSON *sh = cJSON_AddObjectToObject(o, "shipments");
    api__add_num(sh, "total", (double)total);
    cJSON *by_organ = cJSON_AddObjectToObject(sh, "by_organ");
    cJSON *by_mode = cJSON_AddObjectToObject(sh, "by_mode");
    cJSON *med = cJSON_AddObjectToObject(o, "median_cold_ischemia_min");
    for (size_t i = 0; i < organs.n; i++) {
        api__add_num(by_organ, organs.g[i].name, (double)organs.g[i].n);
        if (organs.g[i].n_isch)
            api__add_num(med, organs.g[i].name, round1(median(&organs.g[i])));
    }
    for (size_t i = 0; i < modes.n; i++)
        api__add_num(by_mode, modes.g[i].name, (double)modes.g[i].n);
    api__add_num(o, "delivered", (double)delivered);
    if (delivered)
        api__add_num(o, "delivered_within_limit_pct",
                     round1(100.0 * (double)in_limit / (double)delivered));
    else
        cJSON_AddNullToObject(o, "delivered_within_limit_pct");
    if (total)
        api__add_num(o, "excursions_per_shipment",
                     round1((double)excursions / (double)total * 100.0) / 100.0);
    else
        cJSON_AddNullToObject(o, "excursions_per_shipment");
    cJSON *ic = cJSON_AddObjectToObject(o, "incidents");
    api__add_num(ic, "opened", (double)inc[0]);
    api__add_num(ic, "answered_in_time", (double)inc[1]);
    api__add_num(ic, "overdue", (double)inc[2]);
    groups_free(&organs);
    api__reply_json(r, 200, o);
}
