// Auditor view: the complete custody trail of a shipment with hash
// prefixes, a chain check done in the browser (each entry's prev_hash must
// equal the previous entry's hash, indexes consecutive), the alarm record,
// and the export downloads (bundle for offline `organtrack-ledger verify`,
// EPCIS 2.0 JSON-LD, CSV), the shipment report (PDF) in each language and
// the sign-off dialog (an electronic signature appended to the trail).
import { h, items, shortHash, toMs, num, keepFocus } from '../util.js';
import { t, tv, fmtDateTimeZone, fmtTemp } from '../i18n.js';
import { api, all } from '../api.js';
import { alarmList, errorText, actorText, title } from '../components.js';
import { downloadExport, reportButtons, signOffDialog } from '../report.js';

const FORMATS = [['bundle', 'json'], ['epcis', 'jsonld'], ['csv', 'csv']];

/** Checks the hash links of a trail; returns {ok, n, bad (index or null)}. */
export function checkChain(entries) {
  const sorted = [...entries].sort((a, b) => num(a.index) - num(b.index));
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const e = sorted[i];
    if (num(e.index) !== num(prev.index) + 1 || !e.prev_hash || e.prev_hash !== prev.hash) return { ok: false, n: sorted.length, bad: e.index };
  }
  return { ok: true, n: sorted.length, bad: null };
}

export function auditorView(root, { params, go }) {
  let list = null;
  let selected = params[0] || '';
  let trail = [];
  let alarms = [];
  let error = null;
  let exportMsg = null;

  async function load() {
    try {
      list = await all('/shipments');
      if (!selected && list.length) selected = String(list[0].id);
      if (selected) {
        [trail, alarms] = await Promise.all([
          all(`/shipments/${encodeURIComponent(selected)}/custody`),
          api.alarms(selected).then(items).catch(() => []),
        ]);
      }
      error = null;
    } catch (e) {
      error = e;
    }
    render();
  }

  const current = () => list.find((s) => String(s.id) === selected);
  const done = (m) => { exportMsg = m; render(); };

  async function download(fmt, ext) {
    exportMsg = null;
    done(await downloadExport(current(), selected, fmt, ext));
  }

  function signOff() {
    const dlg = signOffDialog(selected, (entry) => {
      exportMsg = { ok: true, text: t('sign.done', { meaning: t(`meaning.${entry.meaning}`), i: entry.index }) };
      load();
    });
    document.body.append(dlg);
    dlg.showModal();
  }

  function draw() {
    root.replaceChildren();
    root.append(h('h1', {}, t('audit.title')));
    if (error) root.append(h('p', { class: 'error', role: 'alert' }, errorText(error)));
    if (!list) {
      root.append(h('p', { class: 'muted' }, t('loading')));
      return;
    }
    if (!list.length) {
      root.append(h('p', { class: 'muted' }, t('audit.none')));
      return;
    }
    root.append(h('div', { class: 'field' },
      h('label', { for: 'audit-pick' }, t('audit.pick')),
      h('select', { id: 'audit-pick', onchange: (e) => { go(`#/auditor/${e.target.value}`); } },
        list.map((s) => h('option', { value: String(s.id), selected: String(s.id) === selected }, `${title(s)} · ${s.container} · ${tv('sstatus', s.status)}`)))));
    const chain = checkChain(trail);
    root.append(h('section', { class: `panel verify ${chain.ok ? 'ok' : 'bad'}`, role: 'status' },
      h('h2', {}, t('audit.verify')),
      h('p', { class: 'verify-result' }, chain.ok ? t('audit.chain_ok', { n: chain.n }) : t('audit.chain_bad', { i: chain.bad })),
      h('p', { class: 'muted' }, t('audit.offline'))));
    root.append(h('section', { class: 'panel' }, h('h2', {}, t('audit.export')),
      h('div', { class: 'buttons' }, FORMATS.map(([fmt, ext]) => h('button', { type: 'button', class: 'secondary', 'data-format': fmt, onclick: () => download(fmt, ext) }, t(`export.${fmt}`)))),
      h('h3', {}, t('report.title')),
      reportButtons(current(), selected, done),
      h('h3', {}, t('sign.title')),
      h('div', { class: 'buttons' }, h('button', { type: 'button', id: 'sign-open', onclick: signOff }, t('sign.open'))),
      exportMsg ? h('p', { class: exportMsg.ok ? 'muted' : 'error', role: 'status', id: 'export-msg' }, exportMsg.text) : null));
    const sorted = [...trail].sort((a, b) => num(a.index) - num(b.index));
    root.append(h('section', { class: 'panel' }, h('h2', {}, t('custody.title')),
      sorted.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'trail' },
        h('thead', {}, h('tr', {}, ['audit.col.index', 'audit.col.time', 'audit.col.type', 'audit.col.actor', 'audit.col.parties', 'custody.witness', 'custody.seal', 'fact.temp', 'audit.col.prev', 'custody.hash']
          .map((k) => h('th', { scope: 'col' }, t(k))))),
        h('tbody', {}, sorted.map((e, i) => {
          const linked = i === 0 || e.prev_hash === sorted[i - 1].hash;
          return h('tr', { class: linked ? '' : 'bad', 'data-index': e.index },
            h('td', {}, String(e.index ?? '—')),
            h('td', {}, fmtDateTimeZone(toMs(e.ts ?? e.time ?? e.at))),
            h('td', {}, tv('ctype', e.type), e.type === 'signed' && e.meaning ? ` · ${t(`meaning.${e.meaning}`)}` : ''),
            h('td', {}, actorText(e).replace(/^[^:]*: /, '')),
            h('td', {}, e.from || e.to ? `${e.from || '—'} → ${e.to || '—'}` : ''),
            h('td', {}, e.witness || ''),
            h('td', {}, e.seal || ''),
            h('td', {}, Number.isFinite(num(e.temp_c)) ? fmtTemp(num(e.temp_c)) : ''),
            h('td', {}, h('code', {}, shortHash(e.prev_hash))),
            h('td', {}, h('code', {}, shortHash(e.hash)), linked ? '' : ` ${t('audit.broken')}`));
        })))) : h('p', { class: 'muted' }, t('custody.none'))));
    root.append(h('section', { class: 'panel' }, h('h2', {}, t('alarm.title')), alarmList(alarms, { canAck: false, onlyActive: false, zoned: true })));
  }

  const render = () => keepFocus(root, draw);
  load();
  return { refresh: load, render, destroy() {} };
}
