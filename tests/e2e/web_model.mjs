// web_model: the dashboard's pure model functions (dashboard-api/web/src/
// model.js) in node, no browser: what the views derive from the API's
// shipment object: the radio state (SPEC v1.1 flight mode) including a
// server without those fields, the list's sparkline, the current planned
// leg, the check-in answer, and that the status is the server's state.
// Exit 1 on the first wrong answer.
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const m = await import(pathToFileURL(join(root, 'dashboard-api', 'web', 'src', 'model.js')).href);
const H = 3600000;
let n = 0;
function check(name, fn) {
  try {
    fn();
    n++;
  } catch (e) {
    process.stdout.write(`FAIL web_model ${name}: ${e.message.split('\n')[0]}\n`);
    process.exit(1);
  }
}

check('radio in flight', () => {
  const r = m.radio({ radio: 'flight', radio_since: '2026-12-01T09:15:00Z', last_position: { lat: 51.15, lon: 51.54, ts: '2026-12-01T09:14:30Z' } });
  assert.equal(r.mode, 'flight');
  assert.equal(r.since, Date.parse('2026-12-01T09:15:00Z'));
  assert.deepEqual(r.pos, { lat: 51.15, lon: 51.54, ts: Date.parse('2026-12-01T09:14:30Z') });
});
check('radio absent (an API without the fields)', () => {
  const r = m.radio({ id: 1 });
  assert.equal(r.mode, null);
  assert.ok(Number.isNaN(r.since));
  assert.equal(r.pos, null);
});
check('radio online, null since and position', () => {
  const r = m.radio({ radio: 'online', radio_since: null, last_position: null });
  assert.equal(r.mode, 'online');
  assert.equal(r.pos, null);
});
check('radio unknown word ignored', () => assert.equal(m.radio({ radio: 'satellite' }).mode, null));
check('radio position without numbers ignored', () => assert.equal(m.radio({ radio: 'flight', last_position: { lat: '51', lon: 51 } }).pos, null));

check('sparkline buckets', () => {
  const r = m.sparkReadings({ from: 1000 * 120000, every_s: 120, temp_c: [4.1, null, 4.3] });
  assert.deepEqual(r, [{ ts: 1000 * 120000 + 60000, temp_c: 4.1 }, { ts: 1002 * 120000 + 60000, temp_c: 4.3 }]);
});
check('sparkline null or malformed', () => {
  assert.deepEqual(m.sparkReadings(null), []);
  assert.deepEqual(m.sparkReadings({ from: 'x', every_s: 120, temp_c: [1] }), []);
  assert.deepEqual(m.sparkReadings({ from: 0, every_s: 0, temp_c: [1] }), []);
});

const t0 = Date.parse('2026-12-01T08:00:00Z');
const plan = {
  status: 'in_transit',
  legs: [
    { mode: 'ground', from: {}, to: {}, planned_departure: new Date(t0).toISOString(), planned_arrival: new Date(t0 + H).toISOString() },
    { mode: 'air', from: {}, to: {}, planned_departure: new Date(t0 + 1.5 * H).toISOString(), planned_arrival: new Date(t0 + 3 * H).toISOString() },
  ],
};
check('current leg by plan', () => {
  assert.equal(m.currentLeg(plan, t0 - H), 0);
  assert.equal(m.currentLeg(plan, t0 + 0.5 * H), 0);
  assert.equal(m.currentLeg(plan, t0 + 1.2 * H), 1); // between legs: the next one
  assert.equal(m.currentLeg(plan, t0 + 5 * H), 1); // late: still the last
  assert.equal(m.currentLeg({ ...plan, status: 'delivered' }, t0), -1);
  assert.equal(m.currentLeg({ legs: [] }, t0), -1);
});

check('check-in answers', () => {
  assert.equal(m.checkinResult({ type: 'note', comment: 'x' }), null);
  assert.deepEqual(m.checkinResult({ type: 'checkin', comment: 'label read: donation_code=A profile=kidney laterality=left abo=B+; matches' }), []);
  assert.deepEqual(m.checkinResult({
    type: 'checkin',
    comment: 'label read: donation_code=A profile=kidney laterality=right abo=O; MISMATCH: laterality (label right, shipment left); abo (label O, shipment B+)',
  }), [{ field: 'laterality', label: 'right', shipment: 'left' }, { field: 'abo', label: 'O', shipment: 'B+' }]);
});

check('status is the server state', () => {
  // 30 % of the time left: a screen that computed 25 % itself would say ok
  const sh = { state: 'warning', ischemia: { elapsed_min: 168, limit_min: 240, remaining_min: 72, warn_min: 160 } };
  assert.equal(m.status(sh, []), 'warning');
  assert.equal(m.status({ ...sh, state: 'ok' }, []), 'ok');
  assert.equal(m.status({ ...sh, state: 'ok' }, [{ state: 'raised', severity: 'critical' }]), 'alarm');
});

process.stdout.write(`PASS web_model (${n} checks)\n`);
