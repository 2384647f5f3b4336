// Browser half of web_layout.py: Debian's chromium via playwright-core
// against the running API. argv[2] is the JSON config from the Python side.
// Checks, in order: one API request per coordinator refresh; the planned
// legs on the shipment map and in its table; a container in flight mode;
// the crew's check-in with a
// wrong side (the mismatch shown) and reperfusion; then the layout of the
// coordinator, shipment, crew and auditor views at three window sizes
// (main blocks and what maps paint must not overlap and must lie within the
// window's width). Any failed expectation exits 1 with a one-line reason;
// screenshots in cfg.artefacts. `cfg.only = "layout"` runs the layout part
// alone (to try the check against an older dashboard build).
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'dashboard-api', 'web', 'package.json'));
const { chromium } = require('playwright-core');
const cfg = JSON.parse(process.argv[2]);

function log(msg) { process.stdout.write(`${msg}\n`); }
function fail(msg) { throw new Error(msg); }
async function shot(page, name) {
  const p = join(cfg.artefacts, `${name}.png`);
  await page.screenshot({ path: p, fullPage: true });
  log(`screenshot ${p}`);
}
async function until(what, fn, timeout = 15000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
// Signs in as `role` (the token the login form would keep) and opens the
// view fresh, so the live stream starts with that token.
async function open(page, role, hash) {
  await page.goto(`${cfg.url}/`);
  await page.evaluate(([tok, r]) => {
    localStorage.clear();
    localStorage.setItem('ot.token', tok);
    localStorage.setItem('ot.role', r);
    localStorage.setItem('ot.lang', 'en');
  }, [cfg.tokens[role], role]);
  await page.goto(`${cfg.url}/${hash}`);
  await page.reload();
}
const ship = (c) => cfg.shipments.find((s) => s.container === c);
async function apiPost(path, body) {
  const res = await fetch(`${cfg.url}/api/v1${path}`, {
    method: 'POST', headers: { Authorization: `Bearer ${cfg.tokens.coordinator}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) fail(`POST ${path}: ${res.status} ${await res.text()}`);
}

// Runs in the page: the main blocks of the view and what they paint. A
// block's painted box is its border box, except for a map's SVG: the union
// of what it draws (water, neighbours and markers may reach beyond the
// frame), clipped by itself and every ancestor that clips (overflow other
// than visible). Returns the problems found as text.
function layoutProblems(blockSel) {
  const vw = document.documentElement.clientWidth;
  const R = (r) => ({ l: r.left, t: r.top, r: r.right, b: r.bottom });
  const inter = (a, b) => ({ l: Math.max(a.l, b.l), t: Math.max(a.t, b.t), r: Math.min(a.r, b.r), b: Math.min(a.b, b.b) });
  const area = (a) => Math.max(0, a.r - a.l) * Math.max(0, a.b - a.t);
  const name = (el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '') + (typeof el.className === 'string' && el.className
    ? `.${el.className.trim().split(/\s+/).join('.')}` : el.className?.baseVal ? `.${el.className.baseVal.trim().split(/\s+/).join('.')}` : '');
  function painted(el) {
    let box = R(el.getBoundingClientRect());
    if (el instanceof SVGSVGElement) {
      let u = null;
      for (const c of el.children) {
        const r = R(c.getBoundingClientRect());
        if (area(r) === 0) continue;
        u = u ? { l: Math.min(u.l, r.l), t: Math.min(u.t, r.t), r: Math.max(u.r, r.r), b: Math.max(u.b, r.b) } : r;
      }
      if (u && getComputedStyle(el).overflow === 'visible') box = u;
      else if (u) box = inter(box, u);
    }
    for (let a = el.parentElement; a; a = a.parentElement) {
      const st = getComputedStyle(a);
      if (st.overflowX !== 'visible' || st.overflowY !== 'visible') box = inter(box, R(a.getBoundingClientRect()));
    }
    return box;
  }
  const els = [...new Set(blockSel.flatMap((s) => [...document.querySelectorAll(s)]))]
    .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; });
  const out = [];
  if (document.documentElement.scrollWidth > vw + 1) out.push(`page scrolls sideways: ${document.documentElement.scrollWidth} px wide in a ${vw} px window`);
  const boxes = els.map((el) => ({ el, own: R(el.getBoundingClientRect()), paint: painted(el) }));
  for (const b of boxes) {
    if (b.own.l < -1 || b.own.r > vw + 1) out.push(`${name(b.el)} lies outside the window's width (${Math.round(b.own.l)}..${Math.round(b.own.r)} of ${vw})`);
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
      // what one paints may not cover the other's box (either way)
      for (const [p, q] of [[a, b], [b, a]]) {
        const x = inter(p.paint, q.own);
        if (area(x) > 4 && x.r - x.l > 1 && x.b - x.t > 1) {
          out.push(`${name(p.el)} overlaps ${name(q.el)} by ${Math.round(x.r - x.l)}x${Math.round(x.b - x.t)} px`);
          break;
        }
      }
    }
  }
  return [...new Set(out)];
}

const COMMON = ['header.top', 'footer.foot', 'main > *'];
const VIEWS = {
  coordinator: { role: 'coordinator', hash: '#/coordinator', ready: '.card',
    blocks: [...COMMON, '.map-wrap', 'svg.map', '.cards > .card', '.card > *', '.card .facts > *'] },
  shipment: { role: 'coordinator', hash: () => `#/shipment/${ship(cfg.legs_container).id}`, ready: 'svg.chart:not(.spark)',
    blocks: [...COMMON, '.ship-head', '.facts', '.facts > *', '.panel-chart', 'svg.chart', '.panel-map', 'svg.map', '.map-key',
      '.panel-legs', 'table.legs', '.two > *', '.alarm', '.timeline'] },
  crew: { role: 'crew', hash: '#/crew', ready: '.crew-status',
    blocks: [...COMMON, '.crew-status', '.crew-big > *', 'main > .panel', 'form.handoff', 'form.handoff > *', '.receipt > *',
      'form.checkin > *', 'form.reperfused > *'] },
  auditor: { role: 'auditor', hash: () => `#/auditor/${ship(cfg.crew_container).id}`, ready: '.verify',
    blocks: [...COMMON, 'main > .panel', '.table-wrap', '.buttons'] },
};
const SIZES = [[1366, 900], [1920, 1080], [390, 844]];

let browser;
let code = 0;
const errors = [];
try {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  // Kazakhstan's time (UTC+5): times must show their zone, the auditor's the offset
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'en-GB', timezoneId: 'Asia/Almaty' });
  await ctx.route('**/*', (r) => (r.request().url().startsWith(cfg.url) ? r.continue() : (errors.push(`external request ${r.request().url()}`), r.abort())));
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));

  if (cfg.only !== 'layout') {
    // 1. Coordinator: one API request per refresh, whatever the number of shipments.
    const reqs = [];
    let inflight = 0;
    const isApi = (u) => u.includes('/api/v1/') && !u.includes('/api/v1/events');
    page.on('request', (r) => { if (isApi(r.url())) { reqs.push(r.url()); inflight++; } });
    const done = (r) => { if (isApi(r.url())) inflight--; };
    page.on('requestfinished', done);
    page.on('requestfailed', done);
    await open(page, 'coordinator', '#/coordinator');
    await until(`${cfg.shipments.length} cards`, async () => await page.locator('.card').count() === cfg.shipments.length);
    const loads = async () => Number(await page.locator('main').getAttribute('data-loads') || 0);
    await until('the first refresh', async () => await loads() >= 1 && inflight === 0);
    const n0 = reqs.length;
    const l0 = await loads();
    // each custody entry is a live `custody` event: the view refreshes at once
    // (or, without the stream, its 5 s poll does)
    for (let i = 0; i < 3; i++) {
      const before = await loads();
      await apiPost(`/shipments/${ship(cfg.alarm_container).id}/custody`, { type: 'note', comment: `request count ${i}` });
      await until(`refresh ${i + 1}`, async () => await loads() > before, 20000);
    }
    let got = null;
    try {
      await until('the requests and refreshes to settle', async () => {
        got = [reqs.length - n0, (await loads()) - l0];
        return inflight === 0 && got[0] === got[1];
      }, 10000);
    } catch {
      fail(`coordinator made ${got[0]} API requests in ${got[1]} refreshes with ${cfg.shipments.length} shipments (want one per refresh): ${reqs.slice(n0, n0 + 6).join(' ')}`);
    }
    const other = reqs.slice(n0).filter((u) => !/\/api\/v1\/shipments\?status=active&include=alarms,spark&limit=500$/.test(u));
    if (other.length) fail(`coordinator refresh asked for something else than the list: ${other.join(' ')}`);
    log(`coordinator: ${got[0]} API requests in ${got[1]} refreshes with ${cfg.shipments.length} shipments`);
    // the cards still show what they showed: the alarm and its sparkline
    const ac = `.card[data-container="${cfg.alarm_container}"]`;
    await page.locator(`${ac} .alarm[data-alarm-type="temp_excursion"]`).waitFor({ timeout: 10000 })
      .catch(() => fail('the alarm card lost its temp_excursion alarm'));
    if (!await page.locator(`${ac} svg.chart.spark polyline.line`).count()) fail('the alarm card has no sparkline');
    if (!await page.locator(`${ac} svg.chart.spark circle.out`).count()) fail('the sparkline does not mark the readings outside the band');
    await shot(page, 'layout-coordinator-requests');
    // flight mode: the card's badge and the shipment's radio panel
    const rc = `.card[data-container="${cfg.radio_container}"]`;
    await page.locator(`${rc} .radio[data-radio=flight]`).filter({ hasText: /In flight, radio silent since \d/ }).waitFor({ timeout: 15000 })
      .catch(() => fail('no in-flight badge on the card of the container in flight mode'));
    await page.goto(`${cfg.url}/#/shipment/${ship(cfg.radio_container).id}`);
    await page.locator('.radio-panel[data-radio=flight]').filter({ hasText: /In flight, radio silent since \d/ }).waitFor({ timeout: 15000 })
      .catch(() => fail('no radio panel on the shipment in flight mode'));
    await page.locator('.radio-panel').filter({ hasText: /Last position: \d/ }).waitFor({ timeout: 5000 })
      .catch(() => fail('the radio panel does not give the last position'));
    log('radio: the container in flight mode is shown in flight, radio silent, with its last position');

    // 2. Shipment view: planned legs on the map and in the table.
    const legsShip = ship(cfg.legs_container);
    await page.goto(`${cfg.url}/#/shipment/${legsShip.id}`);
    await page.locator('table.legs').waitFor({ timeout: 15000 }).catch(() => fail('no legs table in the shipment view'));
    const legs = await page.$$eval('svg.map line.map-leg', (ls) => ls.map((l) => ({
      cls: l.getAttribute('class'), leg: l.dataset.leg, dash: getComputedStyle(l).strokeDasharray, w: getComputedStyle(l).strokeWidth,
    })));
    if (legs.length !== legsShip.legs) fail(`map draws ${legs.length} legs, want ${legsShip.legs}`);
    const air = legs.filter((l) => /\bair\b/.test(l.cls));
    const ground = legs.filter((l) => /\bground\b/.test(l.cls));
    if (air.length !== 1 || ground.length !== 2) fail(`legs by mode: ${air.length} air, ${ground.length} ground`);
    if (air[0].dash === 'none' || ground.some((g) => g.dash !== 'none')) fail(`air and ground legs are not styled apart: ${JSON.stringify(legs)}`);
    const cur = legs.filter((l) => /\bcurrent\b/.test(l.cls));
    if (cur.length !== 1 || cur[0].leg !== '1') fail(`current leg on the map: ${JSON.stringify(cur)} (want the flight, leg 1)`);
    if (parseFloat(cur[0].w) <= parseFloat(ground[0].w)) fail('the current leg is not drawn heavier');
    if (await page.locator('svg.map .map-airport').count() !== 2) fail('the two airports are not marked');
    const rows = await page.$$eval('table.legs tbody tr', (rs) => rs.map((r) => ({ cur: r.getAttribute('aria-current'), text: r.innerText })));
    if (rows.length !== legsShip.legs) fail(`legs table has ${rows.length} rows`);
    if (rows[1].cur !== 'step' || !/KC951/.test(rows[1].text) || !/Kazaviaspas/.test(rows[1].text)) fail(`flight leg row: ${JSON.stringify(rows[1])}`);
    if (!/\d{1,2} \w{3}.*\d{2}:\d{2}.*(GMT|UTC)[+−-]5/.test(rows[0].text)) fail(`planned times without day and zone: ${rows[0].text}`);
    await shot(page, 'layout-shipment-legs');

    // 3. Crew at the destination: check-in with the wrong side, then reperfusion.
    const crew = await ctx.newPage();
    crew.on('pageerror', (e) => errors.push(`crew page error: ${e.message}`));
    await crew.setViewportSize({ width: 390, height: 844 });
    await open(crew, 'crew', '#/crew');
    await crew.locator('form.checkin').waitFor({ timeout: 15000 }).catch(() => fail('no check-in form in the crew view'));
    const cs = ship(cfg.crew_container);
    await crew.click('#checkin-submit');
    await crew.locator('form.checkin .error').filter({ hasText: 'Donation code' }).waitFor({ timeout: 5000 })
      .catch(() => fail('an empty check-in was not refused in the page'));
    await crew.fill('#ci-donation_code', cs.donation_code);
    await until('the profile list', async () => await crew.locator(`#ci-profile option[value="${cs.profile}"]`).count() > 0);
    await crew.selectOption('#ci-profile', cs.profile);
    await crew.selectOption('#ci-laterality', cs.laterality === 'left' ? 'right' : 'left');
    await crew.selectOption('#ci-abo', cs.abo);
    await crew.fill('#ci-witness', 'Dr. Second Reader');
    await crew.click('#checkin-submit');
    await crew.locator('#receipt-result[data-result=mismatch]').waitFor({ timeout: 15000 })
      .catch(async () => fail(`no mismatch shown: ${await crew.locator('.receipt').innerText()}`));
    const diff = await crew.locator('#receipt-result li[data-field=laterality]').innerText().catch(() => '');
    if (!diff.includes('right') || !diff.includes('left')) fail(`mismatch does not say what differs: "${diff}"`);
    if (await crew.locator('#receipt-result li').count() !== 1) fail('more fields than the side reported as different');
    await crew.locator('.alarm[data-alarm-type=identity_mismatch].sev-critical').waitFor({ timeout: 15000 })
      .catch(() => fail('no critical identity_mismatch alarm in the crew view'));
    await crew.locator('.timeline .tl-checkin').waitFor({ timeout: 15000 }).catch(() => fail('check-in not in the crew trail'));
    await shot(crew, 'layout-crew-mismatch');
    await crew.click('#reperf-submit');
    await crew.locator('#receipt-result[data-result=reperfused]').waitFor({ timeout: 15000 })
      .catch(async () => fail(`reperfusion not logged: ${await crew.locator('.receipt').innerText()}`));
    await crew.locator('[data-field=ischemia-ended]').waitFor({ timeout: 15000 }).catch(() => fail('ischaemia end not shown'));
    await crew.locator('.crew-big [data-field=total]').waitFor({ timeout: 15000 }).catch(() => fail('total ischaemia not shown'));
    await shot(crew, 'layout-crew-reperfused');
    // received: the shipment is delivered and leaves the active list, but
    // stays on the crew's screen (a receipt often follows the hand-over)
    await apiPost(`/shipments/${cs.id}/custody`, { type: 'arrived' });
    await apiPost(`/shipments/${cs.id}/custody`, { type: 'received', from: 'Ambulance crew 03', to: 'Astana transplant team' });
    await crew.locator('.timeline .tl-received').waitFor({ timeout: 15000 }).catch(() => fail('received not in the crew trail'));
    if (!(await crew.locator('.crew-container').innerText()).includes(cfg.crew_container)) fail('the delivered shipment left the crew view');
    await crew.locator('[data-field=ischemia-ended]').waitFor({ timeout: 5000 }).catch(() => fail('receipt section gone once delivered'));
    await crew.close();

    // 4. Auditor: times with the UTC offset of the browser's zone.
    await open(page, 'auditor', `#/auditor/${cs.id}`);
    await page.locator('table.trail tbody tr').first().waitFor({ timeout: 15000 }).catch(() => fail('no trail for the auditor'));
    const times = await page.$$eval('table.trail tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.innerText));
    if (!times.length || !times.every((x) => /UTC\+05:00$/.test(x))) fail(`auditor times without the UTC offset: ${times.join(' | ')}`);
  }

  // 5. Layout: every view at every size.
  const problems = [];
  for (const [w, hgt] of SIZES) {
    await page.setViewportSize({ width: w, height: hgt });
    for (const [name, v] of Object.entries(VIEWS)) {
      await open(page, v.role, typeof v.hash === 'function' ? v.hash() : v.hash);
      await page.locator(v.ready).first().waitFor({ timeout: 15000 }).catch(() => fail(`${name} view did not load at ${w}x${hgt}`));
      // the view's data and the map are drawn (the first render shows "loading")
      await until(`${name} drawn`, async () => await page.locator('main p.muted:text-is("Loading…")').count() === 0);
      const found = await page.evaluate(layoutProblems, v.blocks);
      for (const f of found) problems.push(`${name} ${w}x${hgt}: ${f}`);
      await shot(page, `layout-${name}-${w}x${hgt}`);
    }
  }
  if (problems.length) fail(`${problems.length} layout problem(s): ${problems.slice(0, 8).join('; ')}`);
  log(`layout: ${Object.keys(VIEWS).length} views x ${SIZES.length} sizes, no overlap, all within the window`);

  if (errors.length) fail(errors.join('; '));
  log('all browser checks passed');
} catch (e) {
  log(`FAIL ${e.message.split('\n')[0]}`);
  code = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
}
process.exit(code);
