/* ot_trail.c - the shipment and custody state machine (ot_trail.h): status
 * names, the operator's status changes, what custody entries do to the
 * status, and which entries the trail takes next. */
#include "ot_trail.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const status_names[OT_TRAIL_S_COUNT] = {
    [OT_TRAIL_S_CREATED] = OT_TRAIL_CREATED,     [OT_TRAIL_S_IN_TRANSIT] = OT_TRAIL_IN_TRANSIT,
    [OT_TRAIL_S_DELIVERED] = OT_TRAIL_DELIVERED, [OT_TRAIL_S_CLOSED] = OT_TRAIL_CLOSED,
    [OT_TRAIL_S_DISCARDED] = OT_TRAIL_DISCARDED,
};

const char *const ot_trail_entry_types[] = {
    OT_TRAIL_PACKED,     OT_TRAIL_HANDOFF, OT_TRAIL_DEPARTED,   OT_TRAIL_ARRIVED,
    OT_TRAIL_RECEIVED,   OT_TRAIL_OPENED,  OT_TRAIL_DISCARDED,  OT_TRAIL_NOTE,
    OT_TRAIL_REDIRECTED, OT_TRAIL_CHECKIN, OT_TRAIL_REPERFUSED, NULL};

static int is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

const char *ot_trail_status_name(enum ot_trail_status s)
{
    return (unsigned)s < OT_TRAIL_S_COUNT ? status_names[s] : NULL;
}

int ot_trail_status_parse(const char *name)
{
    for (int i = 0; i < OT_TRAIL_S_COUNT; i++)
        if (is(name, status_names[i]))
            return i;
    return -1;
}

int ot_trail_status_is_open(const char *name)
{
    return is(name, OT_TRAIL_CREATED) || is(name, OT_TRAIL_IN_TRANSIT);
}

int ot_trail_status_is_final(const char *name)
{
    return is(name, OT_TRAIL_CLOSED) || is(name, OT_TRAIL_DISCARDED);
}

int ot_trail_transition_ok(const char *from, const char *to)
{
    /* [from][to]: the changes an operator may make (docs/api.md) */
    static const unsigned char ok[OT_TRAIL_S_COUNT][OT_TRAIL_S_COUNT] = {
        [OT_TRAIL_S_CREATED] =
            {[OT_TRAIL_S_IN_TRANSIT] = 1, [OT_TRAIL_S_CLOSED] = 1, [OT_TRAIL_S_DISCARDED] = 1},
        [OT_TRAIL_S_IN_TRANSIT] = {[OT_TRAIL_S_DELIVERED] = 1, [OT_TRAIL_S_DISCARDED] = 1},
        [OT_TRAIL_S_DELIVERED] = {[OT_TRAIL_S_CLOSED] = 1, [OT_TRAIL_S_DISCARDED] = 1},
    };
    int f = ot_trail_status_parse(from), t = ot_trail_status_parse(to);
    return f >= 0 && t >= 0 && ok[f][t];
}

const char *ot_trail_custody_status(const char *type, const char *cur)
{
    if (is(type, OT_TRAIL_DEPARTED) && is(cur, OT_TRAIL_CREATED))
        return OT_TRAIL_IN_TRANSIT;
    if (is(type, OT_TRAIL_RECEIVED) && (is(cur, OT_TRAIL_IN_TRANSIT) || is(cur, OT_TRAIL_CREATED)))
        return OT_TRAIL_DELIVERED;
    if (is(type, OT_TRAIL_DISCARDED) && ot_trail_status_parse(cur) >= 0 &&
        !ot_trail_status_is_final(cur))
        return OT_TRAIL_DISCARDED;
    return NULL;
}

int ot_trail_entry_type_stored(const char *type)
{
    return ot_trail_entry_type_known(type) || is(type, OT_TRAIL_SIGNED);
}

int ot_trail_meaning_known(const char *meaning)
{
    return is(meaning, "released") || is(meaning, "reviewed") || is(meaning, "rejected");
}

int ot_trail_entry_type_known(const char *type)
{
    for (int i = 0; ot_trail_entry_types[i]; i++)
        if (is(type, ot_trail_entry_types[i]))
            return 1;
    return 0;
}

void ot_trail_seq_apply(struct ot_trail_seq *s, const char *type, int64_t ts)
{
    if (is(type, OT_TRAIL_DEPARTED)) {
        s->in_transit = 1;
        s->departed = 1;
    } else if (is(type, OT_TRAIL_ARRIVED)) {
        s->in_transit = 0;
    } else if (is(type, OT_TRAIL_RECEIVED)) {
        s->in_transit = 0;
        s->received = 1;
    } else if (is(type, OT_TRAIL_DISCARDED)) {
        s->discarded = 1;
    } else if (is(type, OT_TRAIL_REPERFUSED)) {
        s->reperfused = 1;
    }
    s->last_ts = ts;
    s->count++;
}

