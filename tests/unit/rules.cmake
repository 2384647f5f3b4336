# Unit tests of the preservation rules (collector/rules) and the profile
# loader (common/ot_preservation.c). Each replays hours of reading time in ms.
if(TARGET collector_rules)
  foreach(t test_rules_temp test_rules_clock test_rules_eta test_rules_device test_rules_silence
          test_rules_state test_rules_progress
          test_rules_invariants)
    ot_unit_test(${t})
    target_link_libraries(${t} PRIVATE collector_rules)
  endforeach()
endif()
ot_unit_test(test_legs)
ot_unit_test(test_preservation)
target_compile_definitions(test_preservation PRIVATE
  OT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
