# custody ledger (issue 6): common/ot_ledger*.c. The trail the tests use is
# built by test_ledger_trail.c on SQLite, or on the PostgreSQL that
# OT_TEST_DATABASE names (integration.ledger_postgres).
ot_unit_test(test_ledger ${PROJECT_SOURCE_DIR}/tests/unit/test_ledger_trail.c)
target_link_libraries(test_ledger PRIVATE m)
set_tests_properties(unit.test_ledger PROPERTIES TIMEOUT 120)

# the ledger on ot_sql: statements prepared once; concurrent appends (PostgreSQL)
ot_unit_test(test_ledger_sql ${PROJECT_SOURCE_DIR}/tests/unit/test_ledger_trail.c)

# builds a database with a real trail for tests/integration/ledger_*.py
add_executable(test_ledger_fixture ${PROJECT_SOURCE_DIR}/tests/unit/test_ledger_fixture.c
                                   ${PROJECT_SOURCE_DIR}/tests/unit/test_ledger_trail.c)
target_link_libraries(test_ledger_fixture PRIVATE ot ot_warnings)

# the shipment and custody state machine: common/ot_trail.c
ot_unit_test(test_trail)
