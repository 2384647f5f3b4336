"""A standards-conforming Modbus server for the gateway tests: pymodbus 3.0
(an implementation independent of libmodbus and of organtrack-sensors).

    gateway_mbserver.py --tcp PORT SPEC.json
    gateway_mbserver.py --rtu /dev/pts/N SPEC.json

SPEC.json: {"unit":1, "delay_ms":0, "input":{"0":421,...}, "holding":{...},
"discrete":{"0":1}, "coil":{...}} - protocol (0-based) addresses. The file is
re-read when it changes, so a test can move values while the server runs;
delay_ms makes every answer late (a slow device).
"""
import asyncio
import json
import logging
import os
import sys
import time

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server import StartAsyncSerialServer, StartAsyncTcpServer
from pymodbus.transaction import ModbusRtuFramer

SIZE = 1024
TABLES = {"coil": "co", "discrete": "di", "holding": "hr", "input": "ir"}


class Spec:
    def __init__(self, path):
        self.path, self.mtime, self.data = path, None, {}
        self.reload()

    def reload(self):
        try:
            m = os.stat(self.path).st_mtime_ns
        except OSError:
            return
        if m == self.mtime:
            return
        try:
            with open(self.path) as f:
                self.data = json.load(f)
            self.mtime = m
        except ValueError:
            pass  # half-written: next call retries


class Block(ModbusSequentialDataBlock):
    def __init__(self, spec, table):
        super().__init__(0, [0] * SIZE)
        self.spec, self.table = spec, table

    def getValues(self, address, count=1):
        self.spec.reload()
        d = self.spec.data.get("delay_ms", 0)
        if d:
            time.sleep(d / 1000.0)
        vals = self.spec.data.get(self.table, {})
        return [int(vals.get(str(a), 0)) & 0xFFFF for a in range(address, address + count)]

    def validate(self, address, count=1):
        return 0 <= address and address + count <= SIZE


def main():
    mode, where, spec_path = sys.argv[1], sys.argv[2], sys.argv[3]
    logging.basicConfig(level=logging.ERROR)
    spec = Spec(spec_path)
    store = ModbusSlaveContext(zero_mode=True, **{k: Block(spec, t) for t, k in TABLES.items()})
    unit = spec.data.get("unit", 1)
    ctx = ModbusServerContext(slaves={unit: store}, single=False)
    if mode == "--tcp":
        # SO_REUSEADDR, as every server does: ottest.free_port() leaves the
        # port in TIME_WAIT so that no other pick can take it
        asyncio.run(StartAsyncTcpServer(context=ctx, address=("127.0.0.1", int(where)),
                                        allow_reuse_address=True))
    else:
        asyncio.run(StartAsyncSerialServer(context=ctx, framer=ModbusRtuFramer, port=where,
                                           baudrate=spec.data.get("baud", 19200),
                                           timeout=0.005))


if __name__ == "__main__":
    main()
