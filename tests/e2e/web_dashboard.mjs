// Browser half of web_dashboard.py: drives Debian's chromium with
// playwright-core (from dashboard-api/web/node_modules) against the running
// API. argv[2] is a JSON config from the Python side; "NEED excursion" on
// stdout asks it to publish the temperature excursion, and it answers "ok"
// on stdin. Any failed expectation exits 1 with a one-line reason; every
// step leaves a screenshot in cfg.artefacts.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'dashboard-api', 'web', 'package.json'));
const { chromium } = require('playwright-core');
const cfg = JSON.parse(process.argv[2]);
const stdin = createInterface({ input: process.stdin });
const lines = stdin[Symbol.asyncIterator]();

function log(msg) { process.stdout.write(`${msg}\n`); }
function fail(msg) { throw new Error(msg); }
async function shot(page, name) {
  const p = join(cfg.artefacts, `${name}.png`);
  await page.screenshot({ path: p, fullPage: true });
  log(`screenshot ${p}`);
}
async function text(page, sel) { return (await page.locator(sel).first().innerText()).trim(); }
async function expectText(page, sel, want, what) {
  try {
    await page.locator(sel).first().filter({ hasText: want }).waitFor({ timeout: 10000 });
  } catch {
    fail(`${what}: expected "${want}" in ${sel}, got "${await text(page, sel).catch(() => '?')}"`);
  }
}
async function login(page, token, role) {
  await page.goto(cfg.url + '/');
  await page.locator('#token').waitFor({ timeout: 15000 });
  await page.fill('#token', token);
  await page.selectOption('#role', role);
  await page.click('form.login button[type=submit]');
}

