/* alarms.h - shipments and alarms of the worker thread (alarms.c,
 * alarm_rows.c): finds each container's open shipment and profile, feeds
 * the preservation rules (collector/rules) and turns their events into
 * alarm rows, 'alarm' events, InfluxDB lines and webhook bodies (through
 * the caller's outbox and feed), notices acknowledgements the API writes,
 * and publishes each container's alarm list after COMMIT.
 *
 * Every write returns its error; the caller then rolls the transaction
 * back and calls alarms__rollback, which puts back the shipment and rules
 * state of every container the transaction touched (so a retried batch
 * raises its alarms again). alarms calls back into no other worker file:
 * what it needs (the connection and the feed at open, the transaction's
 * wall clock and outbox per call, the MQTT client) comes in as arguments.
 * Worker thread only. */
#ifndef COLLECTOR_ALARMS_H
#define COLLECTOR_ALARMS_H

#include <stdint.h>

#include "collector.h"
#include "feed.h"
#include "ot_preservation.h"
#include "ot_reading.h"
#include "ot_sql.h"
#include "outbox.h"

struct alarms;
struct alarms_ctr; /* one container's shipment, rules state and alarm list */

/* Loads the preservation profiles (file "" = none, rules off) and prepares
 * the statements on db; db and feed stay the caller's. */
enum ot_err alarms__open(struct ot_sql *db, struct feed *feed, const char *preservation,
                         struct alarms **out);
void alarms__close(struct alarms *a);
/* The preservation profiles loaded (NULL: none), for limits.c. */
const struct ot_preservation_set *alarms__profiles(const struct alarms *a);

/* Starts tracking container `name` (call once per container). NULL: out of
 * memory. The state lives until alarms__close. */
struct alarms_ctr *alarms__track(struct alarms *a, const char *name);
/* The container's open shipment (0 none) and its profile name ("" none),
 * as last read by alarms__refresh_shipment. */
int64_t alarms__shipment(const struct alarms_ctr *ac);
const char *alarms__profile(const struct alarms_ctr *ac);

/* How long a flight mode silence is trusted (config flight_overdue_s,
 * flight_max_s; collector/rules/rules_silence.c). */
void alarms__set_flight_limits(struct alarms *a, int64_t overdue_s, int64_t max_s);
/* The gateway's radio state from its state message (or the containers
 * row at load): flight 1 while it says flight:true, since when (epoch ms).
 * now: when it was learnt (a landing is remembered from then, so the
 * flight's silence opens no radio_silence incident; 0 at load). */
void alarms__radio(struct alarms_ctr *ac, int flight, int64_t since, int64_t now);

/* A transaction begins: the state each call below changes is saved first. */
void alarms__begin(struct alarms *a);
/* The transaction was rolled back: puts the saved state back. */
void alarms__rollback(struct alarms *a);
/* Forgets every container's shipment and rules state (another collector
 * wrote the database meanwhile): they are read again, open alarms
 * restored, on next use. */
void alarms__reset(struct alarms *a);

/* Re-reads the container's open shipment (rate-limited unless force). */
enum ot_err alarms__refresh_shipment(struct alarms *a, struct alarms_ctr *ac, int force);
/* Feeds a stored reading to the rules (no-op without rules or shipment).
 * now: wall clock of the open transaction. */
/* A stored reading's clock check: ahead=1 when its ts lies more than the
 * allowed skew after its receive time (ahead_ms: by how much). Raises the
 * shipment's one gateway_clock warning on the first such reading and clears
 * it on the next sane one; nothing is written while the state holds. */
enum ot_err alarms__clock(struct alarms *a, struct alarms_ctr *ac, int ahead, int64_t ahead_ms,
                          int64_t now, struct outbox *ob);
enum ot_err alarms__on_reading(struct alarms *a, struct alarms_ctr *ac, const struct ot_reading *r,
                               int late, int64_t now, struct outbox *ob);
/* Housekeeping inside the open transaction, for one container: refreshes
 * the shipment and ticks its rules. gateway_online: what the rules are told
 * about the gateway link. */
enum ot_err alarms__tick(struct alarms *a, struct alarms_ctr *ac, int gateway_online, int64_t now,
                         struct outbox *ob);
/* Writes each tracked shipment's projected arrival. */
enum ot_err alarms__update_eta(struct alarms *a, int64_t now);
/* Opens an incident of the internal control for ac's open shipment (none:
 * nothing), once per source ("lost/C/12-40"), due five days after now
 * (SPEC v1.1 "Incidents"; alarm_rows.c). In the open transaction. */
enum ot_err alarms__incident(struct alarms *a, struct alarms_ctr *ac, const char *kind,
                             const char *source, const char *detail, int64_t now);
/* Passes acknowledgements written by the API to the rules (once each). */
enum ot_err alarms__poll_acks(struct alarms *a, int64_t now);
/* After COMMIT: publishes the alarm list of every dirty container (all:
 * every container with a shipment, after a reconnection). m NULL: nothing. */
void alarms__publish_dirty(struct alarms *a, struct mqtt *m, const char *topic_root, int all);

#endif
