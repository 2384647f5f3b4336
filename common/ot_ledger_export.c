/* ot_ledger_export.c - the custody trail for auditors, in three forms:
 * - bundle: self-contained JSON (shipment identity, entries, covered
 *   readings, signed head, public key) that `organtrack-ledger verify`
 *   checks offline; the format is the one ot_ledger_verify_bundle parses.
 * - epcis: a GS1 EPCIS 2.0 JSON-LD EPCISDocument, one ObjectEvent per
 *   custody entry (docs/internals/ledger.md, "EPCIS mapping").
 * - csv: RFC 4180 (CRLF, quoted where needed), entries then readings.
 * No patient identity: the donation is named by its code only. */
#include "ot_ledger.h"
#include "ot_ledger_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_buf.h"
#include "ot_log.h"
#include "ot_sql.h"
#include "ot_time.h"

#define EXPORT_MAX ((size_t)512 * 1024 * 1024)

#define EPCIS_CONTEXT "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
#define OT_NS "urn:organtrack:epcis:"

static enum ot_err print_json(cJSON *doc, char **out, size_t *len)
{
    char *s = cJSON_PrintUnformatted(doc);
    if (!s)
        return OT_ERR_NOMEM;
    *out = s;
    *len = strlen(s);
    return OT_OK;
}

static int add(cJSON *obj, const char *k, cJSON *v)
{
    if (!v)
        return -1;
    if (!cJSON_AddItemToObject(obj, k, v)) {
        cJSON_Delete(v);
        return -1;
    }
    return 0;
}

static int push(cJSON *arr, cJSON *v)
{
    if (!v)
        return -1;
    if (!cJSON_AddItemToArray(arr, v)) {
        cJSON_Delete(v);
        return -1;
    }
    return 0;
}

/* Loads shipment, entries and head; NOTFOUND if the shipment does not exist. */
struct trail {
    struct ot_lg_shipment sh;
    struct ot_lg_entry *v;
    size_t n;
    int has_head;
    int64_t hidx;
    char hhash[65], sig[129], pub[65];
};

static void trail_free(struct trail *t)
{
    ot_lg_shipment_clear(&t->sh);
    ot_lg_entries_free(t->v, t->n);
    memset(t, 0, sizeof *t);
}

static enum ot_err trail_load_once(struct ot_sql *db, int64_t id, struct trail *t)
{
    enum ot_err rc;
    memset(t, 0, sizeof *t);
    if ((rc = ot_lg_load_shipment(db, id, &t->sh)))
        return rc;
    if ((rc = ot_lg_load_entries(db, id, &t->v, &t->n))) {
        trail_free(t);
        return rc;
    }
    rc = ot_lg_load_head(db, id, &t->hidx, t->hhash, t->sig, t->pub);
    if (rc == OT_OK)
        t->has_head = 1;
    else if (rc != OT_ERR_NOTFOUND) {
        trail_free(t);
        return rc;
    }
    return OT_OK;
}

/* Entries and head are two reads: outside a snapshot, an append committed
 * between them (another API process) gives a head newer than the last
 * entry read. The trail is append-only, so reading again settles it. */
static enum ot_err trail_load(struct ot_sql *db, int64_t id, struct trail *t)
{
    enum ot_err rc = OT_OK;
    for (int attempt = 0; attempt < 3; attempt++) {
        if ((rc = trail_load_once(db, id, t)))
            return rc;
        if (!t->has_head || t->hidx < (int64_t)t->n)
            return OT_OK;
        trail_free(t);
    }
    return trail_load_once(db, id, t);
}

/* ---------------------------------------------------------------- bundle */

