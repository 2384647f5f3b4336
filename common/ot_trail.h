/* ot_trail.h - the shipment and custody state machine, in one place (issue
 * 10): the shipment statuses and their names, which status changes an
 * operator may make, which custody entry types move the status where,
 * which entry types are possible given the status and the trail so far,
 * and which statuses count as open. Used by the ledger's append
 * (common/ot_ledger_append.c), the API (PATCH of a shipment, custody POST)
 * and the collector (the open shipment of a container). Pure rules: no
 * storage, no I/O, no allocation. docs/internals/ledger.md has the tables.
 *
 *   created --departed--> in_transit --received--> delivered --> closed
 *      |  \--received (arrival implied)-----------/   |
 *      \---------------- discarded <------------------/
 */
#ifndef OT_TRAIL_H
#define OT_TRAIL_H

#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"

/* ---------------------------------------------------------- statuses */

/* shipments.status, as stored (the schemas' CHECK lists the same words) */
#define OT_TRAIL_CREATED "created"
#define OT_TRAIL_IN_TRANSIT "in_transit"
#define OT_TRAIL_DELIVERED "delivered"
#define OT_TRAIL_CLOSED "closed"
#define OT_TRAIL_DISCARDED "discarded"

enum ot_trail_status {
    OT_TRAIL_S_CREATED,
    OT_TRAIL_S_IN_TRANSIT,
    OT_TRAIL_S_DELIVERED,
    OT_TRAIL_S_CLOSED,
    OT_TRAIL_S_DISCARDED,
    OT_TRAIL_S_COUNT
};

/* The open statuses (a shipment on its way: the collector attaches a
 * container's readings and alarms to it, and a container has at most one)
 * as an SQL list, for `status IN (" OT_TRAIL_OPEN_SQL ")`. Constants of
 * this header, not values: safe in the text of a prepared statement. */
#define OT_TRAIL_OPEN_SQL "'" OT_TRAIL_CREATED "','" OT_TRAIL_IN_TRANSIT "'"

/* The name of s; NULL out of range. */
const char *ot_trail_status_name(enum ot_trail_status s);
/* The status named name; -1 for an unknown or NULL name. */
int ot_trail_status_parse(const char *name);
/* created, in_transit (the statuses of OT_TRAIL_OPEN_SQL) */
int ot_trail_status_is_open(const char *name);
/* closed, discarded: the custody trail is closed, it takes no entries */
int ot_trail_status_is_final(const char *name);

/* May an operator change the status from `from` to `to` (PATCH)? Closing
 * and discarding also seal the trail (the API appends a note first). */
int ot_trail_transition_ok(const char *from, const char *to);

/* The status a custody entry of `type` moves a shipment in status `cur`
 * to, or NULL when it stays: departed created -> in_transit; received
 * created|in_transit -> delivered; discarded (not yet closed) -> discarded. */
const char *ot_trail_custody_status(const char *type, const char *cur);

/* ----------------------------------------------------- custody entries */

#define OT_TRAIL_PACKED "packed"
#define OT_TRAIL_HANDOFF "handoff"
#define OT_TRAIL_DEPARTED "departed"
#define OT_TRAIL_ARRIVED "arrived"
#define OT_TRAIL_RECEIVED "received"
#define OT_TRAIL_OPENED "opened"
#define OT_TRAIL_NOTE "note"
/* An electronic signature (SPEC v1.1, issue 13): appended only through
 * POST /signatures after the signer's PIN was checked, never through a
 * custody POST, so it is not in ot_trail_entry_types. The one entry a closed
 * or discarded trail still takes. */
#define OT_TRAIL_SIGNED "signed"
/* Its meanings (custody.meaning). */
#define OT_TRAIL_MEANINGS_TEXT "released, reviewed, rejected"
int ot_trail_meaning_known(const char *meaning);
/* a new destination (PATCH of destination/legs): from = old, to = new */
#define OT_TRAIL_REDIRECTED "redirected"
/* at the receiving centre: the label as read by the receiver and a witness */
#define OT_TRAIL_CHECKIN "checkin"
/* first anastomosis / reperfusion: cold ischaemia ends */
#define OT_TRAIL_REPERFUSED "reperfused"
/* OT_TRAIL_DISCARDED ("discarded") is both an entry type and a status */

/* The entry types at which people handle the container with its lid open
 * on purpose (packing, the label and seal check of a hand-off, opening,
 * reception), as an SQL list: the collector's lid rule tolerates an open
 * lid for a while after the latest of them, `type IN (" OT_TRAIL_HANDLING_SQL ")`. */
#define OT_TRAIL_HANDLING_SQL                                                                      \
    "'" OT_TRAIL_HANDOFF "','" OT_TRAIL_PACKED "','" OT_TRAIL_OPENED "','" OT_TRAIL_RECEIVED "'"

/* Every entry type, NULL-terminated, in the order of the SPEC. */
extern const char *const ot_trail_entry_types[];
/* The same list as text, for messages. */
#define OT_TRAIL_ENTRY_TYPES_TEXT                                                                  \
    "packed, handoff, departed, arrived, received, opened, discarded, note, redirected, "          \
    "checkin, reperfused"
int ot_trail_entry_type_known(const char *type);
/* Every type the ledger stores: the custody types and `signed`. */
int ot_trail_entry_type_stored(const char *type);

/* Where a trail stands, from its entries so far: start zeroed and apply
 * every entry in index order. */
struct ot_trail_seq {
    int in_transit; /* departed and not yet arrived or received */
    int departed;   /* departed at least once */
    int received;
    int discarded;
    int reperfused;
    int64_t count;   /* entries */
    int64_t last_ts; /* time of the last entry */
};
void ot_trail_seq_apply(struct ot_trail_seq *s, const char *type, int64_t ts);

/* The parts of a new entry the rules look at (NULL or blank = absent). */
struct ot_trail_entry {
    const char *type;
    const char *from, *to, *witness;
    int64_t ts;
};

/* Is entry e possible now, for shipment `shipment` in status `status`
 * whose trail stands at s? OT_OK; OT_ERR_CONFLICT when it is not possible
 * in this state (closed trail, after discarded, arrived before departed,
 * departed twice, received twice or before departed, a time before the
 * previous entry's, the same party on both sides, a witness who is a
 * party); OT_ERR_INVAL when it is malformed for its type (unknown type,
 * a hand-off without from, to or witness). A `signed` entry is possible in
 * every status, after close and after discarded too; only the time order
 * applies to it. The reason goes to why (the
 * API's 409/422 text). */
enum ot_err ot_trail_entry_check(int64_t shipment, const char *status, const struct ot_trail_seq *s,
                                 const struct ot_trail_entry *e, char *why, size_t whylen);

/* Party names are the same ignoring case and surrounding blanks. */
int ot_trail_same_party(const char *a, const char *b);

#endif
