# device profiles (register maps from users and vendors) -> ot_profile_load + codec
ot_fuzz_target(fuzz_profile fuzz_profile.c)
