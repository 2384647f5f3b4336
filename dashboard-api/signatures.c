/* signatures.c - POST /api/v1/shipments/{id}/signatures (SPEC v1.1,
 * 21 CFR 11.50 / 11.200): {"meaning":"released"|"reviewed"|"rejected",
 * "statement":"...","pin":"..."}. The printed name is the token's name, the
 * role its role, the time the server's; the PIN (signer.c) is the second
 * factor. A right PIN appends a `signed` ledger entry (possible after close:
 * ot_trail), its event and its audit row in one transaction; a wrong PIN
 * answers 403 wrong_pin and is audited and counted; five wrong PINs within
 * 15 minutes answer 429 signer_locked (with Retry-After) for 15 minutes.
 * The PIN is checked before the write transaction begins (the KDF takes a
 * tenth of a second and must not hold the database's write lock); the
 * lock-out is read again inside it. The PIN is never logged or audited. */
#include "api.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "ot_ledger.h"
#include "ot_log.h"
#include "ot_time.h"
#include "ot_trail.h"

#define STATEMENT_MAX 1000

struct sig_in {
    char meaning[16];
    char statement[STATEMENT_MAX + 1];
    char pin[API_PIN_MAX + 1];
};

/* 0 and in filled, or -1 after replying 400 */
static int parse(struct api_req *r, struct sig_in *in)
{
    static const char *const known[] = {"meaning", "statement", "pin", NULL};
    cJSON *body = api__body_json(r);
    if (!body)
        return -1;
    int bad = api__body_check(r, body, known);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "meaning");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(body, "statement");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "pin");
    if (bad) {
        /* replied */
    } else if (!cJSON_IsString(m) || !ot_trail_meaning_known(m->valuestring)) {
        api__reply_error(r, 400, "invalid_field", "meaning: expected " OT_TRAIL_MEANINGS_TEXT);
        bad = 1;
    } else if (!cJSON_IsString(s) || !s->valuestring[0] ||
               !api__text_valid(s->valuestring, STATEMENT_MAX)) {
        api__reply_error(r, 400, "invalid_field",
                         "statement: 1..%d characters of text, no control characters",
                         STATEMENT_MAX);
        bad = 1;
    } else if (!cJSON_IsString(p) || strlen(p->valuestring) > API_PIN_MAX) {
        api__reply_error(r, 400, "invalid_field", "pin: a string of at most %d characters",
                         API_PIN_MAX);
        bad = 1;
    } else {
        snprintf(in->meaning, sizeof in->meaning, "%s", m->valuestring);
        snprintf(in->statement, sizeof in->statement, "%s", s->valuestring);
        snprintf(in->pin, sizeof in->pin, "%s", p->valuestring);
    }
    if (cJSON_IsString(p))
        OPENSSL_cleanse(p->valuestring, strlen(p->valuestring));
    cJSON_Delete(body);
    return bad ? -1 : 0;
}

static void audit_refusal(struct api_req *r, struct api_db *d, const char *target,
                          const char *reason, const char *meaning)
{
    cJSON *au = cJSON_CreateObject();
    if (au) {
        cJSON_AddStringToObject(au, "reason", reason);
        cJSON_AddStringToObject(au, "meaning", meaning);
    }
    if (!au || api__audit(d, &r->who, "signature.refused", target, au))
        ot_warn("signature refusal not audited shipment=%lld", (long long)r->path_id);
    cJSON_Delete(au);
}

static void reply_locked(struct api_req *r, int64_t until, int64_t now)
{
    char iso[40], retry[24];
    ot_time_format_iso(until, iso, sizeof iso);
    api__reply_error(r, 429, "signer_locked",
                     "%d wrong PINs within %d minutes: signing is locked until %s",
                     API_PIN_MAX_FAILURES, API_PIN_WINDOW_MS / 60000, iso);
    snprintf(retry, sizeof retry, "%lld", (long long)((until - now + 999) / 1000));
    api__reply_header(r, "Retry-After", retry);
}

