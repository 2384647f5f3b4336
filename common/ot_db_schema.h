/* ot_db_schema.h - the numbered migrations, written once per backend
 * (ot_db_schema_sqlite.c, ot_db_schema_pg.c). Both lists have the same
 * length: migration N means the same tables on either backend, so one
 * schema version number describes a database whatever it runs on.
 * Columns keep the same names and the same kinds of values (epoch ms as
 * 64-bit integers, booleans as 0/1 integers, JSON as text), so the queries
 * are the same SQL on both. */
#ifndef OT_DB_SCHEMA_H
#define OT_DB_SCHEMA_H
/* NULL-terminated; migration N (1-based) is [N-1], itself a NULL-terminated
 * list of SQL texts run in one transaction. */
extern const char *const *const ot_db_migrations_sqlite[];
extern const char *const *const ot_db_migrations_pg[];
#endif
