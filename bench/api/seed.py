"""Seeds an organtrack database for the API benchmark: N active shipments
(half created, half in transit), each with a few readings and some with an
alarm, written directly with SQL as the collector and the API would.
The database is a SQLite path or a postgresql:// URI (the API's schema must
exist: the API's `token create` has migrated it)."""
import sys
import time

db, n = sys.argv[1], int(sys.argv[2])
now = int(time.time() * 1000)
if db.startswith(("postgresql://", "postgres://")):
    import psycopg2
    con = psycopg2.connect(db)
    cur = con.cursor()
    P = "%s"
else:
    import sqlite3
    con = sqlite3.connect(db)
    cur = con.cursor()
    cur.execute("BEGIN")
    P = "?"


def run(sql, args):
    cur.execute(sql.replace("?", P), args)


for i in range(n):
    container = f"BENCH-{i:05d}"
    run("INSERT INTO shipments (container, profile, donation_code, cross_clamp_at, origin_name,"
        " origin_lat, origin_lon, dest_name, dest_lat, dest_lon, mode, status, created_at,"
        " created_by, updated_at) VALUES (?, 'kidney', ?, ?, 'Oral', 51.2, 51.37, 'Astana',"
        " 51.13, 71.43, 'mixed', ?, ?, 'bench', ?) RETURNING id",
        (container, f"DIN-{i:06d}", now - 3600_000 - i * 1000,
         "in_transit" if i % 2 else "created", now, now))
    sid = cur.fetchone()[0]
    for s in range(1, 6):
        ts = now - (6 - s) * 1000
        run(
            "INSERT INTO readings (container, seq, gateway, boot, ts, received_at, shipment_id,"
            " temp_c, temp2_c, ambient_c, lat, lon, speed_kmh, lid_open, battery_pct, gnss_fix)"
            " VALUES (?, ?, 'gw', 1, ?, ?, ?, 4.2, 4.3, 21.0, 51.2, 60.0, 80.0, 0, 90, 3)",
            (container, s, ts, ts, sid))
    if i % 10 == 0:
        run(
            "INSERT INTO alarms (shipment_id, container, type, severity, state, raised_at,"
            " message, updated_at) VALUES (?, ?, 'temp_high', 'critical', 'raised', ?,"
            " 'temperature above band', ?)", (sid, container, now, now))
con.commit()
con.close()
