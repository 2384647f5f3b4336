// Derived facts about a shipment as the API reports it: preservation band,
// viability deadline, whether the ETA is late, and one overall status
// (ok / warning / alarm) for the big crew display and the map markers.
import { toMs, num } from './util.js';

export function band(sh) {
  const b = sh?.band || sh?.preservation || {};
  return { temp_min_c: num(b.temp_min_c), temp_max_c: num(b.temp_max_c) };
}

export function latest(sh) {
  return sh?.latest || null;
}

export function deadlineMs(sh) {
  const d = toMs(sh?.deadline);
  if (Number.isFinite(d)) return d;
  const cc = toMs(sh?.cross_clamp_at);
  const lim = num(sh?.ischemia?.limit_min);
  return Number.isFinite(cc) && Number.isFinite(lim) ? cc + lim * 60000 : NaN;
}

export function etaMs(sh) {
  return toMs(sh?.eta);
}

export function isLate(sh) {
  const e = etaMs(sh);
  const d = deadlineMs(sh);
  return Number.isFinite(e) && Number.isFinite(d) && e > d;
}

export function activeAlarmCount(sh) {
  const a = sh?.alarms_active;
  if (Array.isArray(a)) return a.length;
  return typeof a === 'number' ? a : 0;
}

export function isActiveAlarm(a) {
  return a && a.state !== 'cleared';
}

/** 'alarm' | 'warning' | 'ok': the state the server computed from the
 * collector's alarms and the profile's own thresholds (sh.state); the
 * screen does not recompute it. Older servers without sh.state: from the
 * alarms, the band and the profile's warning threshold (ischemia.warn_min). */
export function status(sh, alarms) {
  if (sh && ['alarm', 'warning', 'ok'].includes(sh.state)) {
    const crit = (alarms || []).some((a) => (a.state === 'raised' || a.state === 'acknowledged') && a.severity === 'critical');
    return crit ? 'alarm' : sh.state;
  }
  const active = (alarms || []).filter((a) => a.state === 'raised' || a.state === 'acknowledged');
  const temp = num(latest(sh)?.temp_c);
  const b = band(sh);
  const outside = Number.isFinite(temp) && ((Number.isFinite(b.temp_min_c) && temp < b.temp_min_c) || (Number.isFinite(b.temp_max_c) && temp > b.temp_max_c));
  const rem = num(sh?.ischemia?.remaining_min);
  const lim = num(sh?.ischemia?.limit_min);
  if (active.some((a) => a.severity === 'critical') || outside || (Number.isFinite(rem) && rem <= 0)) return 'alarm';
  if (alarms === undefined && activeAlarmCount(sh) > 0) return 'alarm';
  const warn = num(sh?.ischemia?.warn_min);
  const el = num(sh?.ischemia?.elapsed_min);
  if (active.length || isLate(sh) || (Number.isFinite(warn) && Number.isFinite(el) && Number.isFinite(lim) && el >= warn)) return 'warning';
  return 'ok';
}

export function profileName(p) {
  return String(p || '').split('/')[0];
}

/** The list's sparkline ({from, every_s, temp_c: [...]}, GET /shipments
 * ?include=spark) as readings for renderChart, each at its bucket's middle. */
export function sparkReadings(sp) {
  if (!sp || !Array.isArray(sp.temp_c)) return [];
  const from = num(sp.from);
  const every = num(sp.every_s) * 1000;
  if (!Number.isFinite(from) || !Number.isFinite(every) || every <= 0) return [];
  return sp.temp_c.map((v, i) => ({ ts: from + i * every + every / 2, temp_c: v })).filter((r) => Number.isFinite(num(r.temp_c)));
}

/** The container's radio as the API reports it (SPEC v1.1 flight mode):
 * mode 'online' | 'flight' | 'offline', or null from a server that does
 * not say; since: ms or NaN; pos: the last position {lat, lon, ts} or null. */
export function radio(sh) {
  const mode = ['online', 'flight', 'offline'].includes(sh?.radio) ? sh.radio : null;
  const lp = sh?.last_position;
  const pos = lp && Number.isFinite(num(lp.lat)) && Number.isFinite(num(lp.lon))
    ? { lat: num(lp.lat), lon: num(lp.lon), ts: toMs(lp.ts) } : null;
  return { mode, since: toMs(sh?.radio_since), pos };
}

/** Planned legs (SPEC v1.1), [] without a plan. */
export function legs(sh) {
  return Array.isArray(sh?.legs) ? sh.legs.filter((l) => l && l.from && l.to) : [];
}

/** Index of the current leg at time `at` (ms): the first leg not yet due
 * to arrive, else the last; -1 without legs or once the organ is there. */
export function currentLeg(sh, at) {
  const ls = legs(sh);
  if (!ls.length || ['delivered', 'closed', 'discarded'].includes(sh?.status)) return -1;
  const i = ls.findIndex((l) => !(toMs(l.planned_arrival) <= at));
  return i < 0 ? ls.length - 1 : i;
}

/** The differences the server named in a check-in entry's comment
 * ("…; MISMATCH: laterality (label right, shipment left); abo (…)"):
 * [{field, label, shipment}], [] when it matches, null if not a check-in. */
export function checkinResult(entry) {
  const c = String(entry?.comment || '');
  if (entry?.type !== 'checkin') return null;
  const i = c.indexOf('MISMATCH: ');
  if (i < 0) return [];
  const out = [];
  const re = /(donation_code|profile|laterality|abo) \(label (.*?), shipment (.*?)\)/g;
  let m;
  while ((m = re.exec(c.slice(i))) !== null) out.push({ field: m[1], label: m[2], shipment: m[3] });
  return out.length ? out : [{ field: '', label: '', shipment: c.slice(i + 10) }];
}
