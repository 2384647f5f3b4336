# custody ledger (issue 6): organtrack-ledger offline, EPCIS schema check
ot_py_test(ledger_cli ledger_cli.py)
