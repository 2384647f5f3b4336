/* readings.h - the batched insert into table readings (readings.c): every
 * reading of a group of messages in one go, ON CONFLICT (container, seq)
 * DO NOTHING, telling which rows were new. SQLite: a prepared insert in a
 * loop; PostgreSQL: one INSERT ... SELECT FROM unnest(...) RETURNING per
 * group, the columns travelling as array literals. Called by store.c inside
 * the open transaction; calls nothing of the worker. */
#ifndef COLLECTOR_READINGS_H
#define COLLECTOR_READINGS_H

#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"
#include "ot_reading.h"
#include "ot_sql.h"
#include "sql.h"

/* Most rows in one statement (a message holds at most
 * OT_BATCH_MAX_READINGS). */
#define READINGS_GROUP_MAX 2000
/* array parameters of the PostgreSQL insert: 7 columns, the channels, missing, extra */
#define READINGS_ARRAYS (7 + OT_CH__COUNT + 2)

struct reading_row {
    const char *container, *gateway;
    int64_t boot, shipment; /* shipment 0: NULL */
    const struct ot_reading *r;
    int late;
    int clock_future; /* ts more than clock_skew_max_s after its receive time */
    int stored;       /* out: 1 if this row was inserted (a new (container, seq)) */
};

struct readings {
    struct ot_sql *db;
    struct ot_sql_stmt *st_one, *st_many, *st_flag_future;
    struct sql_arr cols[READINGS_ARRAYS];
    size_t *slots; /* PostgreSQL: hash of (container, seq) -> row index */
    size_t n_slots;
};

enum ot_err readings__open(struct readings *rd, struct ot_sql *db);
void readings__close(struct readings *rd);
/* Inserts rows[0..n) (n <= READINGS_GROUP_MAX) with received_at = now and
 * sets each row's `stored`; a (container, seq) given twice is stored by
 * its first row only. */
/* Marks a stored reading clock_future = 1 (rare: a gateway clock ahead). */
enum ot_err readings__flag_future(struct readings *rd, const char *container, int64_t seq);
enum ot_err readings__insert(struct readings *rd, struct reading_row *rows, size_t n, int64_t now);

#endif
