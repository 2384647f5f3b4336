# custody ledger (issue 6): common/ot_ledger*.c
ot_unit_test(test_ledger ${PROJECT_SOURCE_DIR}/tests/unit/test_ledger_trail.c)
target_link_libraries(test_ledger PRIVATE m)
set_tests_properties(unit.test_ledger PROPERTIES TIMEOUT 120)

# builds a database with a real trail for tests/integration/ledger_cli.py
add_executable(test_ledger_fixture ${PROJECT_SOURCE_DIR}/tests/unit/test_ledger_fixture.c
                                   ${PROJECT_SOURCE_DIR}/tests/unit/test_ledger_trail.c)
target_link_libraries(test_ledger_fixture PRIVATE ot ot_warnings)
