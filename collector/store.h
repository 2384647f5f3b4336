/* store.h - writing a batch's messages to the database (store.c): decodes
 * each message strictly (refusals counted, logged at most 20 a second),
 * inserts the readings (readings.c, once per (container, seq)), their
 * 'reading' events and InfluxDB lines, the gateway state, and the dirty
 * containers rows. Hands delivery bookkeeping to delivery.c and stored
 * readings to the rules (alarms.c). Runs inside the transaction worker.c
 * opened; any error fails that transaction. */
#ifndef COLLECTOR_STORE_H
#define COLLECTOR_STORE_H

#include "ingest.h"

enum ot_err store__prepare(struct ingest *in);
void store__close(struct ingest *in);
/* The drained messages (readings or state), in order. A refused message is
 * not an error (counted, skipped); an error fails the transaction. */
enum ot_err store__messages(struct ingest *in, const struct queue_msg *msgs, size_t n);
/* Writes the containers rows that changed (last_seen, max_seq, ack_seq). */
enum ot_err store__containers(struct ingest *in);

#endif
