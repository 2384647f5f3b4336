# sensors: device profiles (common/ot_profile.c) and the scenario model.
ot_unit_test(test_profile)
target_compile_definitions(test_profile PRIVATE OT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
