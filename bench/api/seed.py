"""Seeds an organtrack database for the API benchmark: N active shipments
(half created, half in transit), each with a few readings and some with an
alarm, written directly with SQL as the collector and the API would."""
import sqlite3
import sys
import time

db, n = sys.argv[1], int(sys.argv[2])
now = int(time.time() * 1000)
con = sqlite3.connect(db)
con.execute("BEGIN")
for i in range(n):
    container = f"BENCH-{i:05d}"
    cur = con.execute(
        "INSERT INTO shipments (container, profile, donation_code, cross_clamp_at, origin_name,"
        " origin_lat, origin_lon, dest_name, dest_lat, dest_lon, mode, status, created_at,"
        " created_by, updated_at) VALUES (?, 'kidney', ?, ?, 'Oral', 51.2, 51.37, 'Astana',"
        " 51.13, 71.43, 'mixed', ?, ?, 'bench', ?)",
        (container, f"DIN-{i:06d}", now - 3600_000 - i * 1000,
         "in_transit" if i % 2 else "created", now, now))
    sid = cur.lastrowid
    for s in range(1, 6):
        ts = now - (6 - s) * 1000
        con.execute(
            "INSERT INTO readings (container, seq, gateway, boot, ts, received_at, shipment_id,"
            " temp_c, temp2_c, ambient_c, lat, lon, speed_kmh, lid_open, battery_pct, gnss_fix)"
            " VALUES (?, ?, 'gw', 1, ?, ?, ?, 4.2, 4.3, 21.0, 51.2, 60.0, 80.0, 0, 90, 3)",
            (container, s, ts, ts, sid))
    if i % 10 == 0:
        con.execute(
            "INSERT INTO alarms (shipment_id, container, type, severity, state, raised_at,"
            " message, updated_at) VALUES (?, ?, 'temp_high', 'critical', 'raised', ?,"
            " 'temperature above band', ?)", (sid, container, now, now))
con.commit()
con.close()
