# custody bundles (files handed to auditors) -> ot_ledger_verify_bundle
ot_fuzz_target(fuzz_bundle fuzz_bundle.c)

# libFuzzer is blind to code without coverage instrumentation: the parsers
# live in libot, so instrument it too, all three of its libraries
# (common/CMakeLists.txt; fuzz build only; harmless for the other fuzz
# targets, which gain coverage feedback as well).
get_property(_ot_fuzz_cov GLOBAL PROPERTY OT_FUZZ_LIBOT_INSTRUMENTED)
if(NOT _ot_fuzz_cov)
  foreach(_ot_lib ot_core ot_ledger ot)
    target_compile_options(${_ot_lib} PRIVATE -fsanitize=fuzzer-no-link)
  endforeach()
  set_property(GLOBAL PROPERTY OT_FUZZ_LIBOT_INSTRUMENTED ON)
endif()
