// Sign-in: the user pastes the bearer token they were given (the demo
// writes them to var/demo/tokens.json) and says which role it is for; the
// token is checked against the API before it is kept.
import { h } from '../util.js';
import { t, tv } from '../i18n.js';
import { session, request } from '../api.js';
import { errorText } from '../components.js';

const ROLES = ['coordinator', 'crew', 'auditor'];
const state = { role: 'coordinator', error: null, busy: false };

/** Shown on the sign-in page once, e.g. 'login.expired' after a 401. */
export function setLoginNotice(key) {
  state.error = t(key);
}

export function loginView(root, { go, onLogin }) {
  function render() {
    root.replaceChildren();
    const token = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true });
    const form = h('form', { class: 'login panel', 'aria-labelledby': 'login-h', novalidate: true },
      h('h1', { id: 'login-h' }, t('login.title')),
      h('p', { class: 'muted' }, t('login.intro')),
      h('div', { class: 'field' }, h('label', { for: 'token' }, t('login.token')), token),
      h('div', { class: 'field' }, h('label', { for: 'role' }, t('login.role')),
        h('select', { id: 'role', name: 'role', onchange: (e) => { state.role = e.target.value; } },
          ROLES.map((r) => h('option', { value: r, selected: r === state.role }, tv('role', r))))),
      state.error ? h('p', { class: 'error', role: 'alert' }, state.error) : null,
      h('button', { type: 'submit', class: 'primary', disabled: state.busy }, t('login.submit')),
      h('p', { class: 'muted small' }, t('login.hint')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = token.value.trim();
      if (!v) { state.error = t('login.empty'); render(); return; }
      state.busy = true;
      session.save(v, state.role);
      try {
        // /api/v1/me names the token's role when the API has it; else the choice stands.
        let role = state.role;
        try {
          const me = await request('GET', '/me');
          const r = me?.role || me?.principal?.role;
          if (ROLES.includes(r)) role = r;
        } catch (err) {
          if (err.status === 401) throw err;
          await request('GET', '/shipments?status=active&limit=1');
        }
        session.save(v, role);
        state.role = role;
        state.error = null;
        state.busy = false;
        onLogin();
        go(`#/${state.role}`);
      } catch (err) {
        session.clear();
        state.busy = false;
        state.error = errorText(err);
        render();
      }
    });
    root.append(form);
    token.focus();
  }
  render();
  return { refresh() {}, render, destroy() {} };
}
