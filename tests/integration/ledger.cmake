# custody ledger (issue 6): organtrack-ledger offline, EPCIS schema check
ot_py_test(integration.ledger_cli ledger_cli.py DATABASE)
# end to end through organtrack-api (custody POST, export, offline verify)
ot_py_test(integration.ledger_api ledger_api.py DATABASE)
