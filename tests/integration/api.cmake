# organtrack-api integration tests (issue 5): a real organtrack-api on a free
# port with a temp database. api_common.py is the shared set-up, not a test.
ot_py_test(integration.api_access api_access.py DATABASE)
ot_py_test(integration.api_validation api_validation.py DATABASE)
ot_py_test(integration.api_sse api_sse.py DATABASE)
ot_py_test(integration.api_token_cli api_token_cli.py DATABASE)
ot_py_test(integration.api_metrics api_metrics.py DATABASE)
ot_py_test(integration.api_close api_close.py DATABASE)
ot_py_test(integration.api_sse_reset api_sse_reset.py DATABASE)
ot_py_test(integration.api_https api_https.py DATABASE)
# Prometheus and Grafana (issue 11): promtool on a live /metrics, Prometheus
# scraping with docs/prometheus.yml, the Grafana dashboard's queries
ot_py_test(integration.api_prometheus api_prometheus.py DATABASE)
set_tests_properties(integration.api_prometheus PROPERTIES SKIP_RETURN_CODE 77)
# docs/openapi.yaml against the running API's answers (tests/openapi: npm validators)
ot_py_test(integration.api_openapi api_openapi.py DATABASE)
