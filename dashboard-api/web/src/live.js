// Live updates. EventSource cannot send headers, so the token travels as
// ?access_token= on /api/v1/events only. Named events (reading, alarm,
// custody, shipment) carry JSON. When the stream cannot be opened or is
// closed by the server, the page polls every 5 s instead and tries the
// stream again after 30 s. The mode is shown in the header.
import { request } from './api.js';

const POLL_MS = 5000;
const RETRY_MS = 30000;
const EVENTS = ['reading', 'alarm', 'custody', 'shipment'];

export class Live {
  constructor(onEvent, onMode) {
    this.onEvent = onEvent;
    this.onMode = onMode;
    this.es = null;
    this.poll = null;
    this.retry = null;
    this.mode = 'off';
  }

  start(token) {
    this.stop();
    this.token = token;
    if (!token) return;
    if (typeof EventSource === 'undefined') {
      this.startPolling();
      return;
    }
    const es = new EventSource(`/api/v1/events?access_token=${encodeURIComponent(token)}`);
    this.es = es;
    // Polls until the stream is open so nothing is missed meanwhile.
    const early = setTimeout(() => { if (this.es === es && es.readyState !== 1) this.startPolling(); }, 5000);
    es.onopen = () => {
      clearTimeout(early);
      this.stopPolling();
      this.setMode('sse');
      this.onEvent({ type: 'open' });
    };
    es.onerror = () => {
      if (es.readyState === 2) {
        clearTimeout(early);
        es.close();
        if (this.es === es) this.es = null;
        this.startPolling();
        clearTimeout(this.retry);
        this.retry = setTimeout(() => this.start(this.token), RETRY_MS);
      } else {
        this.setMode('reconnecting');
      }
    };
    for (const type of EVENTS) {
      es.addEventListener(type, (ev) => {
        let data = null;
        try { data = JSON.parse(ev.data); } catch { data = null; }
        this.onEvent({ type, data, id: ev.lastEventId });
      });
    }
    // The server trimmed events this page never saw (Last-Event-ID older than
    // its oldest): reload everything instead of living with a gap.
    es.addEventListener('reset', () => this.onEvent({ type: 'poll' }));
    // The server ended the stream: the token was revoked or expired. Ask
    // once, so the app's 401 handler says which and returns to sign-in.
    es.addEventListener('unauthorized', () => {
      es.close();
      if (this.es === es) this.es = null;
      request('GET', '/me').catch(() => {});
    });
    es.onmessage = (ev) => {
      let data = null;
      try { data = JSON.parse(ev.data); } catch { data = null; }
      this.onEvent({ type: data?.type || 'message', data });
    };
  }

  startPolling() {
    if (this.poll) return;
    this.setMode('polling');
    this.poll = setInterval(() => this.onEvent({ type: 'poll' }), POLL_MS);
  }

  stopPolling() {
    clearInterval(this.poll);
    this.poll = null;
  }

  setMode(m) {
    this.mode = m;
    this.onMode(m);
  }

  stop() {
    if (this.es) this.es.close();
    this.es = null;
    this.stopPolling();
    clearTimeout(this.retry);
    this.setMode('off');
  }
}
