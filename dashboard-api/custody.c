/* custody.c - the custody trail through the ledger (common/ot_ledger.h),
 * and auditor exports of it.
 *
 * A custody POST is one transaction, the request's: the shipment's row
 * lock, its status read, the ledger entry (ot_ledger_append runs in the
 * caller's transaction: chain check, readings digest, hash, signed head),
 * the consequences for the shipment (departed -> in_transit, received ->
 * delivered, discarded -> discarded; a check-in's identity check and a
 * reperfusion, receipt.c), the SSE event and the audit row
 * commit together or not at all: a failed follow-up write leaves no entry
 * behind and answers 5xx. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_ledger.h"
#include "ot_log.h"
#include "ot_time.h"
#include "ot_trail.h"
#include "report_load.h"

void api__h_custody_list(struct api_req *r)
{
    if (api__query_check(r, (const char *const[]){NULL}))
        return;
    struct api_db *d = api__req_db(r);
    cJSON *ship = api__shipment_load(r, d, r->path_id, NULL, 0, NULL, 0);
    if (!ship)
        return;
    cJSON_Delete(ship);
    cJSON *arr = NULL;
    enum ot_err rc = ot_ledger_entries(d->sql, r->path_id, &arr);
    if (rc || !arr) {
        cJSON_Delete(arr);
        api__reply_error(r, 500, "internal", "ledger: %s", ot_strerror(rc));
        return;
    }
    /* a trail is short (tens of entries): one page */
    cJSON *o = api__page(arr, NULL);
    if (!o) {
        api__reply_error(r, 500, "internal", "out of memory");
        return;
    }
    api__reply_json(r, 200, o);
}

void api__h_custody_post(struct api_req *r)
{
    struct api_custody_in in;
    char field[64], msg[256], why[256] = "", container[65], status[16], target[32];
    char mismatch[400] = "", text[1001] = "";
    cJSON *entry = NULL;
    cJSON *body = api__body_json(r);
    if (!body)
        return;
    enum ot_err prc = api__custody_parse(body, &in, field, sizeof field, msg, sizeof msg);
    cJSON_Delete(body);
    if (prc) {
        api__reply_error(r, 400, "invalid_field", "%s", msg);
        return;
    }
    /* One transaction owns the whole append: the status read, the ledger
     * entry and its consequences (status, event, audit) commit together or
     * not at all (ot_ledger.h). */
    struct api_db *d = api__req_db(r);
    if (api__req_begin(r))
        return;
    if (api__shipment_lock(r, d, r->path_id))
        goto rollback;
    cJSON *ship =
        api__shipment_load(r, d, r->path_id, container, sizeof container, status, sizeof status);
    if (!ship)
        goto rollback;
    if (strcmp(status, "closed") == 0 || strcmp(status, "discarded") == 0) {
        cJSON_Delete(ship);
        api__reply_error(r, 409, "conflict", "shipment %lld is %s: the trail is closed",
                         (long long)r->path_id, status);
        goto rollback;
    }
    /* receipt (receipt.c): the label as stated, the end of ischaemia */
    int64_t now = ot_time_now_ms(), at = in.at ? in.at : now, clamp = 0;
    int64_t deadline = 0;
    const cJSON *cc = cJSON_GetObjectItemCaseSensitive(ship, "cross_clamp_at");
    const cJSON *dl = cJSON_GetObjectItemCaseSensitive(ship, "deadline");
    if (cJSON_IsString(cc))
        ot_time_parse_iso(cc->valuestring, &clamp);
    if (cJSON_IsString(dl))
        ot_time_parse_iso(dl->valuestring, &deadline);
    if (!strcmp(in.type, "checkin")) {
        api__checkin_compare(ship, &in, mismatch, sizeof mismatch);
        api__checkin_text(&in, mismatch, text, sizeof text);
    } else if (!strcmp(in.type, "reperfused")) {
        char iso[32];
        if (at > now + r->ctx->cfg.clock_skew_min * 60000 || at < now - 6 * 3600000LL ||
            at < clamp) {
            cJSON_Delete(ship);
            api__reply_error(r, 400, "invalid_field",
                             "at: reperfusion is at most 6 h in the past, not in the future and "
                             "not before the cross-clamp");
            goto rollback;
        }
        snprintf(text, sizeof text, "reperfusion at %s%s%.900s",
                 ot_time_format_iso(at, iso, sizeof iso), in.comment[0] ? ": " : "", in.comment);
    }
    cJSON_Delete(ship);
    struct ot_custody_input ci = {
        .type = in.type,
        .actor_name = r->who.name,
        .actor_role = api__role_name(r->who.role),
        .from_party = in.from[0] ? in.from : NULL,
        .to_party = in.to[0] ? in.to : NULL,
        .witness = in.witness[0] ? in.witness : NULL,
        .has_place = in.has_place,
        .lat = in.lat,
        .lon = in.lon,
        .seal = in.seal[0] ? in.seal : NULL,
        .comment = text[0]         ? text
                   : in.comment[0] ? in.comment
                                   : NULL,
        .ts = now,
    };
    enum ot_err rc =
        ot_ledger_append(d->sql, r->ctx->key, r->path_id, &ci, &entry, why, sizeof why);
    if (rc == OT_ERR_CONFLICT) {
        api__reply_error(r, 409, "conflict", "type: %s", why[0] ? why : "not possible now");
        goto rollback;
    }
    if (rc == OT_ERR_INVAL || rc == OT_ERR_RANGE) {
        api__reply_error(r, 422, "rejected", "%s", why[0] ? why : "ledger refused the entry");
        goto rollback;
    }
    if (rc) {
        api__reply_error(r, 500, "internal", "ledger: %s", why[0] ? why : ot_strerror(rc));
        goto rollback;
    }
    if (!entry)
        entry = cJSON_CreateObject();
    /* consequences: status, event, audit */
    snprintf(target, sizeof target, "shipment/%lld", (long long)r->path_id);
    int ok = entry != NULL;
    const char *next = ot_trail_custody_status(in.type, status);
    if (ok && next &&
        api__shipment_set_status(r, d, r->path_id, container, status, next,
                                 in.comment[0] ? in.comment : in.type) != 0)
        ok = 0; /* the row lock keeps the status: only a failed write gets here */
    const cJSON *eidx = entry ? cJSON_GetObjectItemCaseSensitive(entry, "index") : NULL;
    if (ok && !strcmp(in.type, "checkin") &&
        api__checkin_effects(r, d, container, mismatch,
                             cJSON_IsNumber(eidx) ? (int64_t)eidx->valuedouble : 0))
        goto rollback; /* replied */
    if (ok && !strcmp(in.type, "reperfused") && api__reperfused_effects(r, d, at))
        goto rollback; /* replied */
    if (ok && api__custody_incidents(r, d, in.type, deadline,
                                     cJSON_IsNumber(eidx) ? (int64_t)eidx->valuedouble : 0))
        goto rollback; /* replied */
    cJSON *ev = ok ? cJSON_CreateObject() : NULL;
    cJSON *au = ok ? cJSON_CreateObject() : NULL;
    if (ok && ev && au) {
        cJSON_AddStringToObject(ev, "change", "appended");
        cJSON_AddNumberToObject(ev, "shipment_id", (double)r->path_id);
        cJSON_AddItemToObject(ev, "entry", cJSON_Duplicate(entry, 1));
        cJSON_AddStringToObject(au, "type", in.type);
        if (in.comment[0])
            cJSON_AddStringToObject(au, "comment", in.comment);
        const cJSON *idx = cJSON_GetObjectItemCaseSensitive(entry, "index");
        if (cJSON_IsNumber(idx))
            cJSON_AddNumberToObject(au, "index", idx->valuedouble);
        ok = api__event(d, "custody", r->path_id, container, ev) == OT_OK &&
             api__audit(d, &r->who, "custody.append", target, au) == OT_OK;
    } else {
        ok = 0;
    }
    cJSON_Delete(ev);
    cJSON_Delete(au);
    if (!ok) {
        ot_error("custody append rolled back: a follow-up write failed shipment=%lld type=%s",
                 (long long)r->path_id, in.type);
        api__reply_error(r, 500, "internal",
                         "the custody entry could not be stored; nothing was written, retry");
        goto rollback;
    }
    if (api__req_commit(r)) {
        ot_error("custody append rolled back: commit failed shipment=%lld type=%s",
                 (long long)r->path_id, in.type);
        cJSON_Delete(entry);
        return;
    }
    ot_info("custody appended shipment=%lld type=%s by=%s", (long long)r->path_id, in.type,
            r->who.name);
    api__reply_json(r, 201, entry);
    return;
rollback:
    api__req_rollback(r);
    cJSON_Delete(entry);
}

