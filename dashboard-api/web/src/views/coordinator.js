// Coordinator view: every active shipment on the map of Kazakhstan and one
// card each (sparkline with band, temperature, ischaemia, ETA vs deadline,
// radio, active alarms with Acknowledge). One refresh is one request: the
// list carries each card's active alarms and sparkline (?include=).
import { h, keepFocus } from '../util.js';
import { t, tv } from '../i18n.js';
import { all } from '../api.js';
import { renderMap } from '../map.js';
import { renderChart } from '../chart.js';
import { band, latest, status, profileName, sparkReadings, radio } from '../model.js';
import { statusBadge, facts, route, alarmList, errorText, title, radioBadge, radioText } from '../components.js';
import { num } from '../util.js';
import { getLang } from '../i18n.js';
import { reportButtons } from '../report.js';

export function coordinatorView(root, { go }) {
  let data = null;
  let error = null;
  const reportMsg = {};

  async function load() {
    try {
      // up to 500 shipments a page: one request unless more are open
      const list = await all('/shipments?status=active&include=alarms,spark&limit=500');
      data = list.map((sh) => ({ sh, readings: sparkReadings(sh.spark), alarms: Array.isArray(sh.alarms) ? sh.alarms : [] }));
      error = null;
    } catch (e) {
      error = e;
    }
    root.dataset.loads = String(Number(root.dataset.loads || 0) + 1);
    render();
  }

  function draw() {
    root.replaceChildren();
    root.append(h('h1', {}, t('coord.title')));
    if (error) root.append(h('p', { class: 'error', role: 'alert' }, errorText(error)));
    if (!data) {
      root.append(h('p', { class: 'muted' }, t('loading')));
      return;
    }
    const markers = data.map(({ sh, alarms }) => {
      // the latest reading may have no position (no fix, or in flight):
      // then the last reading that had one (last_position)
      const r = radio(sh);
      const l = latest(sh);
      const p = Number.isFinite(num(l?.lat)) && Number.isFinite(num(l?.lon)) ? { lat: num(l.lat), lon: num(l.lon) }
        : r.pos || { lat: NaN, lon: NaN };
      return {
        lat: p.lat, lon: p.lon, status: status(sh, alarms),
        label: `${title(sh)} — ${t(`status.${status(sh, alarms)}`)}${r.mode === 'flight' ? ` — ${radioText(sh)}` : ''}`,
        short: r.mode === 'flight' ? `✈ ${sh.container}` : sh.container,
        onclick: () => go(`#/shipment/${sh.id}`),
      };
    });
    const places = [];
    for (const { sh } of data) {
      if (sh.destination) places.push({ lat: num(sh.destination.lat), lon: num(sh.destination.lon), label: sh.destination.name || '' });
    }
    root.append(h('section', { class: 'map-wrap', 'aria-label': t('map.label') },
      renderMap({ markers, places, label: t('coord.map_label', { n: data.length }) })));
    root.append(h('h2', {}, t('coord.shipments', { n: data.length })));
    if (!data.length) root.append(h('p', { class: 'muted' }, t('coord.none')));
    root.append(h('div', { class: 'cards' }, data.map(card)));
  }

  function card({ sh, readings, alarms }) {
    const st = status(sh, alarms);
    return h('article', { class: `card st-${st}`, 'data-shipment-id': sh.id, 'data-container': sh.container, 'aria-labelledby': `card-${sh.id}` },
      h('header', { class: 'card-head' },
        h('h3', { id: `card-${sh.id}` }, h('a', { href: `#/shipment/${sh.id}`, 'data-focus': `card-${sh.id}` }, sh.donation_code || `#${sh.id}`)),
        statusBadge(st)),
      h('p', { class: 'muted' }, tv('profile', profileName(sh.profile)), ' · ', tv('sstatus', sh.status)),
      radioBadge(sh),
      route(sh),
      h('div', { class: 'spark-wrap' }, renderChart(readings, band(sh), { width: 300, height: 60 })),
      facts(sh),
      h('h4', {}, t('alarm.active')),
      alarmList(alarms, { canAck: true, onChange: load }),
      reportButtons(sh, String(sh.id), (m) => { reportMsg[sh.id] = m; render(); }, [getLang()]),
      reportMsg[sh.id] ? h('p', { class: reportMsg[sh.id].ok ? 'muted' : 'error', role: 'status' }, reportMsg[sh.id].text) : null);
  }

  const render = () => keepFocus(root, draw);
  load();
  return { refresh: load, render, destroy() {} };
}
