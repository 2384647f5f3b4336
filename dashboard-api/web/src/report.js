// Shipment report (PDF, SPEC v1.1) downloads and the auditor's sign-off
// (an electronic signature: meaning, statement and the signer's PIN, POST
// /signatures). Shared by the auditor and coordinator views.
import { h } from './util.js';
import { t } from './i18n.js';
import { api } from './api.js';
import { errorText } from './components.js';

export const REPORT_LANGS = ['kk', 'ru', 'en'];
const MEANINGS = ['released', 'reviewed', 'rejected'];

function safeName(sh, id) {
  return String(sh?.donation_code || id).replace(/[^A-Za-z0-9-]+/g, '_');
}

/** Downloads an export; resolves to {ok, text} for a status line. */
export async function downloadExport(sh, id, fmt, ext, lang) {
  try {
    const res = await api.exportFile(id, fmt, lang);
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: `organtrack-${safeName(sh, id)}-${fmt}${lang ? `-${lang}` : ''}.${ext}` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    const what = fmt === 'pdf' ? t('report.download', { lang: t(`report.lang.${lang}`) }) : t(`export.${fmt}`);
    return { ok: true, text: t('audit.downloaded', { fmt: what, kb: (blob.size / 1024).toFixed(1) }) };
  } catch (e) {
    return { ok: false, text: errorText(e) };
  }
}

/** One report button per language (or only `langs`). onDone({ok,text}). */
export function reportButtons(sh, id, onDone, langs = REPORT_LANGS) {
  return h('div', { class: 'buttons report-buttons' }, langs.map((lang) => h('button', {
    type: 'button', class: 'secondary', 'data-report-lang': lang,
    onclick: async () => onDone(await downloadExport(sh, id, 'pdf', 'pdf', lang)),
  }, t('report.download', { lang: t(`report.lang.${lang}`) }))));
}

function signError(e) {
  if (e?.code === 'wrong_pin') return t('sign.wrong_pin');
  if (e?.code === 'signer_locked') return t('sign.locked');
  if (e?.code === 'pin_not_set') return t('sign.no_pin');
  return errorText(e);
}

/** The sign-off dialog; onSigned(entry) after a 201. */
export function signOffDialog(id, onSigned) {
  const dlg = h('dialog', { class: 'sign-dialog', 'aria-labelledby': 'sign-title' });
  const msg = h('p', { class: 'error', role: 'alert', id: 'sign-error' });
  const meaning = h('select', { id: 'sign-meaning', name: 'meaning' },
    MEANINGS.map((m) => h('option', { value: m }, t(`meaning.${m}`))));
  const statement = h('textarea', { id: 'sign-statement', name: 'statement', rows: 3, maxlength: 1000, required: true });
  const pin = h('input', { id: 'sign-pin', name: 'pin', type: 'password', autocomplete: 'off', minlength: 6, maxlength: 128, required: true });
  const submit = h('button', { type: 'submit', id: 'sign-submit' }, t('sign.submit'));
  const form = h('form', {
    method: 'dialog',
    onsubmit: async (ev) => {
      ev.preventDefault();
      msg.textContent = '';
      if (!statement.value.trim()) { msg.textContent = t('sign.statement_required'); return; }
      if (pin.value.length < 6) { msg.textContent = t('sign.pin_short'); return; }
      submit.disabled = true;
      try {
        const entry = await api.sign(id, { meaning: meaning.value, statement: statement.value.trim(), pin: pin.value });
        pin.value = '';
        dlg.close();
        dlg.remove();
        onSigned(entry);
      } catch (e) {
        pin.value = '';
        msg.textContent = signError(e);
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('h2', { id: 'sign-title' }, t('sign.title')),
  h('p', { class: 'muted' }, t('sign.intro')),
  h('div', { class: 'field' }, h('label', { for: 'sign-meaning' }, t('sign.meaning')), meaning),
  h('div', { class: 'field' }, h('label', { for: 'sign-statement' }, t('sign.statement')), statement),
  h('div', { class: 'field' }, h('label', { for: 'sign-pin' }, t('sign.pin')), pin),
  msg,
  h('div', { class: 'buttons' }, submit,
    h('button', { type: 'button', class: 'secondary', onclick: () => { pin.value = ''; dlg.close(); dlg.remove(); } }, t('action.cancel'))));
  dlg.append(form);
  return dlg;
}
