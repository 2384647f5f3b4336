# Gateway integration tests: real mosquitto, pymodbus 3.0 as an independent
# Modbus server (TCP, and RTU over a pty pair), the built organtrack-gateway.
ot_py_test(gateway.profiles gateway_profiles.py)
ot_py_test(gateway.outage gateway_outage.py)
ot_py_test(gateway.faults gateway_faults.py)
ot_py_test(gateway.ackstall gateway_ackstall.py)
ot_py_test(gateway.sensors gateway_sensors.py)
ot_py_test(gateway.tls gateway_tls.py)
ot_py_test(gateway.clock gateway_clock.py)
set_tests_properties(gateway.clock PROPERTIES SKIP_RETURN_CODE 77)
ot_py_test(gateway.alarm gateway_alarm.py)
ot_py_test(gateway.flight gateway_flight.py)
ot_py_test(gateway.spool gateway_spool.py)
ot_py_test(gateway.limits gateway_limits.py)
