// Checks the dictionaries: every key exists in kk, ru and en, no value is
// empty, placeholders ({name}) agree across languages, every key the
// sources use literally (t('…')) exists, and every value of the enumerated
// prefixes the views translate (status, alarm types, …) is present.
// Exit 0 = all good; prints one line per problem otherwise.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import kk from '../src/locales/kk.js';
import ru from '../src/locales/ru.js';
import en from '../src/locales/en.js';

const here = dirname(fileURLToPath(import.meta.url));
const langs = { kk, ru, en };
const problems = [];
const all = new Set(Object.keys(kk).concat(Object.keys(ru), Object.keys(en)));
const ph = (s) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');

for (const key of all) {
  for (const [l, d] of Object.entries(langs)) {
    if (!(key in d)) problems.push(`${l}: missing key ${key}`);
    else if (typeof d[key] !== 'string' || !d[key].trim()) problems.push(`${l}: empty value for ${key}`);
  }
  const p = Object.values(langs).map((d) => ph(d[key] ?? ''));
  if (new Set(p).size > 1) problems.push(`placeholders differ for ${key}: ${p.join(' | ')}`);
}

// Literal keys in the sources.
function walk(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.js') ? [p] : [];
  });
}
const src = join(here, '..', 'src');
let used = 0;
for (const file of walk(src)) {
  if (file.includes('locales')) continue;
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/\bt\('([\w.-]+)'/g)) {
    used++;
    if (!all.has(m[1])) problems.push(`${file}: t('${m[1]}') has no translation`);
  }
  for (const m of text.matchAll(/'((?:audit\.col|custody|fact|export)\.[\w.]+)'/g)) {
    if (!all.has(m[1])) problems.push(`${file}: '${m[1]}' has no translation`);
  }
}

// Keys built at run time from enumerations (SPEC values and view names).
const ENUMS = {
  status: ['ok', 'warning', 'alarm'], advice: ['ok', 'warning', 'alarm'],
  nav: ['coordinator', 'crew', 'auditor', 'login', 'shipment'], live: ['sse', 'polling', 'reconnecting', 'off'],
  crew: ['from', 'to', 'witness', 'seal', 'comment'], export: ['bundle', 'epcis', 'csv'],
  alarm: ['temp_excursion', 'temp_forecast', 'ischemia_warn', 'ischemia_limit', 'eta_late', 'lid_open', 'shock', 'battery_low', 'gnss_lost', 'sensor_silent', 'gateway_offline'],
  severity: ['info', 'warning', 'critical'], astate: ['raised', 'acknowledged', 'cleared'],
  sstatus: ['created', 'in_transit', 'delivered', 'closed', 'discarded'], mode: ['ground', 'air', 'mixed'],
  ctype: ['packed', 'handoff', 'departed', 'arrived', 'received', 'opened', 'discarded', 'note'],
  role: ['crew', 'coordinator', 'auditor', 'admin'],
  adetail: ['temp_excursion', 'temp_forecast', 'ischemia_warn', 'ischemia_limit', 'eta_late', 'lid_open', 'shock', 'battery_low', 'sensor_silent'],
};
for (const [prefix, values] of Object.entries(ENUMS)) {
  for (const v of values) if (!all.has(`${prefix}.${v}`)) problems.push(`missing enumerated key ${prefix}.${v}`);
}

// Every city build.mjs puts on the map has a name in each language.
const buildSrc = readFileSync(join(here, '..', 'build.mjs'), 'utf8');
const cityBlock = buildSrc.slice(buildSrc.indexOf('const CITIES'), buildSrc.indexOf('];', buildSrc.indexOf('const CITIES')));
for (const m of cityBlock.matchAll(/\['([\w-]+)'/g)) {
  if (!all.has(`city.${m[1]}`)) problems.push(`missing city name city.${m[1]}`);
}

// A value identical in kk and en is suspicious unless it is a name or a unit.
const SAME_OK = /^(map\.credit|fmt\.|export\.epcis|city\.|error\.other|nav\.crew|custody\.seal)/;
const same = [...all].filter((k) => kk[k] === en[k] && !SAME_OK.test(k) && /[A-Za-z]{3}/.test(en[k]));
for (const k of same) problems.push(`kk value of ${k} is the English text: ${en[k]}`);

for (const p of problems) console.log(p);
console.log(`i18n: ${all.size} keys × 3 languages, ${used} literal uses checked, ${problems.length} problem(s)`);
process.exit(problems.length ? 1 : 0);
