# organtrack-api unit tests (issue 5): request parsing and validation helpers,
# route matching. They link api_core (dashboard-api/).
ot_unit_test(test_api_validate)
target_link_libraries(test_api_validate PRIVATE api_core)
ot_unit_test(test_api_routes)
target_link_libraries(test_api_routes PRIVATE api_core)
ot_unit_test(test_api_din)
target_link_libraries(test_api_din PRIVATE api_core)
