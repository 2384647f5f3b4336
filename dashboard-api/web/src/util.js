// Small DOM helpers: h() builds HTML elements, s() SVG elements. Text is
// always set as text (never innerHTML), so data from the API cannot inject
// markup.
const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(el, attrs, children, svg) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'class' && !svg) el.className = v;
    else if (k === 'value' && !svg) el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function h(tag, attrs, ...children) {
  return apply(document.createElement(tag), attrs, children, false);
}

export function s(tag, attrs, ...children) {
  return apply(document.createElementNS(SVG_NS, tag), attrs, children, true);
}

/** Epoch ms from epoch ms, epoch s or an ISO-8601 string; NaN if unknown. */
export function toMs(v) {
  if (v === null || v === undefined || v === '') return NaN;
  if (typeof v === 'number') return v < 1e11 ? v * 1000 : v;
  if (/^\d+$/.test(String(v))) return toMs(Number(v));
  return Date.parse(v);
}

export function num(v) {
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}

export function items(body) {
  if (Array.isArray(body)) return body;
  if (body && Array.isArray(body.items)) return body.items;
  return [];
}

/** Calls fn at most once per `ms`, trailing. */
export function debounce(fn, ms) {
  let timer = null;
  return (...a) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...a), ms);
  };
}

export function shortHash(hx) {
  return hx ? String(hx).slice(0, 12) : '—';
}

/** Re-renders with fn() and gives focus back to the element that had it
 * (matched by data-focus or id), so live refreshes do not steal focus. */
export function keepFocus(root, fn) {
  const el = document.activeElement;
  const key = el && root.contains(el) ? (el.closest('[data-focus]')?.dataset.focus || el.id) : '';
  fn();
  if (!key) return;
  const again = root.querySelector(`[data-focus="${CSS.escape(key)}"]`) || root.querySelector(`#${CSS.escape(key)}`);
  if (again && again !== document.activeElement) again.focus();
}
