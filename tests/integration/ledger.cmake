# custody ledger (issue 6): organtrack-ledger offline, EPCIS schema check
ot_py_test(integration.ledger_cli ledger_cli.py DATABASE)
# end to end through organtrack-api (custody POST, export, offline verify)
ot_py_test(integration.ledger_api ledger_api.py DATABASE)
# The two below start their own PostgreSQL (and SQLite), so they run once:
# the ledger's unit tests on a private PostgreSQL (unit.test_ledger*: SQLite)
ot_py_test(integration.ledger_postgres ledger_postgres.py)
# the same trail on SQLite and PostgreSQL: same verify, same exports (issue 10)
ot_py_test(integration.ledger_backends ledger_backends.py)
