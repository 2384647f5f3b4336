// Incidents of the internal control (SPEC v1.1): the list with its
// five-day answer deadline and the overdue flag the API computes against
// the server clock. Coordinators answer and close; auditors read only (the
// same list without the forms). Times with day and the UTC offset.
import { h, items, toMs } from '../util.js';
import { t, tv, fmtDateTimeZone } from '../i18n.js';
import { session, request } from '../api.js';
import { errorText } from '../components.js';

const STATES = ['open', 'answered', 'closed'];

const zoned = (iso) => fmtDateTimeZone(toMs(iso));

export function incidentsView(root) {
  let list = null;
  let error = null;
  let filter = 'open';
  let note = null;
  const drafts = {}; // answers being typed survive the live refreshes
  const canAnswer = session.role === 'coordinator';

  let shown = null; // what the page shows: a refresh with the same answer keeps the DOM
  async function load() {
    try {
      const q = filter ? `?state=${encodeURIComponent(filter)}` : '';
      list = items(await request('GET', `/incidents${q}`));
      error = null;
    } catch (e) {
      error = e;
    }
    const now = JSON.stringify([filter, list, error && String(error), note]);
    if (now === shown) return;
    shown = now;
    render();
  }

  async function update(inc, body) {
    note = null;
    try {
      await request('PATCH', `/incidents/${encodeURIComponent(inc.id)}`, body);
      note = t('inc.saved');
    } catch (e) {
      note = errorText(e);
    }
    load();
  }

  function form(inc) {
    if (!canAnswer || inc.state === 'closed') return null;
    const answer = h('textarea', {
      'aria-label': t('inc.answer'), rows: 2, maxlength: 2000, 'data-inc-answer': inc.id,
      oninput: (e) => { drafts[inc.id] = e.target.value; },
    }, drafts[inc.id] ?? inc.answer ?? '');
    return h('div', { class: 'inc-form' },
      answer,
      inc.state === 'open' ? h('button', {
        type: 'button', 'data-inc-do': `answer-${inc.id}`,
        onclick: () => {
          const v = answer.value.trim();
          if (!v) return;
          delete drafts[inc.id];
          update(inc, { state: 'answered', answer: v });
        },
      }, t('inc.do_answer')) : null,
      h('button', { type: 'button', 'data-inc-do': `close-${inc.id}`, onclick: () => update(inc, { state: 'closed' }) }, t('inc.do_close')));
  }

  function row(inc) {
    return h('li', { class: `inc inc-${inc.state}${inc.overdue ? ' inc-overdue' : ''}`, 'data-incident': inc.id },
      h('div', { class: 'inc-head' },
        h('strong', {}, tv('inc.kind', inc.kind)),
        ' · ', tv('inc.state', inc.state),
        inc.overdue ? h('span', { class: 'badge alarm', role: 'status' }, ` ${t('inc.overdue')}`) : null),
      h('div', {}, t('inc.shipment'), ': ', inc.shipment_id ? h('a', { href: `#/shipment/${inc.shipment_id}` }, `#${inc.shipment_id}`) : '—'),
      h('div', {}, t('inc.opened'), ': ', zoned(inc.opened_at), ' · ', t('inc.due'), ': ', zoned(inc.due_at)),
      inc.detail ? h('div', { class: 'inc-detail' }, inc.detail) : null,
      inc.answer ? h('div', { class: 'inc-answer' }, t('inc.answer'), ': ', inc.answer) : null,
      form(inc));
  }

  function render() {
    root.replaceChildren();
    root.append(h('h1', {}, t(canAnswer ? 'inc.title' : 'inc.title_ro')));
    root.append(h('div', { class: 'inc-filter', role: 'group', 'aria-label': t('inc.filter') },
      ['', ...STATES].map((s) => h('button', {
        type: 'button', 'aria-pressed': String(filter === s), 'data-inc-filter': s || 'all',
        onclick: () => { filter = s; load(); },
      }, s ? tv('inc.state', s) : t('inc.all')))));
    if (note) root.append(h('p', { role: 'status' }, note));
    if (error) root.append(h('p', { class: 'error', role: 'alert' }, errorText(error)));
    if (!list) {
      root.append(h('p', {}, t('loading')));
      return;
    }
    root.append(list.length ? h('ul', { class: 'incidents' }, list.map(row)) : h('p', {}, t('inc.none')));
  }

  render();
  load();
  // incidents are not on the event stream: a live refresh reloads the list
  // only while nobody is typing an answer
  // (a focused answer box counts: re-rendering would take it from under the
  // hand that is about to type)
  const typing = () => Object.values(drafts).some((v) => v && v.trim()) ||
    (document.activeElement && document.activeElement.tagName === 'TEXTAREA' &&
     root.contains(document.activeElement));
  return { refresh: () => { if (!typing()) load(); }, destroy: () => {} };
}
