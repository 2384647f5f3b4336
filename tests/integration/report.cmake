# shipment report (issue 13): the fixture's PDF through poppler-utils and qpdf
ot_py_test(integration.report_pdf report_pdf.py)
if(OT_SANITIZE) # see tests/sanitizers/lsan-fontconfig.supp
  set_property(TEST integration.report_pdf APPEND PROPERTY ENVIRONMENT
    "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/sanitizers/lsan-fontconfig.supp"
    "ASAN_OPTIONS=fast_unwind_on_malloc=0")
endif()
