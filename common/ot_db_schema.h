#ifndef OT_DB_SCHEMA_H
#define OT_DB_SCHEMA_H
/* NULL-terminated; migration N (1-based) is ot_db_migrations[N-1], itself a
 * NULL-terminated list of SQL texts run in one transaction. */
extern const char *const *const ot_db_migrations[];
#endif
