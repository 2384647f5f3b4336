# device profiles (register maps from users and vendors) -> ot_profile_load + codec
ot_fuzz_target(fuzz_profile fuzz_profile.c)
# scenario files (routes, thermal model, faults; written by users) -> scenario__load
if(TARGET sensors_core)
  ot_fuzz_target(fuzz_scenario fuzz_scenario.c sensors_core)
endif()
