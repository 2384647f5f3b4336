// Shipment view: temperature chart with the preservation band, the route
// travelled (positions of the readings) and the planned legs on the map,
// the legs with their times and flights, the radio state, alarms and the
// custody timeline.
import { h, num, items, toMs, keepFocus } from '../util.js';
import { t, tv } from '../i18n.js';
import { api, all } from '../api.js';
import { renderMap } from '../map.js';
import { renderChart } from '../chart.js';
import { band, latest, status, profileName, legs, currentLeg, radio } from '../model.js';
import { statusBadge, facts, route, alarmList, custodyTimeline, errorText, title, radioPanel, legsTable } from '../components.js';

export function shipmentView(root, { params }) {
  const id = params[0];
  let d = null;
  let error = null;

  async function load() {
    try {
      const [sh, readings, alarms, custody] = await Promise.all([
        api.shipment(id),
        all(`/shipments/${encodeURIComponent(id)}/readings?every=15&limit=5000`, 10).catch(() => []),
        api.alarms(id).then(items).catch(() => []),
        all(`/shipments/${encodeURIComponent(id)}/custody`).catch(() => []),
      ]);
      d = { sh, readings, alarms, custody };
      error = null;
    } catch (e) {
      error = e;
    }
    render();
  }

  function draw() {
    root.replaceChildren();
    root.append(h('p', {}, h('a', { href: '#/coordinator' }, '← ', t('nav.coordinator'))));
    if (error) root.append(h('p', { class: 'error', role: 'alert' }, errorText(error)));
    if (!d) {
      root.append(h('p', { class: 'muted' }, t('loading')));
      return;
    }
    const { sh, readings, alarms, custody } = d;
    const st = status(sh, alarms);
    const l = latest(sh);
    const sorted = [...readings].sort((a, b) => toMs(a.ts) - toMs(b.ts));
    root.append(h('header', { class: 'ship-head' },
      h('h1', {}, title(sh)), statusBadge(st, true)));
    root.append(route(sh));
    root.append(h('p', { class: 'muted' }, tv('sstatus', sh.status), ' · ', t('label.profile'), ': ', tv('profile', profileName(sh.profile)),
      sh.laterality ? [' · ', t('label.laterality'), ': ', tv('lat', sh.laterality)] : null,
      sh.abo ? [' · ', t('label.abo'), ': ', sh.abo] : null));
    root.append(facts(sh));
    const chartW = Math.round(Math.min(900, Math.max(320, (root.clientWidth || 900) - 40)));
    const rp = radioPanel(sh);
    if (rp) root.append(rp);
    root.append(h('section', { class: 'panel panel-chart' }, h('h2', {}, t('ship.chart')),
      // drawn at about the width it gets, so a phone's axis labels stay legible
      renderChart(sorted, band(sh), { width: chartW, height: chartW < 600 ? 220 : 280, spark: false })));
    const places = [];
    if (sh.origin) places.push({ lat: num(sh.origin.lat), lon: num(sh.origin.lon), label: sh.origin.name || '' });
    if (sh.destination) places.push({ lat: num(sh.destination.lat), lon: num(sh.destination.lon), label: sh.destination.name || '' });
    const at = Number.isFinite(toMs(l?.ts)) ? Math.max(toMs(l.ts), Date.now()) : Date.now();
    const cur = currentLeg(sh, at);
    const plan = legs(sh).map((lg, i) => ({
      mode: lg.mode, current: i === cur,
      from: { lat: num(lg.from.lat), lon: num(lg.from.lon), name: lg.from.name },
      to: { lat: num(lg.to.lat), lon: num(lg.to.lon), name: lg.to.name },
    }));
    const markers = [{ lat: num(l?.lat), lon: num(l?.lon), status: st, label: title(sh), short: sh.container }];
    // the latest reading may have no position (no fix, or in flight): the
    // last one that had one, marked as such
    const pos = radio(sh).pos;
    if (pos && (pos.lat !== num(l?.lat) || pos.lon !== num(l?.lon))) {
      markers.push({ lat: pos.lat, lon: pos.lon, status: st, label: t('radio.last_marker'), short: t('radio.last_marker') });
    }
    root.append(h('section', { class: 'panel panel-map' }, h('h2', {}, t('ship.route')),
      h('div', { class: 'map-wrap' }, renderMap({
        routes: [{ points: sorted.map((r) => [num(r.lon), num(r.lat)]) }],
        places, legs: plan, markers,
        label: t('ship.route'),
      })),
      plan.length ? h('div', { class: 'map-key muted' },
        h('span', { class: 'key-ground' }, tv('leg', 'ground')), h('span', { class: 'key-air' }, tv('leg', 'air')),
        h('span', { class: 'key-current' }, t('legs.current'))) : null));
    const lt = legsTable(sh, at);
    if (lt) root.append(h('section', { class: 'panel panel-legs' }, h('h2', {}, t('legs.title')), lt));
    root.append(h('div', { class: 'two' },
      h('section', { class: 'panel panel-alarms' }, h('h2', {}, t('alarm.title')), alarmList(alarms, { canAck: true, onChange: load, onlyActive: false })),
      h('section', { class: 'panel panel-custody' }, h('h2', {}, t('custody.title')), custodyTimeline(custody))));
  }

  const render = () => keepFocus(root, draw);
  load();
  return { refresh: load, render, destroy() {} };
}
