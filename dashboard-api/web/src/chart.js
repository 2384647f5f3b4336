// Temperature charts drawn as SVG: the preservation band is a shaded
// stripe, readings a line, readings outside the band red dots. The y range
// always shows the whole band plus 1 °C; the x range spans the readings.
import { s, toMs, num } from './util.js';
import { t, fmtClock, fmtTemp } from './i18n.js';

function points(readings) {
  return readings
    .map((r) => [toMs(r.ts), num(r.temp_c)])
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
    .sort((a, b) => a[0] - b[0]);
}

export function renderChart(readings, band, { width = 240, height = 56, spark = true } = {}) {
  const pts = points(readings || []);
  const bmin = num(band?.temp_min_c);
  const bmax = num(band?.temp_max_c);
  let ymin = Math.min(...pts.map((p) => p[1]), Number.isFinite(bmin) ? bmin - 1 : Infinity);
  let ymax = Math.max(...pts.map((p) => p[1]), Number.isFinite(bmax) ? bmax + 1 : -Infinity);
  if (!Number.isFinite(ymin) || !Number.isFinite(ymax)) { ymin = 0; ymax = 10; }
  if (ymax - ymin < 1) { ymin -= 0.5; ymax += 0.5; }
  const padL = spark ? 2 : 58;
  const padR = spark ? 2 : 10;
  const padT = spark ? 2 : 10;
  const padB = spark ? 2 : 24;
  const x0 = pts.length ? pts[0][0] : 0;
  const x1 = pts.length > 1 ? pts[pts.length - 1][0] : x0 + 1;
  const X = (x) => padL + ((x - x0) / (x1 - x0 || 1)) * (width - padL - padR);
  const Y = (y) => padT + ((ymax - y) / (ymax - ymin)) * (height - padT - padB);
  const last = pts[pts.length - 1];
  const desc = last
    ? t('chart.desc', { n: pts.length, last: fmtTemp(last[1]), min: fmtTemp(bmin), max: fmtTemp(bmax) })
    : t('chart.empty');
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: spark ? 'chart spark' : 'chart', role: 'img', 'aria-label': desc, preserveAspectRatio: 'none' });
  svg.append(s('title', {}, desc));
  if (Number.isFinite(bmin) && Number.isFinite(bmax)) {
    svg.append(s('rect', { x: padL, y: Y(bmax), width: width - padL - padR, height: Math.max(0, Y(bmin) - Y(bmax)), class: 'band' }));
  }
  if (!spark) {
    const step = niceStep((ymax - ymin) / 5);
    for (let v = Math.ceil(ymin / step) * step; v <= ymax; v += step) {
      svg.append(s('line', { x1: padL, x2: width - padR, y1: Y(v), y2: Y(v), class: 'grid' }));
      svg.append(s('text', { x: padL - 6, y: Y(v) + 4, 'text-anchor': 'end', class: 'axis' }, fmtTemp(v)));
    }
    if (pts.length) {
      for (let i = 0; i <= 4; i++) {
        const x = x0 + ((x1 - x0) * i) / 4;
        svg.append(s('text', { x: X(x), y: height - 6, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle', class: 'axis' }, fmtClock(x)));
      }
    }
  }
  if (pts.length) {
    svg.append(s('polyline', { points: pts.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' '), class: 'line', 'vector-effect': 'non-scaling-stroke' }));
    for (const [x, y] of pts) {
      if ((Number.isFinite(bmin) && y < bmin) || (Number.isFinite(bmax) && y > bmax)) {
        svg.append(s('circle', { cx: X(x), cy: Y(y), r: spark ? 1.8 : 3, class: 'out' }));
      }
    }
  } else {
    svg.append(s('text', { x: width / 2, y: height / 2 + 4, 'text-anchor': 'middle', class: 'axis' }, t('chart.empty')));
  }
  return svg;
}

function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}