const userData = mkdtempSync(join(tmpdir(), 'ot-web-chromium-'));
const ctxOpts = {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-dev-shm-usage',
    // HTTPS run: trust exactly the test server's key, nothing more
    ...(cfg.spki ? [`--ignore-certificate-errors-spki-list=${cfg.spki}`] : [])],
  viewport: { width: 1366, height: 900 },
  locale: 'en-GB',
};
const errors = [];
let ctx;
let code = 0;
try {
  ctx = await chromium.launchPersistentContext(userData, ctxOpts);
  // Nothing may be fetched from outside the API's origin.
  await ctx.route('**/*', (r) => (r.request().url().startsWith(cfg.url) || r.request().url().startsWith('data:') || r.request().url().startsWith('blob:')
    ? r.continue() : (errors.push(`external request ${r.request().url()}`), r.abort())));
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  // mixed content (an http:// fetch from an https:// page) is reported on the console
  const watchConsole = (p) => p.on('console', (m) => {
    if (/mixed content|insecure/i.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  watchConsole(page);
  ctx.on('requestfailed', (rq) => {
    if (rq.failure() && /CERT|SSL/i.test(rq.failure().errorText)) errors.push(`TLS failure ${rq.url()}: ${rq.failure().errorText}`);
  });

  // 1. Coordinator: every shipment listed, on the map and as a card.
  await login(page, cfg.tokens.coordinator, 'coordinator');
  await page.waitForSelector('.card', { timeout: 15000 });
  if (cfg.url.startsWith('https:')) {
    const sec = await page.evaluate(() => [location.protocol, window.isSecureContext]);
    if (sec[0] !== 'https:' || sec[1] !== true) fail(`not a secure context over HTTPS: ${sec}`);
    log('secure context: https');
  }
  await page.click('button[data-lang=en]');
  for (const s of cfg.shipments) {
    await page.locator(`.card[data-container="${s.container}"]`).waitFor({ timeout: 15000 });
    await expectText(page, `.card[data-container="${s.container}"] h3`, s.donation_code, 'card title');
  }
  // each card offers the shipment report in the page's language
  const first = cfg.shipments[0];
  const rep = page.locator(`.card[data-container="${first.container}"] button[data-report-lang=en]`);
  if (await rep.count() !== 1) fail('coordinator card has no report download');
  const cdl = page.waitForEvent('download', { timeout: 30000 });
  await rep.click();
  const cpdf = await cdl.catch(() => null);
  if (!cpdf) fail('coordinator report not downloaded');
  if (readFileSync(await cpdf.path()).subarray(0, 5).toString('latin1') !== '%PDF-') fail('coordinator report is not a PDF');
  log(`coordinator report downloaded as ${cpdf.suggestedFilename()}`);
  const markers = await page.locator('svg.map .map-marker').count();
  if (markers < cfg.shipments.length) fail(`map shows ${markers} markers, want ${cfg.shipments.length}`);
  await page.evaluate(() => { window.__otNoReload = 'still here'; });
  // The stream opens, or after 5 s the page falls back to polling every 5 s.
  await page.locator('.live[data-mode=sse], .live[data-mode=polling]').waitFor({ timeout: 8000 })
    .catch(() => fail('page neither opened the event stream nor fell back to polling'));
  const mode = await page.locator('.live').getAttribute('data-mode');
  log(mode === 'sse' ? 'live mode: SSE' : `live mode: ${mode} (the API refused /api/v1/events?access_token=)`);
  await shot(page, 'web-coordinator-en');

  // 2. Excursion published now; the alarm must appear without reload.
  const card = `.card[data-container="${cfg.excursion_container}"]`;
  log('NEED excursion');
  if ((await lines.next()).value !== 'ok') fail('publisher did not confirm the excursion');
  const t0 = Date.now();
  try {
    await page.locator(`${card} .alarm[data-alarm-type="temp_excursion"]`).waitFor({ timeout: 40000 });
  } catch {
    await shot(page, 'web-coordinator-no-alarm');
    fail('temp_excursion alarm did not appear on the coordinator page within 40 s');
  }
  log(`alarm shown ${Date.now() - t0} ms after the excursion was published`);
  if (await page.evaluate(() => window.__otNoReload) !== 'still here') fail('the page was reloaded');
  await expectText(page, `${card} .status`, 'ALARM', 'status badge');
  await shot(page, 'web-coordinator-alarm');

  // 3. Acknowledge with a comment.
  await page.click(`${card} .alarm[data-alarm-type="temp_excursion"] .ack-btn`);
  await page.fill('#ack-comment', 'Ice added, container checked by the crew');
  await page.click('dialog.ack-dialog button[type=submit]');
  await page.locator(`${card} .alarm.state-acknowledged`).waitFor({ timeout: 15000 })
    .catch(() => fail('alarm not shown as acknowledged after Acknowledge'));

  // 4. Language switch: labels change at once, no reload.
  const checks = {
    kk: { h1: 'Барлық белсенді тасымалдар', nav: 'Үйлестіруші', badge: 'ДАБЫЛ', fact: 'Қалған уақыт' },
    ru: { h1: 'Все активные перевозки', nav: 'Координатор', badge: 'ТРЕВОГА', fact: 'Осталось' },
    en: { h1: 'All active shipments', nav: 'Coordinator', badge: 'ALARM', fact: 'Time left' },
  };
  for (const [lang, want] of Object.entries(checks)) {
    await page.click(`button[data-lang=${lang}]`);
    await expectText(page, 'main h1', want.h1, `${lang} title`);
    await expectText(page, 'header nav a[aria-current=page]', want.nav, `${lang} navigation`);
    await expectText(page, `${card} .status`, want.badge, `${lang} status`);
    await expectText(page, `${card} .fact:nth-child(4) dt`, want.fact, `${lang} time-left label`);
    if (await page.evaluate(() => document.documentElement.lang) !== lang) fail(`html lang is not ${lang}`);
    if (lang !== 'en') await shot(page, `web-coordinator-${lang}`);
  }
  if (await page.evaluate(() => window.__otNoReload) !== 'still here') fail('the language switch reloaded the page');

  // 5. Shipment view: chart with band, route, alarms.
  const exc = cfg.shipments.find((s) => s.container === cfg.excursion_container);
  await page.goto(`${cfg.url}/#/shipment/${exc.id}`);
  await page.locator('svg.chart:not(.spark) .band').waitFor({ timeout: 15000 });
  await page.locator('svg.map .map-route').waitFor({ timeout: 15000 }).catch(() => fail('no route drawn on the shipment map'));
  await shot(page, 'web-shipment');

  // 6. Crew on a phone: log a hand-off with a witness; it shows in the trail.
  // (same browser profile, phone-sized window; the coordinator tab stays open)
  const phone = await ctx.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  phone.on('pageerror', (e) => errors.push(`crew page error: ${e.message}`));
  watchConsole(phone);
  await phone.goto(cfg.url + '/');
  await phone.evaluate(() => localStorage.clear());
  await login(phone, cfg.tokens.crew, 'crew');
  await phone.locator('.crew-status').waitFor({ timeout: 15000 });
  await phone.click('button[data-lang=en]');
  await expectText(phone, '.crew-container', cfg.crew_container, 'crew container');
  await expectText(phone, '.crew-status .status', 'OK', 'crew status');
  const witness = `Dr. Witness ${Date.now() % 100000}`;
  // the witness is required: submitting without it must be refused in the page
  await phone.fill('#f-from', 'Ambulance crew 07');
  await phone.fill('#f-to', 'Medical aviation crew');
  await phone.click('form.handoff button[type=submit]');
  await expectText(phone, 'form.handoff .error', 'Witness', 'missing witness message');
  await phone.fill('#f-witness', witness);
  await phone.fill('#f-seal', 'SEAL-7781');
  await phone.fill('#f-comment', 'Label and seal checked at Oral airport');
  await phone.click('form.handoff button[type=submit]');
  await phone.locator('#handoff-result').waitFor({ timeout: 15000 }).catch(async () => fail(`hand-off not logged: ${await text(phone, 'form.handoff').catch(() => '')}`));
  await expectText(phone, '#handoff-result', 'hand-off', 'logged entry');
  await expectText(phone, '.timeline', witness, 'crew trail');
  await shot(phone, 'web-crew-phone');
  await phone.click('button[data-lang=kk]');
  await expectText(phone, '.crew-status .status', 'ҚАЛЫПТЫ', 'kk crew status');
  await expectText(phone, 'form.handoff h2', 'Табыстауды тіркеу', 'kk hand-off form');
  await shot(phone, 'web-crew-phone-kk');

  // 7. Auditor: the hand-off is in the verified trail, exports are offered.
  await page.evaluate(() => localStorage.clear());
  await login(page, cfg.tokens.auditor, 'auditor');
  const crewShip = cfg.shipments.find((s) => s.container === cfg.crew_container);
  await page.goto(`${cfg.url}/#/auditor/${crewShip.id}`);
  await page.click('button[data-lang=en]');
  await page.locator('table.trail').filter({ hasText: witness }).waitFor({ timeout: 15000 })
    .catch(() => fail('hand-off not in the auditor trail'));
  await expectText(page, '.verify-result', 'Chain intact', 'chain check');
  if (await page.locator('button[data-format]').count() !== 3) fail('export buttons missing');
  const dl = page.waitForEvent('download', { timeout: 15000 });
  await page.click('button[data-format=bundle]');
  const file = await dl.catch(() => null);
  if (!file) fail(`bundle export not downloaded: ${await text(page, '.panel p[role=status]').catch(() => '')}`);
  log(`bundle export downloaded as ${file.suggestedFilename()}`);

  // 8. Auditor: the shipment report (PDF) in Kazakh, then a sign-off with the PIN.
  if (await page.locator('button[data-report-lang]').count() !== 3) fail('report buttons missing');
  const pdl = page.waitForEvent('download', { timeout: 30000 });
  await page.click('button[data-report-lang=kk]');
  const pdf = await pdl.catch(() => null);
  if (!pdf) fail(`report not downloaded: ${await text(page, '#export-msg').catch(() => '')}`);
  const head = readFileSync(await pdf.path()).subarray(0, 5).toString('latin1');
  if (head !== '%PDF-') fail(`report does not start with %PDF-: ${JSON.stringify(head)}`);
  log(`report downloaded as ${pdf.suggestedFilename()}`);
  await page.click('#sign-open');
  await page.selectOption('#sign-meaning', 'reviewed');
  await page.fill('#sign-statement', 'Custody trail and temperatures reviewed');
  await page.fill('#sign-pin', cfg.signer_pin);
  await shot(page, 'web-auditor-sign');
  await page.click('#sign-submit');
  await expectText(page, '#export-msg', 'Signed (reviewed)', 'sign-off confirmation');
  await page.locator('table.trail').filter({ hasText: 'signed · reviewed' }).waitFor({ timeout: 15000 })
    .catch(() => fail('signature not in the auditor trail'));
  log('signed off (reviewed)');
  await shot(page, 'web-auditor');

  // 8. Incidents (issue 12): the auditor reads the list without forms; the
  //    coordinator answers the complaint and it leaves the open list.
  await page.goto(`${cfg.url}/#/incidents`);
  await page.locator('li[data-incident]').filter({ hasText: 'recipient centre asked' }).waitFor({ timeout: 15000 })
    .catch(() => fail('complaint not in the auditor\'s incidents list'));
  await expectText(page, 'h1', 'read only', 'auditor incidents title');
  if (await page.locator('li[data-incident] textarea').count() !== 0) fail('auditor sees an answer form');
  await shot(page, 'web-incidents-auditor');
  await page.evaluate(() => localStorage.clear());
  await login(page, cfg.tokens.coordinator, 'coordinator');
  await page.locator('nav a[href="#/incidents"]').waitFor({ timeout: 15000 }).catch(() => fail('no incidents link for the coordinator'));
  await page.click('nav a[href="#/incidents"]');
  await expectText(page, 'h1', 'answer within five days', 'coordinator incidents title');
  const inc = page.locator('li[data-incident]').filter({ hasText: 'recipient centre asked' });
  await inc.waitFor({ timeout: 15000 }).catch(() => fail('complaint not in the coordinator\'s incidents list'));
  await inc.locator('textarea').fill('called the centre: the flight left 20 min late');
  await inc.locator('button[data-inc-do^=answer]').click();
  await page.locator('li[data-incident]').filter({ hasText: 'recipient centre asked' }).waitFor({ state: 'detached', timeout: 15000 })
    .catch(() => fail('answered incident still in the open list'));
  await page.click('button[data-inc-filter=answered]');
  await page.locator('li.inc-answered').filter({ hasText: 'flight left 20 min late' }).waitFor({ timeout: 15000 })
    .catch(() => fail('answer not shown in the answered list'));
  await shot(page, 'web-incidents-coordinator');

  if (errors.length) fail(errors.join('; '));
  log('all browser checks passed');
} catch (e) {
  log(`FAIL ${e.message.split('\n')[0]}`);
  code = 1;
} finally {
  if (ctx) await ctx.close().catch(() => {});
  rmSync(userData, { recursive: true, force: true });
  stdin.close();
}
process.exit(code);
