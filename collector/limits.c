/* limits.c - publishes each container's preservation limits for the
 * gateway's local alarm (limits.h): retained, QoS 1, on
 * {root}/containers/{c}/limits, for every container with an open shipment
 * (the band and grace of the shipment's profile, the same entry the
 * collector's own temp_excursion rule uses), and an empty retained
 * message that clears it when the shipment ends.
 *
 * How it works: limits__poll reads the open shipments (the API writes
 * them; the worker polls on the acknowledgement cadence, as it does for
 * acknowledgements) and keeps one entry per container with what the broker
 * should hold (limits of shipment S, profile P, or nothing) and whether it
 * was sent. limits__publish sends the entries not yet sent; MQTTAsync
 * queues or refuses at once, so a broker outage never blocks the worker,
 * and every (re)connection sends them all again (a retained message is
 * idempotent). An entry that holds "nothing" is dropped once its clear was
 * sent, so the table stays the size of the fleet in use.
 *
 * A shipment that ended while no collector was active leaves its limits
 * on the broker: after each activation the first poll also clears every
 * container that has shipments but none open. */
#include "limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ot_log.h"
#include "ot_mqtt.h"
#include "ot_reading.h"
#include "ot_trail.h"
#include "sql.h"

struct limits_entry {
    char container[OT_ID_MAX + 1];
    int want;         /* 1: the limits of ship_id; 0: nothing (cleared) */
    int64_t ship_id;  /* the open shipment, 0 none (want 0 with one: no such profile) */
    char profile[48]; /* its profile */
    const struct ot_preservation *pres;
    int sent; /* the broker holds what we want */
    int seen; /* scratch of limits__poll */
};

struct limits {
    struct ot_sql *db;
    const struct ot_preservation_set *profiles;
    struct ot_sql_stmt *st_open, *st_all;
    struct limits_entry *e;
    size_t n, cap;
    int sweep; /* clear the containers without an open shipment on the next poll */
};

enum ot_err limits__open(struct ot_sql *db, const struct ot_preservation_set *profiles,
                         struct limits **out)
{
    enum ot_err rc;
    struct limits *l = calloc(1, sizeof *l);
    *out = NULL;
    if (!l)
        return OT_ERR_NOMEM;
    l->db = db;
    l->profiles = profiles;
    l->sweep = 1;
    /* newest open shipment first per container: the one the rules follow */
    if ((rc = sql__prepare(
             db, &l->st_open,
             "SELECT container,id,profile FROM shipments WHERE status IN (" OT_TRAIL_OPEN_SQL
             ") ORDER BY container, id DESC")) ||
        (rc = sql__prepare(db, &l->st_all, "SELECT DISTINCT container FROM shipments"))) {
        limits__close(l);
        return rc;
    }
    *out = l;
    return OT_OK;
}

void limits__close(struct limits *l)
{
    if (!l)
        return;
    free(l->e); /* the statements belong to the connection */
    free(l);
}

static struct limits_entry *entry(struct limits *l, const char *container)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->e[i].container, container))
            return &l->e[i];
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        struct limits_entry *ne = realloc(l->e, ncap * sizeof *ne);
        if (!ne)
            return NULL;
        l->e = ne;
        l->cap = ncap;
    }
    struct limits_entry *e = &l->e[l->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->container, sizeof e->container, "%s", container);
    return e;
}

/* The container should hold the limits of shipment id (profile prof). */
static void want_limits(struct limits *l, struct limits_entry *e, int64_t id, const char *prof)
{
    const struct ot_preservation *p = l->profiles ? ot_preservation_find(l->profiles, prof) : NULL;
    e->seen = 1;
    if (e->ship_id == id && !strcmp(e->profile, prof) && e->pres == p)
        return; /* unchanged (also a shipment without a profile: warned once) */
    if (!p)
        ot_warn("no preservation profile, no limits for the gateway container=%s shipment_id=%lld "
                "profile=%s",
                e->container, (long long)id, prof);
    /* without a profile the gateway gets no band: it keeps its coil off */
    e->want = p != NULL;
    e->ship_id = id;
    snprintf(e->profile, sizeof e->profile, "%s", prof);
    e->pres = p;
    e->sent = 0;
}

