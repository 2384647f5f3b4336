/* paging.c - keyset paging shared by every list endpoint: ?limit= and
 * ?cursor= parsing, filling one page from a statement, and the
 * {"items":[...],"next":cursor|null} envelope. A cursor is the last key
 * returned ("id", or "ts.seq" for readings, or the next bucket start for
 * down-sampled readings), so pages stay stable while rows are inserted. */
#include "api.h"

cJSON *api__page(cJSON *items, const char *next)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        cJSON_Delete(items);
        return NULL;
    }
    cJSON_AddItemToObject(o, "items", items);
    if (next)
        cJSON_AddStringToObject(o, "next", next);
    else
        cJSON_AddNullToObject(o, "next");
    return o;
}

int api__page_args(struct api_req *r, int64_t def, int64_t max, int64_t *limit, int64_t *ca,
                   int64_t *cb)
{
    if (api__parse_limit(api__query(r, "limit"), def, max, limit)) {
        api__reply_error(r, 400, "invalid_parameter", "limit: expected an integer 1..%lld",
                         (long long)max);
        return -1;
    }
    const char *cur = api__query(r, "cursor");
    if (cur && api__parse_cursor(cur, ca, cb)) {
        api__reply_error(r, 400, "invalid_parameter", "cursor: not a cursor from this list");
        return -1;
    }
    return cur != NULL;
}

int api__page_fill(struct api_req *r, struct ot_sql_stmt *st, int64_t limit, cJSON *items,
                   int *more, api_page_row_fn row, void *arg)
{
    int64_t n = 0;
    int have = 0;
    enum ot_err rc;
    *more = 0;
    while (!(rc = ot_sql_step(st, &have)) && have) {
        if (n == limit) {
            *more = 1;
            break;
        }
        cJSON *o = row(st, arg);
        if (!o || !cJSON_AddItemToArray(items, o)) {
            cJSON_Delete(o);
            rc = OT_ERR_NOMEM;
            break;
        }
        n++;
    }
    ot_sql_reset(st);
    if (rc) {
        cJSON_Delete(items);
        api__reply_error(r, 500, "internal", "database query failed"); /* 503 if lost */
        return -1;
    }
    return 0;
}
