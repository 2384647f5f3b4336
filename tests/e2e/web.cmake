# Web dashboard (issue 5). web_i18n: every key in kk, ru and en (node).
# web_dashboard: a real headless Chromium (Debian's chromium, driven by
# playwright-core) against the running collector + API with mosquitto;
# exits 77 (skipped) only when organtrack-api or organtrack-collector is not
# built. Screenshots land in <build>/tests/artefacts/.
find_program(OT_NODE_E2E NAMES node nodejs)
if(OT_NODE_E2E)
  add_test(NAME web_i18n COMMAND ${OT_NODE_E2E} ${PROJECT_SOURCE_DIR}/dashboard-api/web/tools/check-i18n.mjs)
  set_tests_properties(web_i18n PROPERTIES LABELS "unit;web" TIMEOUT 60)
  # the model functions the views use (radio state, sparkline, current leg,
  # check-in answer, server state), in node
  add_test(NAME web_model COMMAND ${OT_NODE_E2E} ${PROJECT_SOURCE_DIR}/tests/e2e/web_model.mjs)
  set_tests_properties(web_model PROPERTIES LABELS "unit;web" TIMEOUT 60)
endif()
ot_e2e_test(web_dashboard web_dashboard.py DATABASE)
# the same flow over HTTPS (SPEC v1.1 "HTTPS"): the test CA's certificate,
# Chromium trusting its key only, no mixed content
ot_e2e_test(web_dashboard_https web_dashboard.py --https)
# web_layout: one API request per coordinator refresh, planned legs, the
# crew's check-in and reperfusion, and the layout (no overlapping blocks,
# nothing beyond the window's width) of four views at 1366x900, 1920x1080
# and 390x844, in Chromium against the real system
ot_e2e_test(web_layout web_layout.py DATABASE)
foreach(t web_dashboard web_dashboard.pg web_dashboard_https web_layout web_layout.pg)
  if(TEST ${t})
    set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT
      "OT_ARTEFACTS=${CMAKE_BINARY_DIR}/tests/artefacts;OT_NODE=${OT_NODE_E2E}")
    set_tests_properties(${t} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 180)
  endif()
endforeach()
