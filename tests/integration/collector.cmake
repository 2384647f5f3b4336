# Collector integration tests (issue 4): real mosquitto, real influxd.
ot_py_test(integration.collector_ingest collector_ingest.py)
ot_py_test(integration.collector_kill collector_kill.py)
ot_py_test(integration.collector_influx collector_influx.py)
ot_py_test(integration.collector_alarm_late collector_alarm_late.py)
ot_py_test(integration.collector_influx_v2 collector_influx_v2.py)
ot_py_test(integration.collector_events_trim collector_events_trim.py)
ot_py_test(integration.collector_disk_full collector_disk_full.py)
