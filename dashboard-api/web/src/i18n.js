// Translations: one dictionary per language (locales/*.js), same keys in
// each (tools/check-i18n.mjs checks that). t(key, params) fills {name}
// placeholders; a missing key shows the key itself so it is noticed.
import en from './locales/en.js';
import ru from './locales/ru.js';
import kk from './locales/kk.js';

export const LANGS = { kk, ru, en };
const LOCALE = { kk: 'kk-KZ', ru: 'ru-RU', en: 'en-GB' };
let lang = pick();
const listeners = new Set();

function pick() {
  const saved = localStorage.getItem('ot.lang');
  if (saved && LANGS[saved]) return saved;
  const nav = (navigator.language || 'kk').slice(0, 2);
  return LANGS[nav] ? nav : 'kk';
}

export function getLang() {
  return lang;
}

export function setLang(l) {
  if (!LANGS[l] || l === lang) return;
  lang = l;
  localStorage.setItem('ot.lang', l);
  document.documentElement.lang = l;
  for (const fn of listeners) fn(l);
}

export function onLang(fn) {
  listeners.add(fn);
}

export function t(key, params) {
  let s = LANGS[lang][key];
  if (s === undefined) s = key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] === undefined ? m : String(params[k])));
  return s;
}

/** Translated label of an enumerated value, falling back to the raw value. */
export function tv(prefix, value) {
  const k = `${prefix}.${value}`;
  return LANGS[lang][k] !== undefined ? LANGS[lang][k] : String(value ?? '—');
}

/** Clock time only (chart axes, where the day is on the axis already). */
export function fmtClock(ms) {
  if (!Number.isFinite(ms)) return '—';
  return new Intl.DateTimeFormat(LOCALE[lang], { hour: '2-digit', minute: '2-digit' }).format(ms);
}

/** A moment people act on (ETA, deadline, alarms): day, time and the
 * browser's zone, so an ETA tomorrow and a deadline today do not look
 * alike ("2 Dec, 14:05 GMT+5"). */
export function fmtTime(ms) {
  if (!Number.isFinite(ms)) return '—';
  return new Intl.DateTimeFormat(LOCALE[lang], {
    day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
  }).format(ms);
}

export function fmtDateTime(ms) {
  if (!Number.isFinite(ms)) return '—';
  return new Intl.DateTimeFormat(LOCALE[lang], {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).format(ms);
}

/** Date, time and the UTC offset of the browser's zone ("02.12.2026,
 * 12:46:44 UTC+05:00"): the auditor's record, unambiguous across zones. */
export function fmtDateTimeZone(ms) {
  if (!Number.isFinite(ms)) return '—';
  const off = -new Date(ms).getTimezoneOffset();
  const sign = off < 0 ? '−' : '+';
  const a = Math.abs(off);
  return `${fmtDateTime(ms)} UTC${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

export function fmtTemp(c) {
  if (typeof c !== 'number' || !Number.isFinite(c)) return '—';
  return t('fmt.temp', { v: new Intl.NumberFormat(LOCALE[lang], { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(c) });
}

/** Minutes as "3 h 05 min"; negative → "overdue by …". */
export function fmtMinutes(min) {
  if (typeof min !== 'number' || !Number.isFinite(min)) return '—';
  const neg = min < 0;
  const m = Math.round(Math.abs(min));
  const text = m >= 60 ? t('fmt.hm', { h: Math.floor(m / 60), m: String(m % 60).padStart(2, '0') }) : t('fmt.m', { m });
  return neg ? t('fmt.overdue', { d: text }) : text;
}
