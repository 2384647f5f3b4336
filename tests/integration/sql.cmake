# ot_sql, the storage interface, on PostgreSQL (unit.test_sql covers SQLite).
ot_py_test(integration.sql_postgres sql_postgres.py)
