/* sql.h - the two SQLite helpers every worker file uses: prepare a
 * statement for the connection's life, step one that returns no rows we
 * read. Both log sqlite3_errmsg on failure and return OT_ERR_DB. */
#ifndef COLLECTOR_SQL_H
#define COLLECTOR_SQL_H

#include <sqlite3.h>

#include "ot_err.h"

enum ot_err sql__prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql);
/* Steps once, then resets and clears the bindings. */
enum ot_err sql__step_done(sqlite3 *db, sqlite3_stmt *st);

#endif
