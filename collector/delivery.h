/* delivery.h - the end-to-end ack to the gateways (delivery.c): per
 * container the ack, the set of stored or declared-lost seqs above it, the
 * seq gaps and declared losses in seq_gaps, the ack baseline of a container
 * never seen, loading all of it from the database, and publishing acks
 * after COMMIT. Also the worker's container registry. Called by store.c
 * (per message) and worker.c (per transaction); calls neither. */
#ifndef COLLECTOR_DELIVERY_H
#define COLLECTOR_DELIVERY_H

#include "ingest.h"

enum ot_err delivery__prepare(struct ingest *in);
/* Frees the containers (the statements belong to the connection). */
void delivery__close(struct ingest *in);

/* The container named `name`, created (with its alarms state) on first
 * use. NULL: out of memory. */
struct container *delivery__container(struct ingest *in, const char *name);
/* Loads the delivery state of every known container (at start, or after a
 * failed commit: forgets what the rolled-back transaction taught). Rules
 * and shipment state are kept. */
enum ot_err delivery__load(struct ingest *in);
/* Forgets the delivery state without reading it again (every container
 * unknown: no ack leaves until delivery__load succeeds). */
void delivery__forget(struct ingest *in);

/* A readings batch for a container whose baseline is pending: remembers its
 * lowest seq (sets the baseline at once when baseline_wait_s is 0). No-op
 * for a known container. */
enum ot_err delivery__pending(struct ingest *in, struct container *c, const struct ot_batch *b);
/* Records the batch's declared-lost ranges (seq_gaps, the set, gaps they
 * skip). */
enum ot_err delivery__lost(struct ingest *in, struct container *c, const struct ot_batch *b);
/* Reading `seq` was stored (not a duplicate): gaps, hi, max_seq, the set. */
enum ot_err delivery__stored(struct ingest *in, struct container *c, int64_t seq);
/* Advances the ack over the set (after a batch, for a known container). */
void delivery__advance_ack(struct container *c);
/* A gateway state message named `seq` (it no longer holds any seq <= seq):
 * the baseline of a new container, or an ack moved up. */
enum ot_err delivery__state_seq(struct ingest *in, struct container *c, int64_t seq);
/* Sets the baseline of every container that waited baseline_wait_s for a
 * state message in vain (first seq received minus one). */
enum ot_err delivery__baselines_due(struct ingest *in);

/* After COMMIT: publishes (retained) every ack that moved; all: every
 * known ack (after a reconnection). */
void delivery__publish_acks(struct ingest *in, int all);

#endif
