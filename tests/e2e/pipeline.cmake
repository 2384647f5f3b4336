ot_e2e_test(e2e.pipeline pipeline.py DATABASE)
