/* outbox.h - what a worker transaction produces besides its rows: counter
 * deltas, InfluxDB lines and webhook bodies. They are collected while the
 * transaction is open and leave only after COMMIT (outbox__send), or are
 * thrown away with a ROLLBACK (outbox__drop). Worker thread only; store.c,
 * alarms.c and worker.c write into it, nothing in it calls back. */
#ifndef COLLECTOR_OUTBOX_H
#define COLLECTOR_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "collector.h"
#include "lineproto.h"

struct counter_delta {
    char name[24];
    char label[40];
    int64_t delta;
};
#define COUNTERS_MAX 64
#define PENDING_HOOKS_MAX 256

struct outbox {
    struct influx *ix;  /* NULL: no InfluxDB, no lines */
    struct webhook *wh; /* NULL: no webhooks, bodies are freed */
    struct counter_delta counters[COUNTERS_MAX];
    size_t n_counters;
    struct lineproto lp; /* Influx lines of the open transaction */
    char *hooks[PENDING_HOOKS_MAX];
    const char *hook_kinds[PENDING_HOOKS_MAX]; /* static: "alarm", "progress" */
    size_t n_hooks;
};

void outbox__init(struct outbox *ob, struct influx *ix, struct webhook *wh);
void outbox__free(struct outbox *ob);
/* Adds n to counter (name, label); bounded, labels come from fixed sets. */
void outbox__count(struct outbox *ob, const char *name, const char *label, int64_t n);
/* Takes body (malloc'd) for the webhooks; frees it when there are none,
 * counts webhooks/dropped when the outbox is full. */
void outbox__hook(struct outbox *ob, char *body);
/* The same for a webhook event kind other than "alarm" (kind: static). */
void outbox__hook_kind(struct outbox *ob, const char *kind, char *body);
/* The line buffer to build InfluxDB lines in, NULL without InfluxDB. */
struct lineproto *outbox__lines(struct outbox *ob);
/* The line buffer is full: hands its complete lines to the writer now. */
void outbox__spill_lines(struct outbox *ob);
/* Adds the writer threads' counts (influx, webhooks) to the deltas. */
void outbox__take_writer_counts(struct outbox *ob);
/* The deltas are written (in the transaction): forget them. */
void outbox__counters_done(struct outbox *ob);
/* After COMMIT: lines to the InfluxDB writer, bodies to the webhooks. */
void outbox__send(struct outbox *ob);
/* After ROLLBACK: forgets deltas, lines and bodies. */
void outbox__drop(struct outbox *ob);

#endif
