/* report_route.c - GET /api/v1/shipments/{id}/export?format=pdf&lang=..:
 * the shipment report as an A4 PDF (SPEC v1.1, issue 13). The model is
 * read in one read transaction (report_load.c), rendered without the
 * database (report_pdf_render), sent as an attachment with its SHA-256 in
 * X-Content-SHA256, and the export is audited with format, lang and hash.
 * The same trail in the same language gives the same bytes
 * (docs/internals/report.md "Determinism"). */
#include "api.h"
#include "report.h"
#include "report_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_log.h"
#include "ot_sql.h"

/* One consistent snapshot for every read of the report: SQLite's deferred
 * BEGIN, PostgreSQL's repeatable-read read-only transaction. */
static enum ot_err begin_snapshot(struct api_db *d)
{
    if (ot_sql_kind(d->sql) == OT_SQL_SQLITE)
        return api__db_begin_read(d);
    enum ot_err rc = ot_sql_exec(d->sql, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    d->in_tx = rc == OT_OK;
    return rc;
}

void api__h_export_pdf(struct api_req *r)
{
    static const char *const langs = "kk, ru or en";
    struct api_report_data rd;
    enum report_lang lang;
    unsigned char *pdf = NULL;
    size_t len = 0;
    char hex[65], disp[96], target[32];
    const char *lname = api__query(r, "lang");
    if (!lname)
        lname = "kk"; /* docs/api.md: the deployment's language */
    if (report_lang_parse(lname, &lang)) {
        api__reply_error(r, 400, "invalid_parameter", "lang: expected %s", langs);
        return;
    }
    struct api_db *d = api__req_db(r);
    if (begin_snapshot(d)) {
        api__reply_error(r, 503, "busy", "cannot begin a read transaction, retry");
        return;
    }
    cJSON *ship = api__shipment_load(r, d, r->path_id, NULL, 0, NULL, 0);
    if (!ship) {
        api__db_rollback(d);
        return;
    }
    cJSON_Delete(ship);
    enum ot_err rc = api__report_load(r->ctx, d, r->path_id, &rd);
    api__db_rollback(d); /* read only: nothing to commit */
    if (rc) {
        api__report_load_free(&rd);
        if (rc == OT_ERR_TOOBIG)
            api__reply_error(r, 422, "rejected", "the shipment is too large for a report");
        else
            api__reply_error(r, 500, "internal", "report: %s", ot_strerror(rc));
        return;
    }
    rc = report_pdf_render(&rd.m, lang, NULL, &pdf, &len);
    api__report_load_free(&rd);
    if (!rc)
        rc = report_pdf_sha256_hex(pdf, len, hex);
    if (rc) {
        free(pdf);
        api__reply_error(r, rc == OT_ERR_TOOBIG ? 422 : 500,
                         rc == OT_ERR_TOOBIG ? "rejected" : "internal", "report: %s",
                         ot_strerror(rc));
        return;
    }
    snprintf(disp, sizeof disp, "attachment; filename=\"shipment-%lld-report-%s.pdf\"",
             (long long)r->path_id, lname);
    snprintf(target, sizeof target, "shipment/%lld", (long long)r->path_id);
    cJSON *au = cJSON_CreateObject();
    if (au) {
        cJSON_AddStringToObject(au, "format", "pdf");
        cJSON_AddStringToObject(au, "lang", lname);
        cJSON_AddStringToObject(au, "sha256", hex);
        cJSON_AddNumberToObject(au, "bytes", (double)len);
        if (api__audit(d, &r->who, "export", target, au)) /* one statement: its own commit */
            ot_warn("export not audited shipment=%lld", (long long)r->path_id);
        cJSON_Delete(au);
    }
    api__reply_bytes(r, 200, "application/pdf", (const char *)pdf, len, disp);
    api__reply_header(r, "X-Content-SHA256", hex);
    free(pdf);
}
