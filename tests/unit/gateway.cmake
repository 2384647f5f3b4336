# Gateway unit tests (the spool is the heart: see docs/internals/spool.md).
ot_unit_test(test_spool)
target_link_libraries(test_spool PRIVATE gateway_core)
