# organtrack-sensors against an independent Modbus client (pymodbus).
ot_py_test(integration.sensors_tcp sensors_tcp.py)
ot_py_test(integration.sensors_rtu sensors_rtu.py)
ot_py_test(integration.sensors_faults sensors_faults.py)
ot_py_test(integration.sensors_cli sensors_cli.py)