void api__h_export(struct api_req *r)
{
    static const char *const known[] = {"format", "lang", NULL};
    char *out = NULL, disp[96], target[32];
    size_t len = 0;
    enum ot_err rc;
    const char *ctype, *ext;
    if (api__query_check(r, known))
        return;
    const char *fmt = api__query(r, "format");
    if (!fmt)
        fmt = "bundle";
    if (strcmp(fmt, "pdf") == 0) {
        api__h_export_pdf(r); /* report_route.c */
        return;
    }
    if (api__query(r, "lang")) {
        api__reply_error(r, 400, "invalid_parameter", "lang: only with format=pdf");
        return;
    }
    struct api_db *d = api__req_db(r);
    if (strcmp(fmt, "epcis") == 0) {
        ctype = "application/ld+json";
        ext = "jsonld";
    } else if (strcmp(fmt, "bundle") == 0) {
        ctype = "application/json";
        ext = "json";
    } else if (strcmp(fmt, "csv") == 0) {
        ctype = "text/csv; charset=utf-8";
        ext = "csv";
    } else {
        api__reply_error(r, 400, "invalid_parameter", "format: expected epcis, bundle, csv or pdf");
        return;
    }
    cJSON *ship = api__shipment_load(r, d, r->path_id, NULL, 0, NULL, 0);
    if (!ship)
        return;
    cJSON_Delete(ship);
    if (strcmp(fmt, "epcis") == 0)
        rc = ot_ledger_export_epcis(d->sql, r->path_id, &out, &len);
    else if (strcmp(fmt, "bundle") == 0)
        rc = ot_ledger_export_bundle(d->sql, r->path_id, &out, &len);
    else
        rc = ot_ledger_export_csv(d->sql, r->path_id, &out, &len);
    if (rc || !out) {
        free(out);
        api__reply_error(r, 500, "internal", "export %s: %s", fmt, ot_strerror(rc));
        return;
    }
    snprintf(disp, sizeof disp, "attachment; filename=\"shipment-%lld-%s.%s\"",
             (long long)r->path_id, fmt, ext);
    snprintf(target, sizeof target, "shipment/%lld", (long long)r->path_id);
    cJSON *au = cJSON_CreateObject();
    if (au) {
        cJSON_AddStringToObject(au, "format", fmt);
        cJSON_AddNumberToObject(au, "bytes", (double)len);
        if (api__audit(d, &r->who, "export", target, au)) /* one statement: its own commit */
            ot_warn("export not audited shipment=%lld", (long long)r->path_id);
        cJSON_Delete(au);
    }
    api__reply_bytes(r, 200, ctype, out, len, disp);
    free(out);
}
