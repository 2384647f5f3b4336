/* receipt.c - the journey's end (SPEC v1.1): the check-in at the receiving
 * centre and reperfusion, run inside the custody POST's transaction
 * (custody.c) after the ledger entry is appended.
 *
 * checkin: the receiver states what the label says (`verify`), with a
 * witness. The statement is stored as stated, in the ledger entry's
 * comment ("label read: donation_code=… profile=… laterality=… abo=…"),
 * never corrected. Each field that differs from the shipment is named
 * ("laterality (label left, shipment right)"); any difference raises the
 * critical alarm `identity_mismatch` (an alarms row the API writes: the
 * collector has no rule for it and leaves it to people) and opens an
 * incident, due five days later. It is never silently accepted.
 *
 * reperfused: ends cold ischaemia at `at` (default now; at most 6 h in the
 * past, not before the cross-clamp): shipments.ischemia_ended_at, which the
 * shipment object shows as ischemia.ended_at and total_min, and which the
 * collector's ischaemia rules stop at. */
#include "api.h"

#include <stdio.h>
#include <string.h>

#include "ot_log.h"
#include "ot_time.h"

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

void api__checkin_text(const struct api_custody_in *in, const char *mismatch, char *buf, size_t len)
{
    snprintf(buf, len,
             "label read: donation_code=%s profile=%s laterality=%s abo=%s%s%.200s%s%.500s",
             in->v_donation_code, in->v_profile, in->v_laterality[0] ? in->v_laterality : "-",
             in->v_abo[0] ? in->v_abo : "-", mismatch[0] ? "; MISMATCH: " : "; matches", mismatch,
             in->comment[0] ? "; " : "", in->comment);
}

static void differs(char *out, size_t len, const char *name, const char *label, const char *ship)
{
    size_t n = strlen(out);
    if (!strcmp(label, ship) || n >= len)
        return;
    snprintf(out + n, len - n, "%s%s (label %s, shipment %s)", n ? "; " : "", name,
             label[0] ? label : "-", ship[0] ? ship : "-");
}

int api__checkin_compare(const cJSON *ship, const struct api_custody_in *in, char *mismatch,
                         size_t len)
{
    mismatch[0] = '\0';
    differs(mismatch, len, "donation_code", in->v_donation_code, str(ship, "donation_code"));
    differs(mismatch, len, "profile", in->v_profile, str(ship, "profile"));
    differs(mismatch, len, "laterality", in->v_laterality, str(ship, "laterality"));
    differs(mismatch, len, "abo", in->v_abo, str(ship, "abo"));
    return mismatch[0] != '\0';
}

int api__checkin_effects(struct api_req *r, struct api_db *d, const char *container,
                         const char *mismatch, int64_t entry_index)
{
    char msg[192], source[48];
    int64_t now = ot_time_now_ms(), alarm = 0, incident = 0;
    int row = 0;
    if (!mismatch[0])
        return 0;
    snprintf(msg, sizeof msg, "identity mismatch at check-in: %.150s", mismatch);
    struct ot_sql_stmt *st = api__stmt(d, ST_ALARM_INSERT);
    enum ot_err rc = st ? OT_OK : OT_ERR_IO;
    if (!rc && !(rc = ot_sql_bind_int64(st, 1, r->path_id)) &&
        !(rc = ot_sql_bind_text(st, 2, container, -1)) &&
        !(rc = ot_sql_bind_text(st, 3, "identity_mismatch", -1)) &&
        !(rc = ot_sql_bind_int64(st, 4, now)) && !(rc = ot_sql_bind_text(st, 5, msg, -1)) &&
        !(rc = ot_sql_step(st, &row)) && row)
        alarm = ot_sql_int64(st, 0);
    if (st)
        ot_sql_reset(st);
    snprintf(source, sizeof source, "custody/%lld/%lld", (long long)r->path_id,
             (long long)entry_index);
    if (!rc && alarm > 0)
        rc = api__incident_open(d, r->path_id, "identity_mismatch", source, msg, now, r->who.name,
                                &incident);
    cJSON *ev = !rc && alarm > 0 ? cJSON_CreateObject() : NULL;
    if (ev) {
        char at[32];
        cJSON_AddStringToObject(ev, "event", "alarm");
        cJSON_AddNumberToObject(ev, "id", (double)alarm);
        cJSON_AddStringToObject(ev, "container", container);
        cJSON_AddNumberToObject(ev, "shipment_id", (double)r->path_id);
        cJSON_AddStringToObject(ev, "type", "identity_mismatch");
        cJSON_AddStringToObject(ev, "change", "raised");
        cJSON_AddStringToObject(ev, "severity", "critical");
        cJSON_AddStringToObject(ev, "state", "raised");
        cJSON_AddStringToObject(ev, "at", ot_time_format_iso(now, at, sizeof at));
        cJSON_AddBoolToObject(ev, "late", 0);
        cJSON_AddStringToObject(ev, "message", msg);
        cJSON_AddNumberToObject(ev, "incident_id", (double)incident);
        rc = api__event(d, "alarm", r->path_id, container, ev);
        cJSON_Delete(ev);
    } else if (!rc) {
        rc = OT_ERR_NOMEM;
    }
    if (rc) {
        api__reply_error(r, 500, "internal",
                         "could not raise the identity mismatch; nothing was written, retry");
        return -1;
    }
    ot_warn("identity mismatch at check-in shipment=%lld alarm=%lld incident=%lld fields=\"%s\"",
            (long long)r->path_id, (long long)alarm, (long long)incident, mismatch);
    return 0;
}

int api__reperfused_effects(struct api_req *r, struct api_db *d, int64_t at)
{
    int row = 0;
    struct ot_sql_stmt *st = api__stmt(d, ST_SHIP_REPERFUSED);
    if (!st || ot_sql_bind_int64(st, 1, r->path_id) || ot_sql_bind_int64(st, 2, at) ||
        ot_sql_bind_int64(st, 3, ot_time_now_ms()) || ot_sql_step(st, &row)) {
        if (st)
            ot_sql_reset(st);
        api__reply_error(r, 500, "internal", "could not end cold ischaemia; nothing was written");
        return -1;
    }
    int64_t n = ot_sql_changes(st);
    ot_sql_reset(st);
    if (n != 1) {
        api__reply_error(r, 409, "conflict", "type: cold ischaemia has already ended");
        return -1;
    }
    return 0;
}

int api__custody_incidents(struct api_req *r, struct api_db *d, const char *type, int64_t deadline,
                           int64_t entry_index)
{
    char source[48], detail[160];
    int64_t now = ot_time_now_ms(), id = 0;
    const char *kind = NULL;
    if (!strcmp(type, "discarded")) {
        kind = "discarded";
        snprintf(detail, sizeof detail, "the organ was discarded");
    } else if ((!strcmp(type, "arrived") || !strcmp(type, "received") ||
                !strcmp(type, "checkin")) &&
               deadline > 0 && now > deadline) {
        kind = "arrived_too_late";
        snprintf(detail, sizeof detail, "%s %.0f min after the viability deadline", type,
                 (double)(now - deadline) / 60000.0);
    }
    if (!kind)
        return 0;
    /* one per shipment and kind: a late arrival and its reception are one event */
    snprintf(source, sizeof source, "shipment/%lld/%s", (long long)r->path_id, kind);
    (void)entry_index;
    if (api__incident_open(d, r->path_id, kind, source, detail, now, r->who.name, &id)) {
        api__reply_error(r, 500, "internal", "could not open the incident; nothing was written");
        return -1;
    }
    return 0;
}