/* The checks before the transaction; 1 = the PIN is right, 0 = replied. */
static int check_pin(struct api_req *r, struct api_db *d, const struct sig_in *in,
                     const char *target)
{
    struct api_signer sg;
    int64_t now = ot_time_now_ms(), until = 0;
    if (api__signer_locked(d, r->who.name, now, &until)) {
        api__reply_error(r, 500, "internal", "cannot read the signer's state");
        return 0;
    }
    if (until) {
        audit_refusal(r, d, target, "locked", in->meaning);
        reply_locked(r, until, now);
        return 0;
    }
    enum ot_err rc = api__signer_get(d, r->who.name, &sg);
    if (rc == OT_ERR_NOTFOUND) {
        audit_refusal(r, d, target, "no_pin", in->meaning);
        api__reply_error(r, 403, "pin_not_set",
                         "%s has no signing PIN: an admin sets one with"
                         " organtrack-api signer set",
                         r->who.name);
        return 0;
    }
    if (rc) {
        api__reply_error(r, 500, "internal", "cannot read the signer");
        return 0;
    }
    int ok = api__signer_pin_ok(&sg, in->pin);
    if (ok < 0) {
        api__reply_error(r, 500, "internal", "the stored signing PIN cannot be checked");
        return 0;
    }
    if (ok)
        return 1;
    /* wrong: counted and audited together */
    if (api__db_begin(d) || api__signer_fail(d, r->who.name, now)) {
        api__db_rollback(d);
        api__reply_error(r, 500, "internal", "cannot record the failed attempt");
        return 0;
    }
    audit_refusal(r, d, target, "wrong_pin", in->meaning);
    if (api__db_commit(d))
        ot_error("failed signing attempt not recorded shipment=%lld", (long long)r->path_id);
    ot_warn("signature refused: wrong PIN shipment=%lld by=%s", (long long)r->path_id, r->who.name);
    if (!api__signer_locked(d, r->who.name, now, &until) && until) {
        reply_locked(r, until, now);
        return 0;
    }
    api__reply_error(r, 403, "wrong_pin",
                     "the signing PIN is wrong; %d wrong PINs within %d"
                     " minutes lock signing for %d minutes",
                     API_PIN_MAX_FAILURES, API_PIN_WINDOW_MS / 60000, API_PIN_LOCK_MS / 60000);
    return 0;
}

void api__h_signatures(struct api_req *r)
{
    struct sig_in in;
    char target[32], status[16], container[65], why[256] = "";
    cJSON *entry = NULL;
    int64_t until = 0;
    memset(&in, 0, sizeof in);
    if (parse(r, &in))
        goto out;
    snprintf(target, sizeof target, "shipment/%lld", (long long)r->path_id);
    struct api_db *d = api__req_db(r);
    cJSON *ship = api__shipment_load(r, d, r->path_id, NULL, 0, NULL, 0);
    if (!ship)
        goto out;
    cJSON_Delete(ship);
    if (!check_pin(r, d, &in, target))
        goto out;
    OPENSSL_cleanse(in.pin, sizeof in.pin);
    if (api__req_begin(r))
        goto out;
    if (api__shipment_lock(r, d, r->path_id))
        goto rollback;
    ship = api__shipment_load(r, d, r->path_id, container, sizeof container, status, sizeof status);
    if (!ship)
        goto rollback;
    cJSON_Delete(ship);
    /* a lock-out that began while the PIN was checked (parallel attempts) */
    int64_t now = ot_time_now_ms();
    if (api__signer_locked(d, r->who.name, now, &until) || until) {
        if (until)
            reply_locked(r, until, now);
        else
            api__reply_error(r, 500, "internal", "cannot read the signer's state");
        goto rollback;
    }
    struct ot_custody_input ci = {
        .type = OT_TRAIL_SIGNED,
        .actor_name = r->who.name,
        .actor_role = api__role_name(r->who.role),
        .comment = in.statement,
        .meaning = in.meaning,
        .ts = now,
    };
    enum ot_err rc =
        ot_ledger_append(d->sql, r->ctx->key, r->path_id, &ci, &entry, why, sizeof why);
    if (rc == OT_ERR_CONFLICT || rc == OT_ERR_INVAL || rc == OT_ERR_RANGE) {
        api__reply_error(r, rc == OT_ERR_CONFLICT ? 409 : 422,
                         rc == OT_ERR_CONFLICT ? "conflict" : "rejected", "%s",
                         why[0] ? why : "the ledger refused the signature");
        goto rollback;
    }
    if (rc || !entry) {
        api__reply_error(r, 500, "internal", "ledger: %s", why[0] ? why : ot_strerror(rc));
        goto rollback;
    }
    cJSON *ev = cJSON_CreateObject();
    cJSON *au = cJSON_CreateObject();
    int ok = ev && au;
    if (ok) {
        const cJSON *idx = cJSON_GetObjectItemCaseSensitive(entry, "index");
        cJSON_AddStringToObject(ev, "change", "appended");
        cJSON_AddNumberToObject(ev, "shipment_id", (double)r->path_id);
        cJSON_AddItemToObject(ev, "entry", cJSON_Duplicate(entry, 1));
        cJSON_AddStringToObject(au, "type", OT_TRAIL_SIGNED);
        cJSON_AddStringToObject(au, "meaning", in.meaning);
        if (cJSON_IsNumber(idx))
            cJSON_AddNumberToObject(au, "index", idx->valuedouble);
        ok = api__signer_clear(d, r->who.name) == OT_OK &&
             api__event(d, "custody", r->path_id, container, ev) == OT_OK &&
             api__audit(d, &r->who, "signature", target, au) == OT_OK;
    }
    cJSON_Delete(ev);
    cJSON_Delete(au);
    if (!ok) {
        api__reply_error(r, 500, "internal", "the signature could not be stored; retry");
        goto rollback;
    }
    if (api__req_commit(r))
        goto out;
    ot_info("signature appended shipment=%lld meaning=%s by=%s", (long long)r->path_id, in.meaning,
            r->who.name);
    api__reply_json(r, 201, entry);
    entry = NULL;
    goto out;
rollback:
    api__req_rollback(r);
out:
    OPENSSL_cleanse(in.pin, sizeof in.pin);
    cJSON_Delete(entry);
}
