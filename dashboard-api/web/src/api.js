// HTTP client of organtrack-api (SPEC "HTTP API"). The bearer token the
// user pasted is kept in localStorage and sent as Authorization: Bearer on
// every request. Errors carry the SPEC shape {"error":{"code","message"}}.
export const session = {
  get token() { return localStorage.getItem('ot.token') || ''; },
  get role() { return localStorage.getItem('ot.role') || ''; },
  save(token, role) {
    localStorage.setItem('ot.token', token);
    localStorage.setItem('ot.role', role);
  },
  clear() {
    localStorage.removeItem('ot.token');
    localStorage.removeItem('ot.role');
  },
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
  }
}

const listeners = new Set();
/** fn(status, code) is called on 401 so the app can ask for a new token
 * (code "token_expired": the token's time is up). */
export function onAuthError(fn) {
  listeners.add(fn);
}

export async function request(method, path, body, { raw = false } = {}) {
  const headers = { Accept: raw ? '*/*' : 'application/json' };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'network', e.message);
  }
  if (!res.ok) {
    let code = '';
    let message = '';
    try {
      const j = await res.json();
      code = j?.error?.code || '';
      message = j?.error?.message || '';
    } catch { /* not JSON */ }
    if (res.status === 401) for (const fn of listeners) fn(res.status, code);
    throw new ApiError(res.status, code, message);
  }
  if (raw) return res;
  if (res.status === 204) return null;
  return res.json();
}

export const api = {
  shipments: (status) => request('GET', `/shipments${status ? `?status=${encodeURIComponent(status)}` : ''}`),
  shipment: (id) => request('GET', `/shipments/${encodeURIComponent(id)}`),
  readings: (id, q = '') => request('GET', `/shipments/${encodeURIComponent(id)}/readings${q}`),
  alarms: (id) => request('GET', `/shipments/${encodeURIComponent(id)}/alarms`),
  ack: (alarmId, comment) => request('POST', `/alarms/${encodeURIComponent(alarmId)}/ack`, { comment }),
  custody: (id) => request('GET', `/shipments/${encodeURIComponent(id)}/custody`),
  addCustody: (id, entry) => request('POST', `/shipments/${encodeURIComponent(id)}/custody`, entry),
  exportFile: (id, format, lang) => request('GET', `/shipments/${encodeURIComponent(id)}/export?format=${encodeURIComponent(format)}${lang ? `&lang=${encodeURIComponent(lang)}` : ''}`, undefined, { raw: true }),
  sign: (id, body) => request('POST', `/shipments/${encodeURIComponent(id)}/signatures`, body),
};

/** Fetches every page of a list endpoint (SPEC paging: next cursor). */
export async function all(path, max = 20) {
  const out = [];
  let cursor = null;
  for (let i = 0; i < max; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const body = await request('GET', cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    const list = Array.isArray(body) ? body : body?.items || [];
    out.push(...list);
    cursor = body && !Array.isArray(body) ? body.next : null;
    if (!cursor) break;
  }
  return out;
}
