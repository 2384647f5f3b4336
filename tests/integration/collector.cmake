# Collector integration tests (issue 4): real mosquitto, real influxd.
ot_py_test(integration.collector_ingest collector_ingest.py DATABASE)
ot_py_test(integration.collector_kill collector_kill.py DATABASE)
ot_py_test(integration.collector_influx collector_influx.py DATABASE)
ot_py_test(integration.collector_alarm_late collector_alarm_late.py DATABASE)
ot_py_test(integration.collector_influx_v2 collector_influx_v2.py DATABASE)
ot_py_test(integration.collector_events_trim collector_events_trim.py DATABASE)
ot_py_test(integration.collector_disk_full collector_disk_full.py DATABASE)
