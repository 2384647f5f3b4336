# Gateway unit tests (the spool is the heart: see docs/internals/spool.md).
ot_unit_test(test_spool)
target_link_libraries(test_spool PRIVATE gateway_core)
ot_unit_test(test_gateway_config)
target_link_libraries(test_gateway_config PRIVATE gateway_core)
target_compile_definitions(test_gateway_config PRIVATE OT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