enum ot_err ot_ledger_export_bundle(struct ot_sql *db, int64_t shipment_id, char **out, size_t *len)
{
    struct trail t;
    struct ot_sql_stmt *st = NULL;
    cJSON *doc = NULL, *sh, *entries, *readings, *head;
    enum ot_err rc;
    int bad = 0;
    *out = NULL;
    *len = 0;
    if ((rc = trail_load(db, shipment_id, &t)))
        return rc;
    rc = OT_ERR_NOMEM;
    doc = cJSON_CreateObject();
    if (!doc)
        goto out;
    bad |= add(doc, "format", cJSON_CreateString(OT_LEDGER_BUNDLE_FORMAT));
    sh = cJSON_CreateObject();
    bad |= add(doc, "shipment", sh);
    if (bad)
        goto out;
    bad |= add(sh, "id", cJSON_CreateNumber((double)t.sh.id));
    bad |= add(sh, "container", cJSON_CreateString(t.sh.container));
    bad |= add(sh, "profile", cJSON_CreateString(t.sh.profile));
    bad |= add(sh, "donation_code", cJSON_CreateString(t.sh.donation_code));
    bad |= add(sh, "cross_clamp_at", cJSON_CreateNumber((double)t.sh.cross_clamp_at));
    bad |= add(sh, "created_at", cJSON_CreateNumber((double)t.sh.created_at));
    entries = cJSON_CreateArray();
    bad |= add(doc, "entries", entries);
    readings = cJSON_CreateArray();
    bad |= add(doc, "readings", readings);
    if (bad)
        goto out;
    for (size_t i = 0; i < t.n; i++)
        if (push(entries, ot_lg_entry_json(&t.v[i])))
            goto out;
    for (size_t i = 0; i < t.n; i++) {
        int row = 0;
        if ((rc = ot_lg_readings_open(db, shipment_id, t.v[i].index, &st)))
            goto out;
        while (!(rc = ot_sql_step(st, &row)) && row) {
            struct ot_lg_reading r;
            ot_lg_reading_row(st, t.v[i].index, &r);
            if (push(readings, ot_lg_reading_json(&r))) {
                rc = OT_ERR_NOMEM;
                break;
            }
        }
        ot_sql_reset(st);
        st = NULL;
        if (rc)
            goto out;
    }
    rc = OT_ERR_NOMEM;
    head = cJSON_CreateObject();
    if (add(doc, "head", head))
        goto out;
    if (t.has_head) {
        bad |= add(head, "index", cJSON_CreateNumber((double)t.hidx));
        bad |= add(head, "hash", cJSON_CreateString(t.hhash));
        bad |= add(head, "signature", cJSON_CreateString(t.sig));
        bad |= add(doc, "public_key", cJSON_CreateString(t.pub));
    } else {
        bad |= add(doc, "public_key", cJSON_CreateNull());
    }
    if (bad)
        goto out;
    rc = print_json(doc, out, len);
out:
    cJSON_Delete(doc);
    trail_free(&t);
    return rc;
}

/* ----------------------------------------------------------------- EPCIS */

/* RFC 3986 percent-encoding of everything but unreserved characters. */
static char *pct_urn(const char *prefix, const char *s)
{
    size_t pl = strlen(prefix), n = strlen(s);
    char *p = malloc(pl + 3 * n + 1), *q;
    if (!p)
        return NULL;
    memcpy(p, prefix, pl);
    q = p + pl;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (isalnum(*c) || *c == '-' || *c == '.' || *c == '_' || *c == '~') {
            *q++ = (char)*c;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            *q++ = '%';
            *q++ = hex[*c >> 4];
            *q++ = hex[*c & 15];
        }
    }
    *q = '\0';
    return p;
}

static cJSON *party_list(const char *party)
{
    cJSON *arr = cJSON_CreateArray(), *o = cJSON_CreateObject();
    char *urn = pct_urn(OT_NS "party:", party);
    if (!arr || !o || !urn || add(o, "type", cJSON_CreateString("possessing_party")) ||
        add(o, "source", cJSON_CreateString(urn))) {
        free(urn);
        cJSON_Delete(o);
        cJSON_Delete(arr);
        return NULL;
    }
    free(urn);
    if (push(arr, o)) {
        cJSON_Delete(arr);
        return NULL;
    }
    return arr;
}

