/* feed.h - the rows of table events (the API's live change feed) that the
 * open transaction appends: 'reading' events (store.c) and 'alarm' events
 * (alarms.c), in the order they happened. They are buffered and written
 * together (feed__flush): on SQLite a prepared insert in a loop, on
 * PostgreSQL one INSERT ... SELECT FROM unnest(...) per flush, so a batch
 * of readings costs one round trip for its events. A failed flush fails
 * the transaction; a rollback drops the buffer (feed__drop). Worker thread
 * only; calls nothing of the worker. */
#ifndef COLLECTOR_FEED_H
#define COLLECTOR_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"
#include "ot_sql.h"
#include "sql.h"

struct feed_row {
    const char *kind; /* static: "reading", "alarm" */
    int64_t shipment; /* 0: NULL */
    char *container;  /* owned */
    char *payload;    /* owned */
};

struct feed {
    struct ot_sql *db;
    struct ot_sql_stmt *st_one;  /* SQLite: one row */
    struct ot_sql_stmt *st_many; /* PostgreSQL: unnest */
    struct feed_row *rows;
    size_t n, cap, bytes;
    struct sql_arr kind, ship, ctr, pay;
};

enum ot_err feed__open(struct feed *f, struct ot_sql *db);
void feed__close(struct feed *f);
/* Appends an event (copies container and payload); flushes first when the
 * buffer is large. OT_ERR_NOMEM or the flush's error fails the transaction. */
enum ot_err feed__add(struct feed *f, const char *kind, int64_t shipment, const char *container,
                      const char *payload, int64_t now);
/* Writes the buffered events with ts = now. */
enum ot_err feed__flush(struct feed *f, int64_t now);
/* After ROLLBACK: forgets the buffer. */
void feed__drop(struct feed *f);

#endif
