// Development only: serves dist/ and a small in-memory imitation of the
// organtrack-api endpoints the dashboard uses (SPEC "HTTP API"), so the UI
// can be worked on without the C programs. Tokens: "coordinator", "crew",
// "auditor". The committed browser test drives the real programs instead.
//   node tools/dev-server.mjs [port]
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join, dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const port = Number(process.argv[2] || 8099);
const now = Date.now();
const band = { temp_min_c: 2, temp_max_c: 8 };
const ships = [
  { id: 1, container: 'KZ-WKO-0001', profile: 'heart', donation_code: 'KZ0001 26 000123', mode: 'air', status: 'in_transit',
    cross_clamp_at: new Date(now - 95 * 60000).toISOString(), origin: { name: 'Oral Regional Hospital', lat: 51.2036, lon: 51.3703 },
    destination: { name: 'National Transplant Centre, Astana', lat: 51.13, lon: 71.43 }, limit: 240, path: [[51.37, 51.2], [71.43, 51.13]], temp: 4.3 },
  { id: 2, container: 'KZ-AKT-0002', profile: 'kidney', donation_code: 'KZ0002 26 000456', mode: 'ground', status: 'in_transit',
    cross_clamp_at: new Date(now - 300 * 60000).toISOString(), origin: { name: 'Aktobe', lat: 50.28, lon: 57.2 },
    destination: { name: 'Kostanay', lat: 53.21, lon: 63.62 }, limit: 1440, path: [[57.2, 50.28], [63.62, 53.21]], temp: 5.1 },
  { id: 3, container: 'KZ-ALA-0003', profile: 'liver', donation_code: 'KZ0003 26 000789', mode: 'mixed', status: 'in_transit',
    cross_clamp_at: new Date(now - 500 * 60000).toISOString(), origin: { name: 'Almaty', lat: 43.25, lon: 76.91 },
    destination: { name: 'Astana', lat: 51.13, lon: 71.43 }, limit: 720, path: [[76.91, 43.25], [71.43, 51.13]], temp: 9.4 },
];
const readings = new Map();
for (const s of ships) {
  const list = [];
  for (let i = 0; i < 90; i++) {
    const f = i / 89 * 0.6;
    list.push({ seq: i + 1, ts: now - (90 - i) * 60000, temp_c: +(s.temp - 0.8 + Math.sin(i / 9) * 0.6 + (s.id === 3 && i > 80 ? (i - 80) * 0.3 : 0)).toFixed(2),
      lat: s.path[0][1] + (s.path[1][1] - s.path[0][1]) * f, lon: s.path[0][0] + (s.path[1][0] - s.path[0][0]) * f });
  }
  readings.set(s.id, list);
}
const alarms = [{ id: 7, shipment: 3, type: 'temp_excursion', severity: 'critical', state: 'raised', raised_at: new Date(now - 6 * 60000).toISOString(), cleared_at: null, message: 'temp_c 9.4 > 8.0 for 300 s' }];
const custody = new Map(ships.map((s) => [s.id, []]));
function append(id, e, actor) {
  const list = custody.get(id);
  const prev = list.length ? list[list.length - 1].hash : '0'.repeat(64);
  const entry = { index: list.length, shipment: id, ts: new Date().toISOString(), actor, ...e, prev_hash: prev };
  entry.hash = createHash('sha256').update(JSON.stringify(entry)).digest('hex');
  list.push(entry);
  return entry;
}
for (const s of ships) append(s.id, { type: 'packed', seal: 'S-100' + s.id, comment: 'packed at donor hospital', temp_c: 4.0 }, { name: 'nurse-1', role: 'crew' });
append(1, { type: 'handoff', from: 'Ambulance 07', to: 'Medical aviation crew', witness: 'Dr. Seitkali', seal: 'S-1001', place: { lat: 51.15, lon: 51.54 } }, { name: 'crew-07', role: 'crew' });
const clients = new Set();
function emit(event, data) {
  for (const c of clients) c.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
setInterval(() => {
  for (const s of ships) {
    const list = readings.get(s.id);
    const last = list[list.length - 1];
    const r = { ...last, seq: last.seq + 1, ts: Date.now(), temp_c: +(last.temp_c + (Math.random() - 0.5) * 0.2).toFixed(2) };
    list.push(r);
    emit('reading', { shipment: s.id, container: s.container, reading: r });
  }
}, 3000);

function view(s) {
  const list = readings.get(s.id);
  const elapsed = (Date.now() - Date.parse(s.cross_clamp_at)) / 60000;
  return { id: s.id, container: s.container, profile: s.profile, donation_code: s.donation_code, mode: s.mode, status: s.status,
    cross_clamp_at: s.cross_clamp_at, origin: s.origin, destination: s.destination, band,
    ischemia: { elapsed_min: Math.round(elapsed), remaining_min: Math.round(s.limit - elapsed), limit_min: s.limit },
    eta: new Date(Date.now() + (s.id === 1 ? 170 : 60) * 60000).toISOString(),
    deadline: new Date(Date.parse(s.cross_clamp_at) + s.limit * 60000).toISOString(),
    latest: list[list.length - 1], alarms_active: alarms.filter((a) => a.shipment === s.id && a.state !== 'cleared').length,
    // SPEC v1.1 flight mode: the heart's container flies with its radio off
    radio: s.id === 1 ? 'flight' : 'online', radio_since: s.id === 1 ? new Date(now - 25 * 60000).toISOString() : null,
    last_position: s.id === 1 ? { lat: 51.15, lon: 51.54, ts: new Date(now - 25 * 60000).toISOString() } : null };
}
function withCards(s, inc) {
  const o = view(s);
  if (inc.includes('alarms')) o.alarms = alarms.filter((a) => a.shipment === s.id && a.state !== 'cleared');
  if (inc.includes('spark')) {
    const list = readings.get(s.id);
    const every = 120000;
    const last = list[list.length - 1].ts;
    const b0 = Math.floor((last - 3 * 3600000) / every) + 1;
    const temp = [];
    for (const r of list) {
      const i = Math.floor(r.ts / every) - b0;
      if (i >= 0) temp[i] = r.temp_c;
    }
    const from = Math.min(...list.map((r) => Math.floor(r.ts / every))) * every;
    o.spark = { from, every_s: 120, temp_c: temp.slice(Math.floor(from / every) - b0).map((v) => v ?? null) };
  }
  return o;
}
const ROLES = { coordinator: 'coordinator', crew: 'crew', auditor: 'auditor' };
function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}
createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (!p.startsWith('/api/')) {
    const f = join(dist, p === '/' ? 'index.html' : p.slice(1));
    if (!f.startsWith(dist) || !existsSync(f)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' }[extname(f)] || 'application/octet-stream' });
    res.end(readFileSync(f));
    return;
  }
  const tok = p === '/api/v1/events' ? url.searchParams.get('access_token') : (req.headers.authorization || '').replace(/^Bearer /, '');
  const role = ROLES[tok];
  if (!role) return send(res, 401, { error: { code: 'unauthorized', message: 'token missing or invalid' } });
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const m = p.match(/^\/api\/v1\/(shipments|alarms)(?:\/(\d+))?(?:\/(\w+))?$/);
    const actor = { name: `${role}-dev`, role };
    if (p === '/api/v1/me') return send(res, 200, { name: actor.name, role, containers: role === 'crew' ? ['KZ-WKO-0001'] : [] });
    if (p === '/api/v1/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.write(': hello\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return undefined;
    }
    if (!m) return send(res, 404, { error: { code: 'not_found', message: p } });
    const [, kind, id, sub] = m;
    if (kind === 'alarms' && sub === 'ack' && req.method === 'POST') {
      const a = alarms.find((x) => x.id === Number(id));
      if (!a) return send(res, 404, { error: { code: 'not_found', message: 'alarm' } });
      Object.assign(a, { state: 'acknowledged', acked_by: actor.name, acked_at: new Date().toISOString(), ack_comment: JSON.parse(body || '{}').comment });
      emit('alarm', a);
      return send(res, 200, a);
    }
    let list = role === 'crew' ? ships.filter((s) => s.container === 'KZ-WKO-0001') : ships;
    if (!id) {
      // ?include=alarms,spark as the real list: each card's active alarms and sparkline
      const inc = (url.searchParams.get('include') || '').split(',');
      return send(res, 200, { items: list.map((x) => withCards(x, inc)), next: null });
    }
    const s = list.find((x) => x.id === Number(id));
    if (!s) return send(res, 404, { error: { code: 'not_found', message: 'shipment' } });
    if (!sub) return send(res, 200, view(s));
    if (sub === 'readings') return send(res, 200, { items: readings.get(s.id), next: null });
    if (sub === 'alarms') return send(res, 200, { items: alarms.filter((a) => a.shipment === s.id), next: null });
    if (sub === 'custody' && req.method === 'POST') {
      const e = append(s.id, JSON.parse(body || '{}'), actor);
      emit('custody', e);
      return send(res, 201, e);
    }
    if (sub === 'custody') return send(res, 200, { items: custody.get(s.id), next: null });
    if (sub === 'export') {
      res.writeHead(200, { 'Content-Type': 'text/csv' });
      res.end('index,type\n');
      return undefined;
    }
    return send(res, 404, { error: { code: 'not_found', message: p } });
  });
}).listen(port, '127.0.0.1', () => console.log(`dev server http://127.0.0.1:${port}/`));