/* destinationList items use the key "destination" */
static cJSON *party_dest(const char *party)
{
    cJSON *arr = party_list(party);
    if (arr) {
        cJSON *src = cJSON_DetachItemFromObjectCaseSensitive(arr->child, "source");
        if (!src || add(arr->child, "destination", src)) {
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

static const char *biz_step(const char *type)
{
    if (!strcmp(type, "departed") || !strcmp(type, "handoff"))
        return "shipping";
    if (!strcmp(type, "received") || !strcmp(type, "arrived"))
        return "receiving";
    if (!strcmp(type, "packed"))
        return "packing";
    if (!strcmp(type, "opened"))
        return "inspecting";
    if (!strcmp(type, "discarded"))
        return "destroying";
    if (!strcmp(type, "signed")) /* an electronic signature: the trail was inspected */
        return "inspecting";
    return NULL; /* note */
}

static const char *disposition(const char *type, const char *meaning)
{
    if (!strcmp(type, "signed") && meaning) /* released: conformant; rejected: not */
        return !strcmp(meaning, "released")   ? "conformant"
               : !strcmp(meaning, "rejected") ? "non_conformant"
                                              : NULL;
    if (!strcmp(type, "departed") || !strcmp(type, "handoff"))
        return "in_transit";
    if (!strcmp(type, "discarded"))
        return "destroyed";
    return NULL;
}

/* Interval statistics of temp_c over the readings an entry covers. */
struct tstats {
    int64_t n, t0, t1;
    double min, max, sum;
};

static enum ot_err interval_stats(struct ot_sql *db, int64_t shipment, int64_t idx,
                                  struct tstats *ts)
{
    struct ot_sql_stmt *st = NULL;
    int row = 0;
    enum ot_err rc;
    memset(ts, 0, sizeof *ts);
    if ((rc = ot_lg_readings_open(db, shipment, idx, &st)))
        return rc;
    while (!(rc = ot_sql_step(st, &row)) && row) {
        struct ot_lg_reading r;
        ot_lg_reading_row(st, idx, &r);
        if (!r.ch[0].set)
            continue;
        if (ts->n == 0 || r.ch[0].v < ts->min)
            ts->min = r.ch[0].v;
        if (ts->n == 0 || r.ch[0].v > ts->max)
            ts->max = r.ch[0].v;
        if (ts->n == 0 || r.ts < ts->t0)
            ts->t0 = r.ts;
        if (ts->n == 0 || r.ts > ts->t1)
            ts->t1 = r.ts;
        ts->sum += r.ch[0].v;
        ts->n++;
    }
    ot_sql_reset(st);
    return rc;
}

static cJSON *iso_str(int64_t ms)
{
    char b[32];
    return cJSON_CreateString(ot_time_format_iso(ms, b, sizeof b));
}

static cJSON *sensor_elements(const struct ot_lg_entry *e, const struct tstats *ts)
{
    cJSON *list = cJSON_CreateArray();
    int bad = !list;
    if (!bad && e->temp_c.set) {
        /* the container temperature at the moment of the event */
        cJSON *el = cJSON_CreateObject(), *meta = cJSON_CreateObject(), *reps = cJSON_CreateArray(),
              *rep = cJSON_CreateObject();
        bad |= push(list, el);
        if (!bad) {
            bad |= add(el, "sensorMetadata", meta);
            meta = NULL;
            bad |= add(el, "sensorReport", reps);
            reps = NULL;
        }
        cJSON_Delete(meta);
        cJSON_Delete(reps);
        if (!bad) {
            cJSON *m = cJSON_GetObjectItemCaseSensitive(el, "sensorMetadata");
            cJSON *r = cJSON_GetObjectItemCaseSensitive(el, "sensorReport");
            if (e->temp_ts.set)
                bad |= add(m, "time", iso_str((int64_t)e->temp_ts.v));
            bad |= push(r, rep);
            rep = NULL;
            if (!bad) {
                cJSON *x = r->child;
                bad |= add(x, "type", cJSON_CreateString("Temperature"));
                bad |= add(x, "value", cJSON_CreateNumber(e->temp_c.v));
                bad |= add(x, "uom", cJSON_CreateString("CEL"));
                if (e->temp_ts.set)
                    bad |= add(x, "time", iso_str((int64_t)e->temp_ts.v));
            }
        }
        cJSON_Delete(rep);
    }
    if (!bad && ts->n > 0) {
        /* the temperature record of the interval since the previous entry */
        cJSON *el = cJSON_CreateObject(), *meta, *reps, *x;
        bad |= push(list, el);
        if (!bad) {
            meta = cJSON_CreateObject();
            bad |= add(el, "sensorMetadata", meta);
            if (!bad) {
                bad |= add(meta, "startTime", iso_str(ts->t0));
                bad |= add(meta, "endTime", iso_str(ts->t1));
            }
            reps = cJSON_CreateArray();
            bad |= add(el, "sensorReport", reps);
            x = cJSON_CreateObject();
            if (!bad && !push(reps, x)) {
                bad |= add(x, "type", cJSON_CreateString("Temperature"));
                bad |= add(x, "minValue", cJSON_CreateNumber(ts->min));
                bad |= add(x, "maxValue", cJSON_CreateNumber(ts->max));
                bad |= add(x, "meanValue",
                           cJSON_CreateNumber(round(ts->sum / (double)ts->n * 1000.0) / 1000.0));
                bad |= add(x, "uom", cJSON_CreateString("CEL"));
            } else {
                bad = 1;
            }
        }
    }
    if (bad) {
        cJSON_Delete(list);
        return NULL;
    }
    return list;
}

static cJSON *epcis_event(const struct trail *t, const struct ot_lg_entry *e,
                          const struct tstats *ts)
{
    cJSON *ev = cJSON_CreateObject(), *epcs = NULL, *actor = NULL;
    char *donation = NULL, id[96];
    const char *step = biz_step(e->type), *disp = disposition(e->type, e->meaning);
    int bad = !ev;
    if (bad)
        return NULL;
    bad |= add(ev, "type", cJSON_CreateString("ObjectEvent"));
    bad |= add(ev, "eventTime", iso_str(e->ts));
    bad |= add(ev, "eventTimeZoneOffset", cJSON_CreateString("+00:00"));
    snprintf(id, sizeof id, OT_NS "custody:%lld:%lld", (long long)e->shipment, (long long)e->index);
    bad |= add(ev, "eventID", cJSON_CreateString(id));
    epcs = cJSON_CreateArray();
    donation = pct_urn(OT_NS "donation:", t->sh.donation_code);
    bad |= !donation || push(epcs, cJSON_CreateString(donation ? donation : ""));
    bad |= add(ev, "epcList", epcs);
    bad |= add(ev, "action", cJSON_CreateString("OBSERVE"));
    if (step)
        bad |= add(ev, "bizStep", cJSON_CreateString(step));
    if (disp)
        bad |= add(ev, "disposition", cJSON_CreateString(disp));
    if (e->lat.set && e->lon.set) {
        char geo[96], a[40], b[40];
        cJSON *rp = cJSON_CreateObject();
        ot_lg_num_text(e->lat.v, a);
        ot_lg_num_text(e->lon.v, b);
        snprintf(geo, sizeof geo, "geo:%s,%s", a, b);
        bad |= add(ev, "readPoint", rp);
        if (!bad)
            bad |= add(rp, "id", cJSON_CreateString(geo));
    }
    if (e->from)
        bad |= add(ev, "sourceList", party_list(e->from));
    if (e->to)
        bad |= add(ev, "destinationList", party_dest(e->to));
    if (e->temp_c.set || ts->n > 0)
        bad |= add(ev, "sensorElementList", sensor_elements(e, ts));
    /* organtrack extensions (namespaced, allowed by the schema) */
    bad |= add(ev, "ot:custodyType", cJSON_CreateString(e->type));
    actor = cJSON_CreateObject();
    bad |= add(ev, "ot:actor", actor);
    if (!bad) {
        bad |= add(actor, "ot:name", cJSON_CreateString(e->actor_name));
        bad |= add(actor, "ot:role", cJSON_CreateString(e->actor_role));
    }
    if (e->witness)
        bad |= add(ev, "ot:witness", cJSON_CreateString(e->witness));
    if (e->seal)
        bad |= add(ev, "ot:seal", cJSON_CreateString(e->seal));
    if (e->comment)
        bad |= add(ev, "ot:comment", cJSON_CreateString(e->comment));
    if (e->meaning) /* a `signed` entry: printed name and role are ot:actor, statement ot:comment */
        bad |= add(ev, "ot:signatureMeaning", cJSON_CreateString(e->meaning));
    bad |= add(ev, "ot:ledgerIndex", cJSON_CreateNumber((double)e->index));
    bad |= add(ev, "ot:ledgerHash", cJSON_CreateString(e->hash));
    bad |= add(ev, "ot:prevHash", cJSON_CreateString(e->prev_hash));
    bad |= add(ev, "ot:readingsCount", cJSON_CreateNumber((double)e->readings_count));
    bad |= add(ev, "ot:readingsRoot", cJSON_CreateString(e->readings_root));
    free(donation);
    if (bad) {
        cJSON_Delete(ev);
        return NULL;
    }
    return ev;
}

enum ot_err ot_ledger_export_epcis(struct ot_sql *db, int64_t shipment_id, char **out, size_t *len)
{
    struct trail t;
    cJSON *doc = NULL, *ctx, *ns, *body, *list;
    enum ot_err rc;
    int bad = 0;
    *out = NULL;
    *len = 0;
    if ((rc = trail_load(db, shipment_id, &t)))
        return rc;
    rc = OT_ERR_NOMEM;
    doc = cJSON_CreateObject();
    if (!doc)
        goto out;
    ctx = cJSON_CreateArray();
    bad |= add(doc, "@context", ctx);
    if (bad)
        goto out;
    bad |= push(ctx, cJSON_CreateString(EPCIS_CONTEXT));
    ns = cJSON_CreateObject();
    bad |= push(ctx, ns);
    if (bad)
        goto out;
    bad |= add(ns, "ot", cJSON_CreateString(OT_NS));
    bad |= add(doc, "type", cJSON_CreateString("EPCISDocument"));
    bad |= add(doc, "schemaVersion", cJSON_CreateString("2.0"));
    bad |= add(doc, "creationDate", iso_str(ot_time_now_ms()));
    body = cJSON_CreateObject();
    bad |= add(doc, "epcisBody", body);
    if (bad)
        goto out;
    list = cJSON_CreateArray();
    if (add(body, "eventList", list))
        goto out;
    for (size_t i = 0; i < t.n; i++) {
        struct tstats ts;
        if ((rc = interval_stats(db, shipment_id, t.v[i].index, &ts)))
            goto out;
        rc = OT_ERR_NOMEM;
        if (push(list, epcis_event(&t, &t.v[i], &ts)))
            goto out;
    }
    rc = print_json(doc, out, len);
out:
    cJSON_Delete(doc);
    trail_free(&t);
    return rc;
}

/* ------------------------------------------------------------------- CSV */

/* One text cell, RFC 4180 quoted when needed. A cell that a spreadsheet
 * would run as a formula (= + - @ first) gets a leading apostrophe. */
static void csv_text(struct ot_buf *b, const char *s, int last)
{
    if (s) {
        int quote = strpbrk(s, ",\"\r\n") != NULL;
        int guard = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
        if (quote)
            ot_buf_str(b, "\"");
        if (guard)
            ot_buf_str(b, "'");
        for (const char *c = s; *c; c++) {
            if (*c == '"')
                ot_buf_str(b, "\"\"");
            else
                ot_buf_add(b, c, 1);
        }
        if (quote)
            ot_buf_str(b, "\"");
    }
    ot_buf_str(b, last ? "\r\n" : ",");
}

static void csv_num(struct ot_buf *b, const struct ot_lg_num *n, int last)
{
    char t[40] = "";
    if (n->set)
        ot_lg_num_text(n->v, t);
    ot_buf_str(b, t);
    ot_buf_str(b, last ? "\r\n" : ",");
}

static void csv_int(struct ot_buf *b, int64_t v, int last)
{
    struct ot_lg_num n = {1, (double)v};
    csv_num(b, &n, last);
}

static void csv_time(struct ot_buf *b, const struct ot_lg_num *ms, int last)
{
    char iso[32];
    csv_text(b, ms->set ? ot_time_format_iso((int64_t)ms->v, iso, sizeof iso) : NULL, last);
}

enum ot_err ot_ledger_export_csv(struct ot_sql *db, int64_t shipment_id, char **out, size_t *len)
{
    struct trail t;
    struct ot_sql_stmt *st = NULL;
    struct ot_buf b = OT_BUF_INIT(EXPORT_MAX);
    enum ot_err rc;
    *out = NULL;
    *len = 0;
    if ((rc = trail_load(db, shipment_id, &t)))
        return rc;
    ot_buf_str(&b, "section,shipment,container,profile,donation_code,cross_clamp_utc\r\n");
    csv_text(&b, "shipment", 0);
    csv_int(&b, t.sh.id, 0);
    csv_text(&b, t.sh.container, 0);
    csv_text(&b, t.sh.profile, 0);
    csv_text(&b, t.sh.donation_code, 0);
    {
        struct ot_lg_num cc = {1, (double)t.sh.cross_clamp_at};
        csv_time(&b, &cc, 1);
    }
    ot_buf_str(&b, "\r\nsection,index,time_utc,type,actor_name,actor_role,from,to,witness,lat,lon,"
                   "temp_c,temp_time_utc,seal,comment,readings_count,readings_from_seq,"
                   "readings_to_seq,readings_root,prev_hash,hash,signature_meaning,signature_name,"
                   "signature_role,signature_statement\r\n");
    for (size_t i = 0; i < t.n; i++) {
        const struct ot_lg_entry *e = &t.v[i];
        struct ot_lg_num tsn = {1, (double)e->ts};
        csv_text(&b, "entry", 0);
        csv_int(&b, e->index, 0);
        csv_time(&b, &tsn, 0);
        csv_text(&b, e->type, 0);
        csv_text(&b, e->actor_name, 0);
        csv_text(&b, e->actor_role, 0);
        csv_text(&b, e->from, 0);
        csv_text(&b, e->to, 0);
        csv_text(&b, e->witness, 0);
        csv_num(&b, &e->lat, 0);
        csv_num(&b, &e->lon, 0);
        csv_num(&b, &e->temp_c, 0);
        csv_time(&b, &e->temp_ts, 0);
        csv_text(&b, e->seal, 0);
        csv_text(&b, e->comment, 0);
        csv_int(&b, e->readings_count, 0);
        csv_num(&b, &e->readings_from_seq, 0);
        csv_num(&b, &e->readings_to_seq, 0);
        csv_text(&b, e->readings_root, 0);
        csv_text(&b, e->prev_hash, 0);
        csv_text(&b, e->hash, 0);
        /* v1.1: an electronic signature (a `signed` entry), empty otherwise */
        int sig = e->meaning != NULL;
        csv_text(&b, sig ? e->meaning : NULL, 0);
        csv_text(&b, sig ? e->actor_name : NULL, 0);
        csv_text(&b, sig ? e->actor_role : NULL, 0);
        csv_text(&b, sig ? e->comment : NULL, 1);
    }
    ot_buf_str(&b, "\r\nsection,entry,container,seq,time_utc");
    for (int i = 0; i < OT_LG_NCH; i++) {
        ot_buf_str(&b, ",");
        ot_buf_str(&b, ot_lg_channel_names[i]);
    }
    ot_buf_str(&b, ",missing\r\n");
    for (size_t i = 0; i < t.n; i++) {
        int row = 0;
        if ((rc = ot_lg_readings_open(db, shipment_id, t.v[i].index, &st)))
            goto out;
        while (!(rc = ot_sql_step(st, &row)) && row) {
            struct ot_lg_reading r;
            struct ot_lg_num tsn;
            ot_lg_reading_row(st, t.v[i].index, &r);
            tsn.set = 1;
            tsn.v = (double)r.ts;
            csv_text(&b, "reading", 0);
            csv_int(&b, r.entry, 0);
            csv_text(&b, r.container, 0);
            csv_int(&b, r.seq, 0);
            csv_time(&b, &tsn, 0);
            for (int c = 0; c < OT_LG_NCH; c++)
                csv_num(&b, &r.ch[c], 0);
            csv_text(&b, r.missing, 1);
        }
        ot_sql_reset(st);
        st = NULL;
        if (rc)
            goto out;
    }
    if (b.failed) {
        rc = OT_ERR_NOMEM;
        goto out;
    }
    *out = b.p;
    *len = b.n;
    b.p = NULL;
    rc = OT_OK;
out:
    free(b.p);
    trail_free(&t);
    return rc;
}
