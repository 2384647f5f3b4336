# shipment report (issue 13): the fixture's PDF through poppler-utils and qpdf
ot_py_test(integration.report_pdf report_pdf.py)
if(OT_SANITIZE) # see tests/sanitizers/lsan-fontconfig.supp
  set_property(TEST integration.report_pdf APPEND PROPERTY ENVIRONMENT
    "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/sanitizers/lsan-fontconfig.supp"
    "ASAN_OPTIONS=fast_unwind_on_malloc=0")
endif()
# issue 13 through the API: the PDF export of a replayed shipment, and the
# electronic signatures (both backends). The API renders PDFs, so under ASan
# it needs the fontconfig suppression too.
ot_py_test(integration.api_report api_report.py DATABASE)
ot_py_test(integration.api_signatures api_signatures.py DATABASE)
if(OT_SANITIZE)
  foreach(t integration.api_report integration.api_report.pg integration.api_signatures
      integration.api_signatures.pg)
    if(TEST ${t})
      set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT
        "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/sanitizers/lsan-fontconfig.supp"
        "ASAN_OPTIONS=fast_unwind_on_malloc=0")
    endif()
  endforeach()
endif()