static int blank(const char *s)
{
    if (!s)
        return 1;
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0';
}

int ot_trail_same_party(const char *a, const char *b)
{
    size_t la, lb;
    if (blank(a) || blank(b))
        return 0;
    while (*a == ' ' || *a == '\t')
        a++;
    while (*b == ' ' || *b == '\t')
        b++;
    la = strlen(a);
    lb = strlen(b);
    while (la && (a[la - 1] == ' ' || a[la - 1] == '\t'))
        la--;
    while (lb && (b[lb - 1] == ' ' || b[lb - 1] == '\t'))
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

static enum ot_err refuse(enum ot_err rc, char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum ot_err refuse(enum ot_err rc, char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    if (why && len) {
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

enum ot_err ot_trail_entry_check(int64_t shipment, const char *status, const struct ot_trail_seq *s,
                                 const struct ot_trail_entry *e, char *why, size_t whylen)
{
    const char *t = e->type;
    const enum ot_err no = OT_ERR_CONFLICT, bad = OT_ERR_INVAL;
    if (!ot_trail_entry_type_stored(t))
        return refuse(bad, why, whylen, "type must be one of " OT_TRAIL_ENTRY_TYPES_TEXT);
    if (ot_trail_status_parse(status) < 0)
        return refuse(no, why, whylen, "shipment %lld has no known status", (long long)shipment);
    if (is(t, OT_TRAIL_SIGNED)) {
        /* a signature is about the trail, not a movement of the organ: a
         * closed or discarded trail still takes it, in time order */
        if (s->count > 0 && e->ts < s->last_ts)
            return refuse(no, why, whylen, "event time is before the previous entry's time");
        return OT_OK;
    }
    if (ot_trail_status_is_final(status))
        return refuse(no, why, whylen, "shipment %lld is %s: its custody trail is closed",
                      (long long)shipment, status);
    if (s->discarded)
        return refuse(no, why, whylen,
                      "the organ was discarded: no custody events after 'discarded'");
    if (s->count > 0 && e->ts < s->last_ts)
        return refuse(no, why, whylen, "event time is before the previous entry's time");
    if (ot_trail_same_party(e->from, e->to))
        return refuse(no, why, whylen,
                      "'from' and 'to' are the same party: custody cannot pass to itself");
    if (!blank(e->witness) &&
        (ot_trail_same_party(e->witness, e->from) || ot_trail_same_party(e->witness, e->to)))
        return refuse(
            no, why, whylen,
            "the witness must be a second person, not the party handing over or receiving");
    if (is(t, OT_TRAIL_HANDOFF)) {
        if (blank(e->from) || blank(e->to))
            return refuse(bad, why, whylen, "a hand-off names both 'from' and 'to'");
        if (blank(e->witness))
            return refuse(
                bad, why, whylen,
                "a hand-off needs a 'witness' who verified label and seal (two-person check)");
    } else if (is(t, OT_TRAIL_DEPARTED)) {
        if (s->in_transit)
            return refuse(no, why, whylen, "departed twice without an arrival in between");
        if (s->received)
            return refuse(no, why, whylen, "the organ was already received at its destination");
    } else if (is(t, OT_TRAIL_ARRIVED)) {
        if (!s->in_transit)
            return refuse(no, why, whylen, "arrived before departed");
    } else if (is(t, OT_TRAIL_REDIRECTED)) {
        if (!ot_trail_status_is_open(status) || s->received)
            return refuse(no, why, whylen,
                          "shipment %lld is %s: only a shipment on its way can be redirected",
                          (long long)shipment, s->received ? "received" : status);
        if (blank(e->from) || blank(e->to))
            return refuse(bad, why, whylen, "a redirect names the old and the new destination");
    } else if (is(t, OT_TRAIL_CHECKIN)) {
        if (blank(e->witness))
            return refuse(bad, why, whylen,
                          "a check-in needs a 'witness' who read the label too (two-person check)");
    } else if (is(t, OT_TRAIL_REPERFUSED)) {
        if (s->reperfused)
            return refuse(no, why, whylen, "reperfused twice: cold ischaemia has already ended");
    } else if (is(t, OT_TRAIL_RECEIVED)) {
        if (!s->departed)
            return refuse(no, why, whylen, "received before departed");
        if (s->received)
            return refuse(no, why, whylen, "the organ was already received");
    }
    return OT_OK;
}
