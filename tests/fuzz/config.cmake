# program config files (operators write them) -> each program's config__load
if(TARGET gateway_core)
  ot_fuzz_target(fuzz_gateway_config fuzz_gateway_config.c gateway_core)
endif()
if(TARGET collector_core)
  ot_fuzz_target(fuzz_collector_config fuzz_collector_config.c collector_core)
endif()
