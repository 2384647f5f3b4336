// Pieces shared by the views: status badge, facts of a shipment, alarm list
// with acknowledgement, custody timeline, the acknowledgement dialog.
import { h } from './util.js';
import { t, tv, fmtTime, fmtDateTimeZone, fmtTemp, fmtMinutes, getLang } from './i18n.js';
import { toMs, num, shortHash } from './util.js';
import { band, deadlineMs, etaMs, isLate, latest, profileName, radio, legs, currentLeg } from './model.js';
import { api } from './api.js';

export function statusBadge(st, big = false) {
  return h('span', { class: `status st-${st} ${big ? 'big' : ''}` },
    h('span', { class: 'dot', 'aria-hidden': 'true' }), t(`status.${st}`));
}

export function title(sh) {
  return `${sh.donation_code || '—'} · ${tv('profile', profileName(sh.profile))}`;
}

export function facts(sh) {
  const l = latest(sh);
  const late = isLate(sh);
  const b = band(sh);
  const row = (k, v, cls) => h('div', { class: `fact ${cls || ''}` }, h('dt', {}, t(k)), h('dd', {}, v));
  return h('dl', { class: 'facts' },
    row('fact.temp', fmtTemp(num(l?.temp_c)), 'temp'),
    row('fact.band', Number.isFinite(b.temp_min_c) ? t('fmt.band', { min: fmtTemp(b.temp_min_c), max: fmtTemp(b.temp_max_c) }) : '—'),
    // reperfused (SPEC v1.1): the clock stopped; its total and end instead
    sh.ischemia?.ended_at ? row('fact.total', fmtMinutes(num(sh.ischemia?.total_min))) : row('fact.elapsed', fmtMinutes(num(sh.ischemia?.elapsed_min))),
    sh.ischemia?.ended_at ? row('fact.ended', fmtTime(toMs(sh.ischemia.ended_at)))
      : row('fact.remaining', fmtMinutes(num(sh.ischemia?.remaining_min)), num(sh.ischemia?.remaining_min) <= 0 ? 'bad' : ''),
    row('fact.eta', fmtTime(etaMs(sh)), late ? 'bad late' : ''),
    row('fact.deadline', fmtTime(deadlineMs(sh))),
    late ? h('p', { class: 'late-note bad' }, t('eta.late')) : null);
}

export function route(sh) {
  const o = sh.origin?.name || '—';
  const d = sh.destination?.name || '—';
  return h('p', { class: 'route' }, `${o} → ${d}`, ' · ', tv('mode', sh.mode), ' · ', t('label.container'), ' ', h('code', {}, sh.container || '—'));
}

let dialog = null;
/** Asks for an acknowledgement comment; resolves to the text or null. */
export function askComment(alarm) {
  return new Promise((resolve) => {
    if (dialog) dialog.remove();
    const ta = h('textarea', { id: 'ack-comment', required: true, rows: 3, maxlength: 500 });
    const err = h('p', { class: 'error', role: 'alert' });
    const form = h('form', { method: 'dialog' },
      h('h2', {}, t('ack.title')),
      h('p', {}, tv('alarm', alarm.type), ' — ', alarm.message || ''),
      h('label', { for: 'ack-comment' }, t('ack.comment')),
      ta, err,
      h('div', { class: 'buttons' },
        h('button', { type: 'button', class: 'secondary', onclick: () => { dialog.close(); resolve(null); } }, t('action.cancel')),
        h('button', { type: 'submit', class: 'primary' }, t('action.ack'))));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = ta.value.trim();
      if (!v) { err.textContent = t('ack.required'); ta.focus(); return; }
      dialog.close();
      resolve(v);
    });
    dialog = h('dialog', { class: 'ack-dialog', 'aria-labelledby': 'ack-title' }, form);
    form.firstChild.id = 'ack-title';
    dialog.addEventListener('cancel', () => resolve(null));
    document.body.append(dialog);
    dialog.showModal();
    ta.focus();
  });
}

