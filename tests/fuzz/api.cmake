# organtrack-api request parsing (HTTP bodies, query parameters, paths) ->
# dashboard-api/validate.c and routes.c. api_core is instrumented for
# coverage in the fuzz build.
if(TARGET api_core)
  ot_fuzz_target(fuzz_api_request fuzz_api_request.c api_core)
  target_compile_options(api_core PRIVATE -fsanitize=fuzzer-no-link)
endif()
