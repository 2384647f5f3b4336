// organtrack dashboard: hash router, header (navigation, live status,
// language), and the live wiring: every event from the stream (or every
// poll) makes the open view reload its data, at most every 1.5 s for
// readings and at once for alarms, custody and shipment changes.
import { h, keepFocus } from './util.js';
import { t, getLang, setLang, onLang, LANGS } from './i18n.js';
import { session, onAuthError } from './api.js';
import { Live } from './live.js';
import { loginView, setLoginNotice } from './views/login.js';
import { coordinatorView } from './views/coordinator.js';
import { shipmentView } from './views/shipment.js';
import { crewView } from './views/crew.js';
import { auditorView } from './views/auditor.js';
import { incidentsView } from './views/incidents.js';

const ROUTES = {
  login: loginView,
  coordinator: coordinatorView,
  shipment: shipmentView,
  crew: crewView,
  auditor: auditorView,
  incidents: incidentsView,
};
const LANG_LABEL = { kk: 'ҚАЗ', ru: 'РУС', en: 'ENG' };

const header = h('header', { class: 'top' });
const main = h('main', { id: 'view', tabindex: -1 });
const footer = h('footer', { class: 'foot' });
let view = null;
let routeName = '';
let liveMode = 'off';

const live = new Live(onEvent, (m) => { liveMode = m; renderHeader(); });

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function parse() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { name: parts[0] || '', params: parts.slice(1) };
}

function route() {
  let { name, params } = parse();
  if (!session.token) name = 'login';
  else if (!ROUTES[name] || name === 'login') {
    go(`#/${session.role || 'coordinator'}`);
    return;
  }
  view?.destroy();
  routeName = name;
  main.replaceChildren();
  view = ROUTES[name](main, { params, go, onLogin });
  renderHeader();
  document.title = `${t(`nav.${name}`)} · organtrack`;
}

function onLogin() {
  live.start(session.token);
}

let readingTimer = null;
function onEvent(ev) {
  if (!view || routeName === 'login') return;
  document.body.dataset.lastEvent = ev.type;
  if (ev.type === 'reading' || ev.type === 'poll' || ev.type === 'open') {
    if (readingTimer) return;
    readingTimer = setTimeout(() => { readingTimer = null; view?.refresh(ev.type); }, 1500);
  } else {
    view.refresh(ev.type);
  }
}

function renderHeader() {
  keepFocus(header, drawHeader);
}

function drawHeader() {
  const logged = !!session.token;
  const nav = logged ? h('nav', { 'aria-label': t('nav.label') },
    ['coordinator', 'crew', 'auditor', ...(session.role === 'crew' ? [] : ['incidents'])].map((n) => h('a', { href: `#/${n}`, 'data-focus': `nav-${n}`, 'aria-current': routeName === n ? 'page' : null }, t(`nav.${n}`)))) : null;
  header.replaceChildren(
    h('a', { class: 'skip', href: '#view', onclick: (e) => { e.preventDefault(); main.focus(); } }, t('skip')),
    h('a', { class: 'brand', href: '#/' }, h('span', { 'aria-hidden': 'true' }, '❄ '), 'organtrack', h('span', { class: 'tag' }, t('app.tagline'))),
    nav,
    h('div', { class: 'tools' },
      logged ? h('span', { class: `live live-${liveMode}`, role: 'status', 'data-mode': liveMode }, t(`live.${liveMode}`)) : null,
      h('div', { class: 'langs', role: 'group', 'aria-label': t('lang.label') },
        Object.keys(LANGS).map((l) => h('button', {
          type: 'button', lang: l, 'data-lang': l, 'data-focus': `lang-${l}`, 'aria-pressed': String(l === getLang()), title: LANGS[l]['lang.name'],
          onclick: () => setLang(l),
        }, LANG_LABEL[l]))),
      logged ? h('button', { type: 'button', class: 'secondary', onclick: logout }, t('action.logout')) : null));
  footer.replaceChildren(h('p', {}, t('footer.privacy')), h('p', { class: 'small' }, t('map.sources')));
}

function logout() {
  live.stop();
  session.clear();
  go('#/login');
}

onLang(() => {
  renderHeader();
  view?.render();
  document.title = `${t(`nav.${routeName}`)} · organtrack`;
});
onAuthError((status, code) => {
  if (routeName === 'login') return;
  setLoginNotice(code === 'token_expired' ? 'login.expired' : 'error.401');
  logout();
});
window.addEventListener('hashchange', route);

document.documentElement.lang = getLang();
document.body.append(header, main, footer);
if (session.token) live.start(session.token);
route();
