# The test harness itself (tests/lib/ottest.py): ports that cannot collide,
# the clock offset it follows under libfaketime.
ot_py_test(integration.harness harness.py)
ot_py_test(integration.harness_postgres harness_postgres.py)
