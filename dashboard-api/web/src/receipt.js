// Receipt at the destination (SPEC v1.1), in the crew view: the check-in,
// where the receiver states what the label says (donation code, content,
// laterality, ABO) with a witness who read it too, and reperfusion (first
// anastomosis), which ends cold ischaemia. The server compares the label
// with the shipment; a mismatch is stored as stated, raises the critical
// identity_mismatch alarm and opens an incident. The page shows the
// server's answer as it is: what differs, never "corrected".
import { h, num, toMs } from './util.js';
import { t, tv, fmtTime, fmtMinutes } from './i18n.js';
import { api, request } from './api.js';
import { errorText } from './components.js';
import { profileName, checkinResult } from './model.js';

const LATERALITY = ['', 'left', 'right', 'both'];
const ABO = ['', 'O', 'O+', 'O-', 'A', 'A+', 'A-', 'B', 'B+', 'B-', 'AB', 'AB+', 'AB-'];
// offered when the profile list cannot be read
const KNOWN = ['heart', 'kidney', 'liver', 'lung', 'pancreas', 'intestine', 'cornea', 'tissue'];

export function receiptSection({ current, reload, render }) {
  const f = { donation_code: '', profile: '', laterality: '', abo: '', witness: '', at: '' };
  let profiles = null;
  let shown = '';
  let busy = false;
  let error = null;
  let result = null; // {type:'checkin', diffs} | {type:'reperfused', entry}

  function loadProfiles() {
    profiles = [];
    request('GET', '/profiles').then((b) => {
      profiles = (b?.items || []).map((p) => p.name).filter(Boolean);
      render();
    }).catch(() => {});
  }

  async function send(body, kind) {
    const sh = current();
    if (!sh || busy) return;
    busy = true;
    error = null;
    render();
    try {
      const entry = await api.addCustody(sh.id, body);
      result = kind === 'checkin' ? { type: kind, diffs: checkinResult(entry) || [] } : { type: kind, entry };
      if (kind === 'checkin') Object.assign(f, { donation_code: '', profile: '', laterality: '', abo: '', witness: '' });
      else f.at = '';
      busy = false;
      await reload();
      document.getElementById('receipt-result')?.focus();
      return;
    } catch (e) {
      error = { kind, text: errorText(e) };
    }
    busy = false;
    render();
  }

  function checkin(e) {
    e.preventDefault();
    error = null;
    for (const k of ['donation_code', 'profile', 'witness']) {
      if (!f[k].trim()) {
        error = { kind: 'checkin', text: t('crew.required', { field: t(`checkin.${k}`) }) };
        render();
        document.getElementById(`ci-${k}`)?.focus();
        return;
      }
    }
    const verify = { donation_code: f.donation_code.trim(), profile: f.profile };
    if (f.laterality) verify.laterality = f.laterality;
    if (f.abo) verify.abo = f.abo;
    send({ type: 'checkin', verify, witness: f.witness.trim() }, 'checkin');
  }

  function reperfused(e) {
    e.preventDefault();
    const body = { type: 'reperfused' };
    if (f.at) {
      const ms = Date.parse(f.at); // datetime-local: the browser's zone
      if (!Number.isFinite(ms)) {
        error = { kind: 'reperfused', text: t('reperf.bad_time') };
        render();
        return;
      }
      body.at = new Date(ms).toISOString();
    }
    send(body, 'reperfused');
  }

  const input = (k, attrs = {}) => h('input', {
    id: `ci-${k}`, name: k, type: 'text', value: f[k], autocomplete: 'off', maxlength: 64,
    oninput: (e) => { f[k] = e.target.value; }, ...attrs,
  });
  const select = (k, opts, label) => h('select', { id: `ci-${k}`, name: k, onchange: (e) => { f[k] = e.target.value; } },
    opts.map((v) => h('option', { value: v, selected: v === f[k] }, v ? label(v) : t('checkin.none'))));
  const field = (k, ctl, req) => h('div', { class: 'field' },
    h('label', { for: `ci-${k}` }, t(`checkin.${k}`), req ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null), ctl);

  function resultPanel(sh) {
    if (!result) return null;
    if (result.type === 'checkin') {
      const d = result.diffs;
      if (!d.length) {
        return h('div', { class: 'panel ok-panel checkin-result', id: 'receipt-result', tabindex: -1, role: 'status', 'data-result': 'match' },
          h('h3', {}, t('checkin.match')));
      }
      return h('div', { class: 'panel checkin-result mismatch', id: 'receipt-result', tabindex: -1, role: 'alert', 'data-result': 'mismatch' },
        h('h3', {}, '⚠ ', t('checkin.mismatch')),
        h('ul', {}, d.map((x) => h('li', { 'data-field': x.field },
          x.field ? t('checkin.diff', { field: t(`checkin.${x.field}`), label: x.label, shipment: x.shipment }) : x.shipment))),
        h('p', {}, t('checkin.mismatch_next')));
    }
    const isch = sh?.ischemia || {};
    return h('div', { class: 'panel ok-panel', id: 'receipt-result', tabindex: -1, role: 'status', 'data-result': 'reperfused' },
      h('h3', {}, t('reperf.logged')),
      h('p', {}, t('reperf.ended', { at: fmtTime(toMs(isch.ended_at)), total: fmtMinutes(num(isch.total_min)) })));
  }

  function draw() {
    const sh = current();
    if (!sh) return null;
    if (shown !== String(sh.id)) {
      shown = String(sh.id);
      result = null;
      error = null;
    }
    if (profiles === null) loadProfiles();
    const opts = ['', ...(profiles?.length ? profiles : KNOWN)];
    const ended = !!sh.ischemia?.ended_at;
    return h('section', { class: 'panel receipt', 'aria-labelledby': 'receipt-h' },
      h('h2', { id: 'receipt-h' }, t('receipt.title')),
      h('p', { class: 'muted' }, t('receipt.intro')),
      h('form', { class: 'checkin', onsubmit: checkin, novalidate: true, 'aria-labelledby': 'checkin-h' },
        h('h3', { id: 'checkin-h' }, t('checkin.title')),
        field('donation_code', input('donation_code'), true),
        field('profile', select('profile', opts, (v) => tv('profile', profileName(v)) + (v.includes('/') ? ` (${v})` : '')), true),
        field('laterality', select('laterality', LATERALITY, (v) => tv('lat', v))),
        field('abo', select('abo', ABO, (v) => v)),
        field('witness', input('witness', { maxlength: 128 }), true),
        error?.kind === 'checkin' ? h('p', { class: 'error', role: 'alert' }, error.text) : null,
        h('button', { type: 'submit', class: 'primary big', id: 'checkin-submit', disabled: busy }, busy ? t('crew.sending') : t('checkin.submit'))),
      h('form', { class: 'reperfused', onsubmit: reperfused, novalidate: true, 'aria-labelledby': 'reperf-h' },
        h('h3', { id: 'reperf-h' }, t('reperf.title')),
        ended
          ? h('p', { class: 'muted', 'data-field': 'ischemia-ended' }, t('reperf.ended', { at: fmtTime(toMs(sh.ischemia.ended_at)), total: fmtMinutes(num(sh.ischemia.total_min)) }))
          : [
            h('div', { class: 'field' },
              h('label', { for: 'ci-at' }, t('reperf.at')),
              h('input', { id: 'ci-at', name: 'at', type: 'datetime-local', value: f.at, oninput: (e) => { f.at = e.target.value; } }),
              h('span', { class: 'muted small' }, t('reperf.at_hint'))),
            error?.kind === 'reperfused' ? h('p', { class: 'error', role: 'alert' }, error.text) : null,
            h('button', { type: 'submit', class: 'primary big', id: 'reperf-submit', disabled: busy }, busy ? t('crew.sending') : t('reperf.submit'))]),
      resultPanel(sh));
  }

  return { draw };
}
