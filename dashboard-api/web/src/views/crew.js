// Crew view, made for a phone: my container, one big status (OK / WARNING
// / ALARM, colour AND words), current temperature, time left, and the form
// to log a hand-off (the second person, the witness, is required). The
// place is taken from the container's latest position. At the receiving
// centre (receipt.js): the check-in (what the label says, with a witness;
// a mismatch is shown as the server stored it) and reperfusion.
import { h, num, items, shortHash, toMs, keepFocus } from '../util.js';
import { t, tv, fmtTemp, fmtMinutes, fmtTime, fmtDateTimeZone } from '../i18n.js';
import { api, all } from '../api.js';
import { latest, status, etaMs, deadlineMs, isLate, profileName } from '../model.js';
import { statusBadge, alarmList, custodyTimeline, errorText, radioBadge } from '../components.js';
import { receiptSection } from '../receipt.js';

const TYPES = ['handoff', 'packed', 'departed', 'arrived', 'received', 'opened', 'note', 'discarded'];
const form = { type: 'handoff', from: '', to: '', witness: '', seal: '', comment: '' };

export function crewView(root) {
  let list = null;
  let selected = localStorage.getItem('ot.crew.shipment') || '';
  let alarms = [];
  let custody = [];
  let error = null;
  let formError = null;
  let lastEntry = null;
  let busy = false;

  async function load() {
    try {
      // open shipments, and those received in the last 12 h: check-in and
      // reperfusion often follow the hand-over at the receiving centre
      const since = Date.now() - 12 * 3600000;
      const [open, delivered] = await Promise.all([
        all('/shipments?status=active&limit=500'),
        all('/shipments?status=delivered&limit=500').catch(() => []),
      ]);
      list = [...open, ...delivered.filter((s) => toMs(s.delivered_at) >= since)];
      if (!list.some((s) => String(s.id) === selected)) selected = list.length ? String(list[0].id) : '';
      if (selected) {
        [alarms, custody] = await Promise.all([
          api.alarms(selected).then(items).catch(() => []),
          all(`/shipments/${encodeURIComponent(selected)}/custody`).catch(() => []),
        ]);
      }
      error = null;
    } catch (e) {
      error = e;
    }
    render();
  }

  function current() {
    return (list || []).find((s) => String(s.id) === selected) || null;
  }

  async function submit(e) {
    e.preventDefault();
    const sh = current();
    if (!sh || busy) return;
    formError = null;
    for (const k of ['from', 'to', 'witness']) {
      if (form.type === 'handoff' && !form[k].trim()) {
        formError = t('crew.required', { field: t(`crew.${k}`) });
        render();
        root.querySelector(`#f-${k}`)?.focus();
        return;
      }
    }
    const l = latest(sh);
    const body = { type: form.type };
    for (const k of ['from', 'to', 'witness', 'seal', 'comment']) if (form[k].trim()) body[k] = form[k].trim();
    if (Number.isFinite(num(l?.lat)) && Number.isFinite(num(l?.lon))) body.place = { lat: num(l.lat), lon: num(l.lon) };
    busy = true;
    render();
    try {
      lastEntry = await api.addCustody(sh.id, body);
      Object.assign(form, { from: form.to, to: '', witness: '', seal: form.seal, comment: '' });
      busy = false;
      await load();
      root.querySelector('#handoff-result')?.focus();
      return;
    } catch (err) {
      formError = errorText(err);
    }
    busy = false;
    render();
  }

  function field(k, { required = false, multiline = false, auto = 'off' } = {}) {
    const attrs = {
      id: `f-${k}`, name: k, value: form[k], required: required && form.type === 'handoff', autocomplete: auto, maxlength: 200,
      oninput: (e) => { form[k] = e.target.value; },
    };
    return h('div', { class: 'field' },
      h('label', { for: `f-${k}` }, t(`crew.${k}`), required && form.type === 'handoff' ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
      multiline ? h('textarea', { ...attrs, rows: 2 }) : h('input', { ...attrs, type: 'text' }));
  }

  function draw() {
    root.replaceChildren();
    root.append(h('h1', {}, t('crew.title')));
    if (error) root.append(h('p', { class: 'error', role: 'alert' }, errorText(error)));
    if (!list) {
      root.append(h('p', { class: 'muted' }, t('loading')));
      return;
    }
    if (!list.length) {
      root.append(h('p', { class: 'muted' }, t('crew.none')));
      return;
    }
    if (list.length > 1) {
      root.append(h('div', { class: 'field' },
        h('label', { for: 'crew-pick' }, t('crew.pick')),
        h('select', { id: 'crew-pick', onchange: (e) => { selected = e.target.value; localStorage.setItem('ot.crew.shipment', selected); load(); } },
          list.map((s) => h('option', { value: String(s.id), selected: String(s.id) === selected }, `${s.container} · ${s.donation_code || ''}`)))));
    }
    const sh = current();
    const st = status(sh, alarms);
    const l = latest(sh);
    root.append(h('section', { class: `crew-status st-${st}`, 'aria-live': 'polite' },
      h('p', { class: 'crew-container' }, t('label.container'), ' ', h('strong', {}, sh.container), ' · ', sh.donation_code || '', ' · ', tv('profile', profileName(sh.profile))),
      statusBadge(st, true),
      h('p', { class: 'crew-advice' }, t(`advice.${st}`)),
      h('div', { class: 'crew-big' },
        h('div', {}, h('span', { class: 'lbl' }, t('fact.temp')), h('span', { class: 'val', 'data-field': 'temp' }, fmtTemp(num(l?.temp_c)))),
        sh.ischemia?.ended_at
          ? h('div', {}, h('span', { class: 'lbl' }, t('fact.total')), h('span', { class: 'val', 'data-field': 'total' }, fmtMinutes(num(sh.ischemia?.total_min))))
          : h('div', {}, h('span', { class: 'lbl' }, t('fact.remaining')), h('span', { class: 'val' }, fmtMinutes(num(sh.ischemia?.remaining_min))))),
      radioBadge(sh),
      h('p', { class: isLate(sh) ? 'bad' : 'muted' }, t('fact.eta'), ': ', fmtTime(etaMs(sh)), ' · ', t('fact.deadline'), ': ', fmtTime(deadlineMs(sh)),
        isLate(sh) ? ` — ${t('eta.late')}` : '')));
    root.append(h('section', { class: 'panel' }, h('h2', {}, t('alarm.active')), alarmList(alarms, { canAck: true, onChange: load })));
    const f = h('form', { class: 'handoff', onsubmit: submit, novalidate: true, 'aria-labelledby': 'handoff-h' },
      h('h2', { id: 'handoff-h' }, t('crew.form')),
      h('div', { class: 'field' },
        h('label', { for: 'f-type' }, t('crew.type')),
        h('select', { id: 'f-type', name: 'type', onchange: (e) => { form.type = e.target.value; render(); } },
          TYPES.map((ty) => h('option', { value: ty, selected: ty === form.type }, tv('ctype', ty))))),
      field('from', { required: true }), field('to', { required: true }), field('witness', { required: true }),
      field('seal'), field('comment', { multiline: true }),
      h('p', { class: 'muted' }, Number.isFinite(num(l?.lat))
        ? t('crew.place', { lat: num(l.lat).toFixed(4), lon: num(l.lon).toFixed(4), at: fmtTime(toMs(l.ts)) })
        : t('crew.noplace')),
      formError ? h('p', { class: 'error', role: 'alert' }, formError) : null,
      h('button', { type: 'submit', class: 'primary big', disabled: busy }, busy ? t('crew.sending') : t('crew.submit')));
    root.append(f);
    root.append(receipt.draw());
    if (lastEntry) {
      root.append(h('section', { class: 'panel ok-panel', id: 'handoff-result', tabindex: -1, role: 'status' },
        h('h2', {}, t('crew.logged')),
        h('p', {}, tv('ctype', lastEntry.type), ' #', String(lastEntry.index ?? '—'), ' · ', fmtDateTimeZone(toMs(lastEntry.ts ?? lastEntry.time ?? lastEntry.at))),
        lastEntry.from || lastEntry.to ? h('p', {}, `${lastEntry.from || '—'} → ${lastEntry.to || '—'}`) : null,
        lastEntry.witness ? h('p', {}, t('crew.witness'), ': ', lastEntry.witness) : null,
        h('p', {}, t('custody.hash'), ' ', h('code', {}, shortHash(lastEntry.hash)))));
    }
    root.append(h('section', { class: 'panel' }, h('h2', {}, t('custody.title')), custodyTimeline([...custody].reverse(), { compact: true })));
  }

  const receipt = receiptSection({ current, reload: load, render: () => render() });
  const render = () => keepFocus(root, draw);
  load();
  return { refresh: load, render, destroy() {} };
}