export function alarmList(alarms, { canAck, onChange, onlyActive = true, zoned = false } = {}) {
  const when = zoned ? fmtDateTimeZone : fmtTime;
  const list = (alarms || []).filter((a) => !onlyActive || a.state !== 'cleared');
  if (!list.length) return h('p', { class: 'muted no-alarms' }, onlyActive ? t('alarm.none') : t('alarm.none_ever'));
  return h('ul', { class: 'alarms' }, list.map((a) => h('li', { class: `alarm sev-${a.severity || 'warning'} state-${a.state}`, 'data-alarm-id': a.id, 'data-alarm-type': a.type },
    h('div', { class: 'alarm-head' },
      h('strong', {}, tv('alarm', a.type)), ' ',
      h('span', { class: 'sev' }, tv('severity', a.severity)), ' · ',
      h('span', { class: 'state' }, tv('astate', a.state)), ' · ',
      h('time', {}, when(toMs(a.raised_at)))),
    alarmDetail(a),
    a.message && getLang() === 'en' ? h('div', { class: 'alarm-msg' }, a.message) : null,
    a.message && getLang() !== 'en' ? h('details', { class: 'alarm-msg' }, h('summary', {}, t('alarm.server_text')), h('span', { lang: 'en' }, a.message)) : null,
    a.ack_comment || a.acked_by || a.ack?.comment ? h('div', { class: 'alarm-ack muted' },
      t('alarm.acked', { who: a.acked_by || a.ack?.by || '—', at: when(toMs(a.acked_at || a.ack?.at)) }), ' ',
      a.ack_comment || a.ack?.comment ? `«${a.ack_comment || a.ack?.comment}»` : '') : null,
    canAck && a.state === 'raised' ? h('button', {
      type: 'button', class: 'ack-btn', 'data-focus': `ack-${a.id}`,
      onclick: async (e) => {
        const btn = e.currentTarget;
        const comment = await askComment(a);
        if (!comment) return;
        btn.disabled = true;
        try {
          await api.ack(a.id, comment);
          onChange?.();
        } catch (err) {
          btn.disabled = false;
          btn.after(h('span', { class: 'error', role: 'alert' }, errorText(err)));
        }
      },
    }, t('action.ack')) : null)));
}

// The alarm's value in the reader's language (units per type as the
// collector's rules report them); the server's English message stays
// available as the technical detail.
const DETAIL = {
  temp_excursion: fmtTemp, temp_forecast: fmtTemp, ischemia_warn: fmtMinutes, ischemia_limit: fmtMinutes,
  eta_late: fmtMinutes, lid_open: (v) => Math.round(v), shock: (v) => v.toFixed(1), battery_low: (v) => Math.round(v),
  sensor_silent: (v) => fmtMinutes(v / 60),
};
function alarmDetail(a) {
  const f = DETAIL[a.type];
  const v = num(a.value);
  if (!f || !Number.isFinite(v)) return null;
  return h('div', { class: 'alarm-detail' }, t(`adetail.${a.type}`, { v: f(v) }));
}

export function custodyTimeline(entries, { compact = false } = {}) {
  if (!entries.length) return h('p', { class: 'muted' }, t('custody.none'));
  return h('ol', { class: `timeline ${compact ? 'compact' : ''}` }, entries.map((e) => h('li', { class: `tl tl-${e.type}`, 'data-index': e.index },
    h('div', { class: 'tl-head' },
      h('strong', {}, tv('ctype', e.type)), ' · ',
      h('time', {}, fmtDateTimeZone(toMs(e.ts ?? e.time ?? e.at))), ' · #', String(e.index ?? '—')),
    e.from || e.to ? h('div', {}, `${e.from || '—'} → ${e.to || '—'}`) : null,
    e.witness ? h('div', {}, t('custody.witness'), ': ', e.witness) : null,
    h('div', { class: 'muted' },
      [actorText(e), e.seal ? `${t('custody.seal')}: ${e.seal}` : null,
        Number.isFinite(num(e.temp_c)) ? fmtTemp(num(e.temp_c)) : null].filter(Boolean).join(' · ')),
    e.comment ? h('div', { class: 'tl-comment' }, e.comment) : null,
    compact ? null : h('div', { class: 'hash' }, t('custody.hash'), ' ', h('code', {}, shortHash(e.hash)))))); 
}

