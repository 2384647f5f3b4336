# sensors: device profiles (common/ot_profile.c) and the scenario model.
ot_unit_test(test_profile)
target_compile_definitions(test_profile PRIVATE OT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
ot_unit_test(test_scenario)
target_link_libraries(test_scenario PRIVATE sensors_core)
target_compile_definitions(test_scenario PRIVATE OT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
