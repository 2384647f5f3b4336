# custody bundles (files handed to auditors) -> ot_ledger_verify_bundle
ot_fuzz_target(fuzz_bundle fuzz_bundle.c)