export function actorText(e) {
  const a = e.actor;
  if (!a) return '';
  if (typeof a === 'string') return `${t('custody.actor')}: ${a}`;
  return `${t('custody.actor')}: ${a.name || '—'} (${tv('role', a.role)})`;
}

export function errorText(err) {
  if (!err) return '';
  if (err.status === 0) return t('error.network');
  if (err.status === 401) return t('error.401');
  if (err.status === 403) return t('error.403');
  if (err.status === 404) return t('error.404');
  return t('error.other', { status: err.status, message: err.message || err.code || '' });
}

/** "In flight, radio silent since …" (SPEC v1.1 flight mode: the gateway
 * keeps sampling and sends its backlog after landing) or "radio offline
 * since …"; null while online or when the server does not say. */
export function radioText(sh) {
  const r = radio(sh);
  if (r.mode !== 'flight' && r.mode !== 'offline') return null;
  const since = Number.isFinite(r.since) ? t('radio.since', { at: fmtTime(r.since) }) : '';
  return t(`radio.${r.mode}`, { since });
}

export function radioBadge(sh) {
  const text = radioText(sh);
  if (!text) return null;
  const mode = radio(sh).mode;
  return h('p', { class: `radio radio-${mode}`, 'data-radio': mode, role: 'status' },
    h('span', { 'aria-hidden': 'true' }, mode === 'flight' ? '✈ ' : '⚠ '), text);
}

/** The shipment's radio state with its last known position. */
export function radioPanel(sh) {
  const text = radioText(sh);
  if (!text) return null;
  const r = radio(sh);
  return h('section', { class: `panel radio-panel radio-${r.mode}`, 'data-radio': r.mode, role: 'status' },
    h('p', { class: 'radio-text' }, h('span', { 'aria-hidden': 'true' }, r.mode === 'flight' ? '✈ ' : '⚠ '), text),
    r.pos ? h('p', { class: 'muted' }, t('radio.last_pos', { lat: r.pos.lat.toFixed(4), lon: r.pos.lon.toFixed(4), at: fmtTime(r.pos.ts) })) : null);
}

/** The planned legs with their times, carrier and flight; the current one marked. */
export function legsTable(sh, at) {
  const ls = legs(sh);
  if (!ls.length) return null;
  const cur = currentLeg(sh, at);
  return h('div', { class: 'table-wrap' }, h('table', { class: 'legs' },
    h('thead', {}, h('tr', {}, ['legs.col.n', 'legs.col.mode', 'legs.col.route', 'legs.col.dep', 'legs.col.arr', 'legs.col.carrier']
      .map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, ls.map((l, i) => h('tr', { class: `leg-${l.mode}${i === cur ? ' current' : ''}`, 'data-leg': i, 'aria-current': i === cur ? 'step' : null },
      // data-label: a phone shows each leg as a block with the column names
      h('td', { 'data-label': t('legs.col.n') }, String(i + 1), i === cur ? h('span', { class: 'leg-now' }, ' ', t('legs.current')) : null),
      h('td', { 'data-label': t('legs.col.mode') }, l.mode === 'air' ? h('span', { 'aria-hidden': 'true' }, '✈ ') : null, tv('leg', l.mode)),
      h('td', { 'data-label': t('legs.col.route') }, `${l.from.name || '—'} → ${l.to.name || '—'}`),
      h('td', { 'data-label': t('legs.col.dep') }, h('time', {}, fmtTime(toMs(l.planned_departure)))),
      h('td', { 'data-label': t('legs.col.arr') }, h('time', {}, fmtTime(toMs(l.planned_arrival)))),
      h('td', { 'data-label': t('legs.col.carrier') }, [l.carrier, l.flight].filter(Boolean).join(' · ') || '—'))))));
}