static enum ot_err sweep_ended(struct limits *l)
{
    enum ot_err rc;
    int row = 0;
    rc = ot_sql_step(l->st_all, &row);
    while (!rc && row) {
        const char *c = ot_sql_text(l->st_all, 0);
        struct limits_entry *e = c && ot_id_valid(c) ? entry(l, c) : NULL;
        if (c && ot_id_valid(c) && !e)
            rc = OT_ERR_NOMEM;
        else if (e && !e->seen) {
            e->want = 0;
            e->sent = 0;
            e->seen = 1;
        }
        if (!rc)
            rc = ot_sql_step(l->st_all, &row);
    }
    ot_sql_reset(l->st_all);
    return rc;
}

enum ot_err limits__poll(struct limits *l)
{
    enum ot_err rc;
    int row = 0;
    char last[OT_ID_MAX + 1] = "";
    for (size_t i = 0; i < l->n; i++)
        l->e[i].seen = 0;
    rc = ot_sql_step(l->st_open, &row);
    while (!rc && row) {
        const char *c = ot_sql_text(l->st_open, 0);
        const char *prof = ot_sql_text(l->st_open, 2);
        if (c && ot_id_valid(c) && strcmp(c, last)) {
            snprintf(last, sizeof last, "%s", c);
            struct limits_entry *e = entry(l, c);
            if (!e)
                rc = OT_ERR_NOMEM;
            else
                want_limits(l, e, ot_sql_int64(l->st_open, 1), prof ? prof : "");
        }
        if (!rc)
            rc = ot_sql_step(l->st_open, &row);
    }
    ot_sql_reset(l->st_open);
    if (!rc && l->sweep && !(rc = sweep_ended(l)))
        l->sweep = 0;
    if (rc) {
        ot_error("open shipments look-up for the limits failed database=%s", ot_sql_name(l->db));
        return rc;
    }
    /* shipments that ended: clear; cleared, sent and no open shipment:
     * forget */
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
        struct limits_entry *e = &l->e[i];
        if (!e->seen && (e->want || e->ship_id)) {
            e->want = 0;
            e->ship_id = 0;
            e->profile[0] = '\0';
            e->pres = NULL;
            e->sent = 0;
        }
        if (!e->seen && !e->want && e->sent)
            continue;
        if (k != i)
            l->e[k] = *e;
        k++;
    }
    l->n = k;
    return OT_OK;
}

void limits__activate(struct limits *l)
{
    l->sweep = 1;
    for (size_t i = 0; i < l->n; i++)
        l->e[i].sent = 0;
}

static char *limits_json(const struct limits_entry *e, int64_t now)
{
    cJSON *o = cJSON_CreateObject();
    char *out = NULL;
    if (!o)
        return NULL;
    if (cJSON_AddNumberToObject(o, "v", 1) &&
        cJSON_AddStringToObject(o, "container", e->container) &&
        cJSON_AddNumberToObject(o, "shipment", (double)e->ship_id) &&
        cJSON_AddStringToObject(o, "profile", e->profile) &&
        cJSON_AddNumberToObject(o, "temp_min_c", e->pres->temp_min_c) &&
        cJSON_AddNumberToObject(o, "temp_max_c", e->pres->temp_max_c) &&
        cJSON_AddNumberToObject(o, "excursion_grace_s", (double)e->pres->excursion_grace_s) &&
        cJSON_AddNumberToObject(o, "ts", (double)now))
        out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}

void limits__publish(struct limits *l, struct mqtt *m, const char *topic_root, int all, int64_t now)
{
    char topic[OT_TOPIC_MAX];
    if (all)
        for (size_t i = 0; i < l->n; i++)
            l->e[i].sent = 0;
    if (!m || !mqtt__connected(m))
        return;
    for (size_t i = 0; i < l->n; i++) {
        struct limits_entry *e = &l->e[i];
        if (e->sent || ot_topic(topic, sizeof topic, topic_root, e->container, "limits"))
            continue;
        char *body = e->want ? limits_json(e, now) : NULL;
        if (e->want && !body)
            continue; /* out of memory: the next call tries again */
        if (!mqtt__publish_retained(m, topic, body ? body : "", body ? strlen(body) : 0)) {
            e->sent = 1;
            if (e->want)
                ot_info("limits published container=%s shipment_id=%lld profile=%s "
                        "temp_min_c=%.1f temp_max_c=%.1f excursion_grace_s=%lld",
                        e->container, (long long)e->ship_id, e->profile, e->pres->temp_min_c,
                        e->pres->temp_max_c, (long long)e->pres->excursion_grace_s);
            else
                ot_info("limits cleared container=%s", e->container);
        }
        cJSON_free(body);
    }
}
