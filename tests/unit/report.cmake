# shipment report (issue 13): dashboard-api/report_*.c on the heart fixture
ot_unit_test(test_report ${PROJECT_SOURCE_DIR}/tests/tools/report_fixture.c)
target_include_directories(test_report PRIVATE ${PROJECT_SOURCE_DIR}/tests/tools)
target_link_libraries(test_report PRIVATE api_report m)
set_tests_properties(unit.test_report PROPERTIES TIMEOUT 120)

# writes the fixture's PDF for tests/integration/report_pdf.py and bench/report.sh
add_executable(render_report ${PROJECT_SOURCE_DIR}/tests/tools/render_report.c
                             ${PROJECT_SOURCE_DIR}/tests/tools/report_fixture.c)
target_include_directories(render_report PRIVATE ${PROJECT_SOURCE_DIR}/tests/tools)
target_link_libraries(render_report PRIVATE api_report ot_core m ot_warnings)

# Under ASan: fontconfig's once-per-process default configuration is not
# ours to free (tests/sanitizers/lsan-fontconfig.supp says why).
if(OT_SANITIZE)
  set_property(TEST unit.test_report APPEND PROPERTY ENVIRONMENT
    "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/sanitizers/lsan-fontconfig.supp"
    "ASAN_OPTIONS=fast_unwind_on_malloc=0")
endif()
