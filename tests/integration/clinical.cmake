# Issue 12, the clinical journey: an honest ETA (replayed on reading time
# through the real collector), planned legs and redirects, receipt.
ot_py_test(integration.clinical_eta clinical_eta.py DATABASE)
ot_py_test(integration.clinical_redirect clinical_redirect.py DATABASE)
ot_py_test(integration.clinical_receipt clinical_receipt.py DATABASE)
ot_py_test(integration.clinical_silence clinical_silence.py DATABASE)
ot_py_test(integration.clinical_progress clinical_progress.py DATABASE)
