// Coordinator view: every active shipment on the map of Kazakhstan and one
// card each (sparkline with band, temperature, ischaemia, ETA vs deadline,
// active alarms with Acknowledge).
import { h, keepFocus } from '../util.js';
import { t, tv } from '../i18n.js';
import { api, all } from '../api.js';
import { renderMap } from '../map.js';
import { renderChart } from '../chart.js';
import { band, latest, status, profileName } from '../model.js';
import { statusBadge, facts, route, alarmList, errorText, title } from '../components.js';
import { num, items, toMs } from '../util.js';
import { getLang } from '../i18n.js';
import { reportButtons } from '../report.js';

// The last 3 h of reading time, one point a minute (server-side buckets).
function sparkQuery(sh) {
  const last = toMs(latest(sh)?.ts);
  return Number.isFinite(last) ? `?from=${Math.round(last - 3 * 3600000)}&every=60&limit=500` : '?every=60&limit=500';
}

export function coordinatorView(root, { go }) {
  let data = null;
  let error = null;
  const reportMsg = {};

  async function load() {
    try {
      const list = await all('/shipments?status=active');
      const rows = await Promise.all(list.map(async (sh) => {
        const [r, a] = await Promise.all([
          api.readings(sh.id, sparkQuery(sh)).then(items).catch(() => []),
          api.alarms(sh.id).then(items).catch(() => []),
        ]);
        return { sh, readings: r, alarms: a };
      }));
      data = rows;
      error = null;
    } catch (e) {
      error = e;
    }
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
    const markers = data.map(({ sh, alarms }) => ({
      lat: num(latest(sh)?.lat), lon: num(latest(sh)?.lon), status: status(sh, alarms),
      label: `${title(sh)} — ${t(`status.${status(sh, alarms)}`)}`, short: sh.container,
      onclick: () => go(`#/shipment/${sh.id}`),
    }));
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
