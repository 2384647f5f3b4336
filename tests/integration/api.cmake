# organtrack-api integration tests (issue 5): a real organtrack-api on a free
# port with a temp database. api_common.py is the shared set-up, not a test.
ot_py_test(integration.api_access api_access.py)
ot_py_test(integration.api_validation api_validation.py)
ot_py_test(integration.api_sse api_sse.py)
ot_py_test(integration.api_token_cli api_token_cli.py)
ot_py_test(integration.api_metrics api_metrics.py)
ot_py_test(integration.api_close api_close.py)
ot_py_test(integration.api_sse_reset api_sse_reset.py)
