/* store.h - writing a batch's messages to the database (store.c): decodes
 * each message strictly (refusals counted, logged at most 20 a second),
 * INSERT OR IGNORE each reading on (container, seq), its 'reading' event
 * and InfluxDB line, the gateway state, and the dirty containers rows.
 * Hands delivery bookkeeping to delivery.c and stored readings to the rules
 * (alarms.c). Runs inside the transaction worker.c opened. */
#ifndef COLLECTOR_STORE_H
#define COLLECTOR_STORE_H

#include "ingest.h"

enum ot_err store__prepare(struct ingest *in);
void store__close(struct ingest *in);
/* One received message (readings or state). A refused message is not an
 * error (OT_OK); an error fails the transaction. */
enum ot_err store__message(struct ingest *in, const struct queue_msg *m);
/* Writes the containers rows that changed (last_seen, max_seq, ack_seq). */
enum ot_err store__containers(struct ingest *in);

#endif
