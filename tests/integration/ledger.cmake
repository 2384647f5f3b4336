# custody ledger (issue 6): organtrack-ledger offline, EPCIS schema check
ot_py_test(integration.ledger_cli ledger_cli.py)
# end to end through organtrack-api (custody POST, export, offline verify)
ot_py_test(integration.ledger_api ledger_api.py)
# the ledger's unit test on a private PostgreSQL (unit.test_ledger: SQLite)
ot_py_test(integration.ledger_postgres ledger_postgres.py)
# the same trail on SQLite and PostgreSQL: same verify, same exports (issue 10)
ot_py_test(integration.ledger_backends ledger_backends.py)
