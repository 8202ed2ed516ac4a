#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// End-to-end test of the dashboard in real Chromium against a real `vigil serve`.
//
//   node web/tests/e2e.mjs --vigil PATH/TO/vigil [--screenshots DIR | --no-screenshots] [--chromium PATH] [--keep]
//
// Makes a temporary data directory, creates admin/operator/viewer/sensor tokens with
// `vigil token create`, starts `vigil serve --listen 127.0.0.1:0 --web <repo>/web`, uploads
// examples/concert-hall.geojson, then drives the dashboard. Each check prints `ok - ...` or
// `not ok - ...`; the last line is `N passed, N failed, N skipped`. Exit 0 when all pass, 1 when
// one fails, 2 on bad usage, 77 (skip) when playwright-core or Chromium is not installed.
//
// To add a check: call check('id', 'what it shows', async () => { ... }, { needs: ['id', ...] })
// in the list below; throw (or use expect()) to fail. Checks run in order and share `t` (tokens,
// url, the operator's page t.page, alert ids). A check is skipped when one it needs did not pass.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '..');
const repo = path.resolve(webDir, '..');
const VENUE_FILE = path.join(repo, 'examples', 'concert-hall.geojson');
const VENUE = 'riverside-hall';
const SKIP = 77;
const RUN_LIMIT_MS = 150_000;
const LIVE_LIMIT_MS = 1000; // a telemetry reading must show on the plan within this

// ---------- arguments ----------
function usage(msg) {
  if (msg) console.error(`e2e: ${msg}`);
  console.error('usage: node web/tests/e2e.mjs --vigil PATH/TO/vigil [--screenshots DIR | --no-screenshots] [--chromium PATH] [--keep]');
  process.exit(2);
}
const argv = process.argv.slice(2);
const opts = { screenshots: path.join(repo, 'docs', 'screenshots'), chromium: process.env.VIGIL_CHROMIUM || '', keep: false };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const next = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
  if (a === '--vigil') opts.vigil = next();
  else if (a === '--screenshots') opts.screenshots = next();
  else if (a === '--no-screenshots') opts.screenshots = '';
  else if (a === '--chromium') opts.chromium = next();
  else if (a === '--keep') opts.keep = true;
  else if (a === '-h' || a === '--help') usage();
  else usage(`unknown argument ${a}`);
}
if (!opts.vigil) usage('--vigil is required');
opts.vigil = path.resolve(opts.vigil);
if (!fs.existsSync(opts.vigil)) usage(`no vigil binary at ${opts.vigil}`);

// ---------- prerequisites: skip (77) when missing ----------
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  console.log('skip: playwright-core is not installed (run `npm ci` in web/, or scripts/install-deps.sh)');
  process.exit(SKIP);
}
const browserPath = [opts.chromium, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']
  .find((p) => p && fs.existsSync(p));
if (!browserPath) {
  console.log('skip: Chromium is not installed (apt-get install chromium, or pass --chromium PATH)');
  process.exit(SKIP);
}

// ---------- harness ----------
const checks = [];
const check = (id, name, fn, { needs = [] } = {}) => {
  for (const n of needs) if (!checks.some((c) => c.id === n)) throw new Error(`check ${id} needs unknown check ${n}`);
  checks.push({ id, name, fn, needs });
};
const results = new Map();
class CheckError extends Error {}
function expect(cond, message) {
  if (!cond) throw new CheckError(message);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t = { tokens: {}, notes: [] }; // shared state between checks
const cleanups = [];

// ---------- vigil ----------
function vigilSync(args) {
  const r = spawnSync(opts.vigil, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`vigil ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}

function createToken(role, venue) {
  const args = ['token', 'create', '--data', t.dataDir, '--role', role, '--name', `e2e-${role}`];
  if (venue) args.push('--venue', venue);
  const lines = vigilSync(args).trim().split('\n');
  const token = lines[lines.length - 1].trim();
  if (!token || /\s/.test(token)) throw new Error(`vigil token create printed no token on its last line: ${JSON.stringify(lines.slice(-2))}`);
  return token;
}

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.vigil, ['serve', '--data', t.dataDir, '--listen', '127.0.0.1:0', '--web', webDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.server = child;
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`vigil serve printed no "url:" line in 20 s; stderr: ${err.trim().split('\n').slice(-5).join(' | ')}`)), 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/url:\s*(http:\/\/\S+)/);
      if (m && !t.url) {
        clearTimeout(timer);
        t.url = m[1].endsWith('/') ? m[1] : `${m[1]}/`;
        resolve();
      }
    });
    child.stderr.on('data', (d) => { err += d; t.serverStderr = err.slice(-4000); });
    child.on('exit', (code, sig) => {
      t.serverExited = `${code ?? sig}`;
      clearTimeout(timer);
      if (!t.url) reject(new Error(`vigil serve exited (${code ?? sig}) before listening; stderr: ${err.trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
}

async function stopServer() {
  const child = t.server;
  if (!child || child.exitCode !== null || child.signalCode) return;
  child.kill('SIGTERM');
  for (let i = 0; i < 50 && child.exitCode === null && !child.signalCode; i++) await sleep(100);
  if (child.exitCode === null && !child.signalCode) {
    console.log('# vigil serve did not stop within 5 s of SIGTERM; killing it');
    child.kill('SIGKILL');
  }
}

async function api(method, p, token, body) {
  const headers = { Authorization: `Bearer ${token}` };
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(new URL(`api/v1${p}`, t.url), { method, headers, body: payload });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = { raw: text.slice(0, 300) }; }
  return { status: res.status, json };
}

let seq = 100;
async function telemetry(readings) {
  const ts = new Date().toISOString();
  const r = await api('POST', `/venues/${VENUE}/telemetry`, t.tokens.sensor, { readings: readings.map((x) => ({ seq: ++seq, ts, ...x })) });
  expect(r.status === 200, `telemetry POST answered ${r.status}: ${JSON.stringify(r.json)}`);
  return r.json;
}

async function firingAlert(zone, timeoutMs, rule = 'capacity') {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await api('GET', `/alerts?venue=${VENUE}&state=firing`, t.tokens.admin);
    const a = (r.json?.alerts || []).find((x) => x.zone === zone && x.state === 'firing' && (!rule || x.rule === rule));
    if (a) return a;
    if (Date.now() > until) {
      throw new CheckError(`no firing ${rule} alert for zone ${zone} within ${timeoutMs} ms (last answer ${r.status}: `
        + `${(r.json?.alerts || []).map((x) => `${x.rule}/${x.zone}/${x.state}`).join(', ') || 'no alerts'})`);
    }
    await sleep(200);
  }
}

async function alertById(id) {
  const r = await api('GET', `/alerts?venue=${VENUE}`, t.tokens.admin);
  return (r.json?.alerts || []).find((x) => x.id === id);
}

// ---------- browser helpers ----------
async function newPage(viewport = { width: 1280, height: 800 }) {
  const context = await t.browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'UTC', reducedMotion: 'reduce' });
  const page = await context.newPage();
  page.setDefaultTimeout(8000);
  page.on('pageerror', (e) => t.pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') t.consoleErrors.push(m.text()); });
  page.on('request', (r) => { if (!r.url().startsWith(t.url) && !r.url().startsWith('data:')) t.foreign.push(r.url()); });
  return page;
}

async function signIn(page, token) {
  await page.goto(t.url);
  await page.waitForSelector('#token');
  await page.fill('#token', token);
  await page.click('form.signin button[type=submit]');
  await page.waitForSelector('#who:not([hidden])');
}

async function shot(page, name, { clip } = {}) {
  if (!opts.screenshots) return;
  fs.mkdirSync(opts.screenshots, { recursive: true });
  await page.evaluate(() => document.activeElement?.blur?.());
  // clip: a selector; the screenshot is the page from the top down to the bottom of that element.
  if (clip) {
    const box = await page.evaluate((sel) => { const r = document.querySelector(sel).getBoundingClientRect(); return { bottom: r.bottom + window.scrollY }; }, clip);
    const width = page.viewportSize().width;
    await page.screenshot({ path: path.join(opts.screenshots, `${name}.png`), fullPage: true, clip: { x: 0, y: 0, width, height: Math.ceil(box.bottom + 16) } });
    return;
  }
  await page.screenshot({ path: path.join(opts.screenshots, `${name}.png`) });
}

const countOf = (page, zone) => page.$eval(`svg.plan text.zone-label[data-zone="${zone}"] .count`, (el) => el.textContent.replace(/[^0-9]/g, ''));

// ---------- the checks ----------
check('tokens', 'vigil token create makes admin, analyst, operator, viewer and sensor tokens', async () => {
  t.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-e2e-'));
  t.tokens.admin = createToken('admin');
  t.tokens.analyst = createToken('analyst');
  for (const role of ['operator', 'viewer', 'sensor']) {
    try {
      t.tokens[role] = createToken(role, VENUE);
    } catch (e) {
      t.notes.push(`${role} token with --venue failed (${e.message}); made one without a venue`);
      t.tokens[role] = createToken(role);
    }
  }
});

check('serve', 'vigil serve listens on a free port and serves the dashboard at /', async () => {
  await startServer();
  const res = await fetch(t.url);
  const html = await res.text();
  expect(res.status === 200, `GET / answered ${res.status}`);
  expect(/<title>Vigil/.test(html) && html.includes('js/main.mjs'), 'GET / is not the dashboard index.html');
  const js = await fetch(new URL('js/main.mjs', t.url));
  expect(js.status === 200 && /javascript/.test(js.headers.get('content-type') || ''), `js/main.mjs answered ${js.status} ${js.headers.get('content-type')}`);
}, { needs: ['tokens'] });

check('upload', 'admin uploads examples/concert-hall.geojson (PUT /api/v1/venues/riverside-hall)', async () => {
  const r = await api('PUT', `/venues/${VENUE}`, t.tokens.admin, fs.readFileSync(VENUE_FILE, 'utf8'));
  expect(r.status >= 200 && r.status < 300, `PUT answered ${r.status}: ${JSON.stringify(r.json).slice(0, 300)}`);
  // A gathering, so that the timeline view has something to list (not a check of its own).
  const start = new Date(Date.now() - 3600_000).toISOString();
  const end = new Date(Date.now() + 3 * 3600_000).toISOString();
  const g = await api('POST', '/gatherings', t.tokens.admin, { id: 'e2e-concert', venue: VENUE, name: 'Evening concert (e2e)',
    starts_at: start, ends_at: end, expected_attendance: 5200, kind: 'concert' });
  if (g.status >= 300) t.notes.push(`POST /gatherings answered ${g.status}; the timeline view has no gathering to list`);
  const who = await api('GET', '/whoami', t.tokens.viewer);
  expect(who.status === 200 && who.json?.role === 'viewer', `whoami for the viewer answered ${who.status} ${JSON.stringify(who.json)}`);
  expect(who.json?.can && who.json.can.acknowledge === false, 'whoami says a viewer may acknowledge');
}, { needs: ['serve'] });

check('signin', 'sign in as operator with a pasted token; venues overview lists the venue', async () => {
  t.browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  t.page = await newPage();
  await t.page.goto(t.url);
  await t.page.waitForSelector('#token');
  await shot(t.page, 'signin');
  await t.page.fill('#token', 'not-a-real-token');
  await t.page.click('form.signin button[type=submit]');
  await t.page.waitForFunction(() => /not recognised/.test(document.querySelector('.form-error')?.textContent || ''));
  await t.page.fill('#token', t.tokens.operator);
  await t.page.click('form.signin button[type=submit]');
  await t.page.waitForSelector(`tr[data-venue="${VENUE}"]`);
  const who = await t.page.textContent('#who-name');
  expect(/operator/.test(who), `the header shows "${who}", not the operator`);
}, { needs: ['upload'] });

check('plan', 'venue view draws the plan of each level from the GeoJSON', async () => {
  const page = t.page;
  await page.click(`tr[data-venue="${VENUE}"] a`);
  await page.waitForSelector('svg.plan g.zone[data-zone="pit"]');
  const doc = JSON.parse(fs.readFileSync(VENUE_FILE, 'utf8'));
  const zonesOn = (l) => doc.features.filter((f) => f.properties.kind === 'zone' && (f.properties.level ?? 0) === l).length;
  const n0 = await page.$$eval('svg.plan g.zone', (els) => els.length);
  expect(n0 === zonesOn(0), `level 0 shows ${n0} zones, the file has ${zonesOn(0)}`);
  const exits = await page.$$eval('svg.plan g.exit', (els) => els.map((e) => e.textContent));
  expect(exits.some((x) => /E1 3[.,]6 m/.test(x)), `exit E1 is not labelled with its width: ${exits.slice(0, 3).join(' | ')}`);
  await page.click('.level-bar button[data-level="1"]');
  await page.waitForSelector('svg.plan g.zone[data-zone="balcony"]');
  const n1 = await page.$$eval('svg.plan g.zone', (els) => els.length);
  expect(n1 === zonesOn(1), `level 1 shows ${n1} zones, the file has ${zonesOn(1)}`);
  await page.click('.level-bar button[data-level="0"]');
  await page.waitForSelector('svg.plan g.zone[data-zone="pit"]');
  const label = await page.getAttribute('svg.plan g.zone[data-zone="pit"]', 'aria-label');
  expect(label && /Front-of-stage pit/.test(label), `the pit zone has no useful aria-label: ${label}`);
}, { needs: ['signin'] });

check('live', `a zone counter reading (POST telemetry) shows on the plan within ${LIVE_LIMIT_MS} ms`, async () => {
  const page = t.page;
  await page.waitForFunction(() => document.querySelector('.badge.live-live'), null, { timeout: 8000 })
    .catch(() => { throw new CheckError('the live stream did not connect within 8 s (badge never said Live)'); });
  await telemetry([{ sensor: 'zc-pit', count: 123 }]);
  const t0 = Date.now();
  try {
    await page.waitForFunction(() => document.querySelector('svg.plan text.zone-label[data-zone="pit"] .count')?.textContent.replace(/[^0-9]/g, '') === '123',
      null, { timeout: LIVE_LIMIT_MS, polling: 'raf' });
  } catch {
    throw new CheckError(`the pit shows "${await countOf(page, 'pit')}" ${LIVE_LIMIT_MS} ms after the reading, not 123`);
  }
  const ms = Date.now() - t0;
  const row = await page.textContent('.zones-table tr[data-zone="pit"] td.occupancy');
  expect(row.replace(/[^0-9]/g, '') === '123', `the zones table shows "${row}" for the pit`);
  t.liveMs = ms;
  return `${ms} ms`;
}, { needs: ['plan'] });

check('capacity-alert', 'a zone over its capacity fires an alert and the banner shows it', async () => {
  const page = t.page;
  // 110 people through the stage-left wing exit into the wing (capacity 96). A line counter's
  // crossings move the estimate at once; a zone counter's jump would be held back by the gate.
  await telemetry([{ sensor: 'lc-E8', in: 110, out: 0 }]);
  t.capAlert = await firingAlert('wing-w', 8000);
  await page.waitForSelector('#alert-banner:not([hidden]) .banner-count', { timeout: 8000 })
    .catch(() => { throw new CheckError('no banner within 8 s of the alert firing'); });
  const text = await page.textContent('#alert-banner');
  expect(/unacknowledged alert/.test(text), `the banner says "${text}"`);
  await page.waitForFunction(() => document.querySelector('svg.plan text.zone-label[data-zone="wing-w"] .count')?.textContent.replace(/[^0-9]/g, '') === '110', null, { timeout: 3000 })
    .catch(() => { throw new CheckError('the plan does not show 110 people in the stage-left wing'); });
  await page.waitForSelector(`.alert-list li[data-alert="${t.capAlert.id}"] button.ack`, { timeout: 11000 });
  await shot(page, 'venue');
}, { needs: ['plan'] });

check('ack', 'operator acknowledges the alert with a note (required) in the venue view', async () => {
  const page = t.page;
  const id = t.capAlert.id;
  await page.click(`.alert-list li[data-alert="${id}"] button.ack`);
  await page.waitForSelector('#dialog[open] textarea');
  await page.click('#dialog button[type=submit]');
  const err = await page.textContent('#dialog .form-error');
  expect(/note/i.test(err), `submitting without a note did not say the note is required: "${err}"`);
  expect((await alertById(id))?.state === 'firing', 'the alert changed state without a note');
  await page.fill('#dialog textarea', 'e2e: stewards holding the wing door');
  await page.click('#dialog button[type=submit]');
  await page.waitForSelector('#dialog[open]', { state: 'detached' });
  await page.waitForSelector(`.alert-list li[data-alert="${id}"].alert-acknowledged`);
  const a = await alertById(id);
  expect(a?.state === 'acknowledged', `the server has the alert as ${a?.state}`);
  expect(a.note === 'e2e: stewards holding the wing door', `the server has the note ${JSON.stringify(a.note)}`);
  expect(a.acknowledged_by, 'acknowledged_by is empty');
  // The banner only counts what is still firing.
  const firing = ((await api('GET', '/alerts?state=firing', t.tokens.operator)).json?.alerts || []).filter((x) => x.state === 'firing').length;
  await page.waitForFunction((n) => {
    const b = document.getElementById('alert-banner');
    return n === 0 ? b.hidden : !b.hidden && +b.querySelector('.banner-count')?.dataset.count === n;
  }, firing, { timeout: 6000 }).catch(() => { throw new CheckError(`the banner does not show ${firing} firing alerts after the acknowledgement`); });
}, { needs: ['capacity-alert'] });

check('posture', 'operator changes the posture with a reason', async () => {
  const page = t.page;
  await page.click('#change-posture');
  await page.waitForSelector('#dialog[open] select');
  await page.selectOption('#dialog select', 'elevated');
  await page.fill('#dialog textarea', 'e2e: crowd building at the pit');
  await page.click('#dialog button[type=submit]');
  await page.waitForSelector('#dialog[open]', { state: 'detached' });
  const st = await api('GET', `/venues/${VENUE}/state`, t.tokens.operator);
  expect(st.json?.posture === 'elevated', `the venue state has posture ${st.json?.posture}`);
}, { needs: ['plan'] });

check('tablet', 'level 1 plan, and the venue view at tablet size (820×1180)', async () => {
  await t.page.click('.level-bar button[data-level="1"]');
  await t.page.waitForSelector('svg.plan g.zone[data-zone="balcony"]');
  await shot(t.page, 'venue-level1');
  await t.page.click('.level-bar button[data-level="0"]');
  const tablet = await newPage({ width: 820, height: 1180 });
  await signIn(tablet, t.tokens.operator);
  await tablet.goto(`${t.url}#/venue/${VENUE}`);
  await tablet.waitForSelector('svg.plan g.zone[data-zone="pit"]');
  await tablet.waitForFunction(() => /\d/.test(document.querySelector('svg.plan text.zone-label[data-zone="pit"] .count')?.textContent || ''));
  const overflow = await tablet.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow <= 1, `the page scrolls sideways by ${overflow} px at 820 px wide`);
  await shot(tablet, 'venue-tablet');
  await tablet.context().close();
}, { needs: ['plan'] });

check('keyboard', 'zones are keyboard-focusable with their count in the accessible name', async () => {
  const page = t.page;
  await page.focus('svg.plan g.zone[data-zone="pit"]');
  const focused = await page.evaluate(() => document.activeElement?.dataset?.zone);
  expect(focused === 'pit', 'the pit zone cannot take focus');
  const label = await page.evaluate(() => document.activeElement.getAttribute('aria-label'));
  expect(/123 people/.test(label.replace(/[,\u202f\u00a0]/g, '')), `the pit's label does not give its count: ${label}`);
  const shown = await page.textContent('.inspector');
  expect(/123 people/.test(shown.replace(/[,\u202f\u00a0]/g, '')), `focusing the pit does not show its figures: ${shown}`);
  await page.keyboard.press('Enter');
  expect(await page.getAttribute('svg.plan g.zone[data-zone="pit"]', 'aria-pressed') === 'true', 'Enter does not select the zone');
  await page.keyboard.press('Escape');
}, { needs: ['live'] });

check('viewer', 'viewer sees alerts but no acknowledge or resolve button; operator does', async () => {
  await telemetry([{ sensor: 'zc-balcony', count: 1000 }]); // capacity 950
  t.balconyAlert = await firingAlert('balcony', 8000);
  const id = t.balconyAlert.id;
  await t.page.goto(`${t.url}#/alerts`);
  await t.page.waitForSelector(`.alert-list li[data-alert="${id}"] button.ack`)
    .catch(() => { throw new CheckError('the operator has no acknowledge button for a firing alert'); });
  await shot(t.page, 'alerts');
  t.viewer = await newPage();
  await signIn(t.viewer, t.tokens.viewer);
  await t.viewer.goto(`${t.url}#/alerts`);
  await t.viewer.waitForSelector(`.alert-list li[data-alert="${id}"]`);
  await t.viewer.waitForSelector('#alert-banner:not([hidden])').catch(() => { throw new CheckError('the viewer has no banner for the firing alert'); });
  const buttons = await t.viewer.$$eval('button.ack, button.resolve', (b) => b.length);
  expect(buttons === 0, `the viewer sees ${buttons} acknowledge/resolve buttons on the alerts page`);
  await t.viewer.goto(`${t.url}#/venue/${VENUE}`);
  await t.viewer.waitForSelector(`.alert-list li[data-alert="${id}"]`);
  const onVenue = await t.viewer.$$eval('button.ack, button.resolve, #change-posture', (b) => b.length);
  expect(onVenue === 0, `the viewer sees ${onVenue} acknowledge/resolve/posture buttons on the venue page`);
}, { needs: ['plan'] });

check('viewer-403', 'a viewer\'s direct POST /alerts/{id}/ack gets 403 and changes nothing', async () => {
  const id = t.balconyAlert.id;
  const r = await api('POST', `/alerts/${encodeURIComponent(id)}/ack`, t.tokens.viewer, { note: 'viewer tries' });
  expect(r.status === 403, `the viewer's acknowledgement answered ${r.status}`);
  expect((await alertById(id))?.state === 'firing', 'the alert is no longer firing');
}, { needs: ['viewer'] });

check('note-400', 'an acknowledgement without a note gets 400 with the field named', async () => {
  const id = t.balconyAlert.id;
  const r = await api('POST', `/alerts/${encodeURIComponent(id)}/ack`, t.tokens.operator, {});
  expect(r.status === 400, `answered ${r.status}`);
  expect((r.json?.errors || []).some((e) => /note/.test(e.path || '')), `no error names the note: ${JSON.stringify(r.json)}`);
}, { needs: ['viewer'] });

check('resolve', 'operator resolves an alert with a note on the alerts page', async () => {
  const id = t.balconyAlert.id;
  const page = t.page;
  await page.click(`.alert-list li[data-alert="${id}"] button.resolve`);
  await page.waitForSelector('#dialog[open] textarea');
  await page.fill('#dialog textarea', 'e2e: balcony cleared by stewards');
  await page.click('#dialog button[type=submit]');
  await page.waitForSelector('#dialog[open]', { state: 'detached' });
  const until = Date.now() + 3000;
  let a;
  while (Date.now() < until && (a = await alertById(id))?.state !== 'resolved') await sleep(100);
  expect(a?.state === 'resolved', `the server has the alert as ${a?.state}`);
}, { needs: ['viewer'] });

// A CAP 1.2 time: numeric offset, no fraction (2026-11-26T20:00:00-00:00).
const capTime = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '-00:00');

check('warning', 'analyst posts a CAP warning; the operator sees the match with its specificity parts and acknowledges it with an action', async () => {
  // A gathering tonight, and a warning for a 600 m circle around the hall's origin over its evening.
  const start = Date.now() + 3600_000;
  const end = start + 3 * 3600_000;
  const g = await api('POST', '/gatherings', t.tokens.admin, { id: 'e2e-tonight', venue: VENUE, name: 'Late concert (e2e)',
    starts_at: new Date(start).toISOString(), ends_at: new Date(end).toISOString(), expected_attendance: 4000, kind: 'concert' });
  expect(g.status === 201 || g.status === 200, `POST /gatherings answered ${g.status}: ${JSON.stringify(g.json)}`);
  const { origin } = JSON.parse(fs.readFileSync(VENUE_FILE, 'utf8')).vigil;
  const ident = `e2e-${Date.now()}`;
  const cap = `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>${ident}</identifier>
  <sender>e2e@vigil.test</sender>
  <sent>${capTime(Date.now())}</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <category>Security</category>
    <event>Threat to a concert</event>
    <urgency>Expected</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <onset>${capTime(start - 1800_000)}</onset>
    <expires>${capTime(end + 1800_000)}</expires>
    <headline>E2E: threat against a concert at Riverside Hall tonight</headline>
    <description>A credible threat against a concert hall crowd this evening.</description>
    <area><areaDesc>Riverside Hall</areaDesc><circle>${origin.lat},${origin.lon} 0.6</circle></area>
  </info>
</alert>`;
  // The analyst posts it through the Warnings view (the form sends application/cap+xml).
  const analyst = await newPage();
  await signIn(analyst, t.tokens.analyst);
  await analyst.goto(`${t.url}#/warnings`);
  await analyst.waitForSelector('details.card summary');
  await analyst.click('details.card summary');
  await analyst.fill('#cap-text', cap);
  await analyst.click('details.card button[type=submit]');
  await analyst.waitForFunction(() => /Warning accepted|rejected/.test(document.querySelector('details.card [role=status]')?.textContent || ''));
  const said = await analyst.textContent('details.card [role=status]');
  expect(/Warning accepted/.test(said), `posting the CAP document: ${said}`);
  await analyst.context().close();
  const list = await api('GET', '/warnings', t.tokens.operator);
  const w = (list.json?.warnings || []).find((x) => x.identifier === ident);
  expect(w, `GET /warnings (operator) does not list the warning: ${JSON.stringify(list.json).slice(0, 300)}`);
  const m = (w.matches || []).find((x) => x.gathering === 'e2e-tonight');
  expect(m && m.state === 'pending', `the warning has no pending match to e2e-tonight: ${JSON.stringify(w.matches).slice(0, 300)}`);
  t.warning = w;

  // The operator sees it in the list and in the warning's page with its specificity and parts.
  const page = t.page;
  await page.goto(`${t.url}#/warnings`);
  await page.waitForSelector(`tr[data-warning="${w.id}"] a`);
  await page.click(`tr[data-warning="${w.id}"] a`);
  const li = `li.match[data-gathering="e2e-tonight"]`;
  await page.waitForSelector(`${li} .spec`);
  const spec = await page.getAttribute(`${li} .spec`, 'aria-label');
  expect(spec.includes(m.specificity.score.toFixed(2)), `the match shows "${spec}", the server's score is ${m.specificity.score}`);
  const parts = await page.$$eval(`${li} table.parts tbody th`, (els) => els.map((e) => e.textContent));
  for (const part of ['place', 'time', 'target', 'certainty', 'urgency', 'severity']) expect(parts.includes(part), `the parts table has no ${part}: ${parts.join(', ')}`);
  await shot(page, 'warning-match', { clip: 'main' });

  // Acknowledge: "no action" without a note is refused, then "added screening" with a note.
  await page.click(`${li} button.ack-match`);
  await page.waitForSelector('#dialog[open] select');
  await page.selectOption('#dialog select', 'no_action');
  await page.click('#dialog button[type=submit]');
  await page.waitForFunction(() => /note/i.test(document.querySelector('#dialog .form-error')?.textContent || ''));
  await page.selectOption('#dialog select', 'added_screening');
  await page.fill('#dialog textarea', 'e2e: bag checks at every entrance');
  await page.click('#dialog button[type=submit]');
  await page.waitForSelector('#dialog[open]', { state: 'detached' });
  await page.waitForSelector(`${li}[data-state="acknowledged"]`);
  const shown = await page.textContent(li);
  expect(/added screening/.test(shown), `the match does not show the action: ${shown}`);
  const after = await api('GET', `/warnings/${encodeURIComponent(w.id)}`, t.tokens.operator);
  const ma = (after.json?.matches || []).find((x) => x.gathering === 'e2e-tonight');
  expect(ma?.state === 'acknowledged' && ma.action === 'added_screening' && ma.note === 'e2e: bag checks at every entrance' && ma.acknowledged_by,
    `the server has the match as ${JSON.stringify(ma && { state: ma.state, action: ma.action, note: ma.note, by: ma.acknowledged_by })}`);
  return `specificity ${m.specificity.score.toFixed(2)}`;
}, { needs: ['signin'] });

// The exit egress.zones recommends for the most people: each zone's people go to its first recommended exit.
function busiestExit(eg, zones) {
  const people = {};
  for (const [zid, exits] of Object.entries(eg.zones || {})) {
    if (exits?.length) people[exits[0]] = (people[exits[0]] || 0) + (zones?.[zid]?.occupancy || 0);
  }
  return Object.entries(people).sort((a, b) => b[1] - a[1])[0];
}

check('incident', 'operator blocks the exit recommended for the most people; the egress estimate and recommended exits change; closing it restores them', async () => {
  // People in zones (earlier checks and these) so that the estimate exists.
  await telemetry([{ sensor: 'zc-pit', count: 400 }]);
  let st;
  const until = Date.now() + 8000;
  for (;;) {
    st = (await api('GET', `/venues/${VENUE}/state`, t.tokens.operator)).json;
    if (st?.egress?.time_s > 0 && Object.keys(st.egress.zones || {}).length && busiestExit(st.egress, st.zones)?.[1] > 0) break;
    if (Date.now() > until) throw new CheckError(`no egress estimate with recommended exits within 8 s: ${JSON.stringify(st?.egress)?.slice(0, 300)}`);
    await sleep(200);
  }
  const [exit, people] = busiestExit(st.egress, st.zones);
  const before = st.egress;
  const zonesUsing = Object.entries(before.zones).filter(([, x]) => x.includes(exit)).map(([z]) => z);
  const page = t.page;
  await page.goto(`${t.url}#/venue/${VENUE}`);
  await page.waitForSelector('#report-exit-blocked');
  const figure = () => page.textContent('.egress .figure');
  await page.waitForFunction(() => /\d/.test(document.querySelector('.egress .figure')?.textContent || ''));
  const shownBefore = await figure();
  const recBefore = await page.textContent(`.zones-table tr[data-zone="${zonesUsing[0]}"] td:last-child`);
  expect(recBefore.split(', ').includes(exit), `the zones table recommends "${recBefore}" for ${zonesUsing[0]}, the server ${before.zones[zonesUsing[0]]}`);

  await page.click('#report-exit-blocked');
  await page.waitForSelector('#dialog[open] select');
  const options = await page.$$eval('#dialog select option', (o) => o.map((x) => x.value));
  expect(options.includes(exit), `the exit list does not offer ${exit}: ${options.join(', ')}`);
  await page.selectOption('#dialog select', exit);
  await page.fill('#dialog textarea', `e2e: ${exit} blocked by a delivery van`);
  await page.click('#dialog button[type=submit]');
  await page.waitForSelector('#dialog[open]', { state: 'detached' });
  await page.waitForSelector('.incident-log li.open button.close-incident');
  await page.waitForFunction(({ z, x }) => {
    const rec = document.querySelector(`.zones-table tr[data-zone="${z}"] td:last-child`)?.textContent || '';
    return rec !== '–' && !rec.split(', ').includes(x);
  }, { z: zonesUsing[0], x: exit }, { timeout: 5000 })
    .catch(async () => { throw new CheckError(`${zonesUsing[0]} is still recommended "${await page.textContent(`.zones-table tr[data-zone="${zonesUsing[0]}"] td:last-child`)}" with ${exit} blocked`); });
  const after = (await api('GET', `/venues/${VENUE}/state`, t.tokens.operator)).json.egress;
  expect(after.time_s !== before.time_s, `the server's egress time did not change (${before.time_s} s)`);
  expect(!Object.values(after.zones).some((x) => x.includes(exit)), `the server still recommends ${exit}`);
  await page.waitForFunction((was) => { const f = document.querySelector('.egress .figure')?.textContent; return f && f !== was; }, shownBefore, { timeout: 5000 })
    .catch(async () => { throw new CheckError(`the egress figure still says "${await figure()}"`); });
  const shownAfter = await figure();
  const incs = (await api('GET', `/venues/${VENUE}/incidents`, t.tokens.operator)).json?.incidents || [];
  const inc = incs.find((i) => i.kind === 'exit_blocked' && i.exit === exit && !i.closed_at);
  expect(inc, `GET /incidents has no open exit_blocked incident at ${exit}`);
  // The plan of the blocked exit's level, the egress card and the incident, in one picture.
  const exitLevel = JSON.parse(fs.readFileSync(VENUE_FILE, 'utf8')).features.find((f) => f.properties.id === exit)?.properties.level ?? 0;
  await page.click(`.level-bar button[data-level="${exitLevel}"]`);
  await page.waitForSelector(`.plan-box[data-level="${exitLevel}"]`);
  await shot(page, 'venue-exit-blocked', { clip: '.venue-grid' });
  await page.click('.level-bar button[data-level="0"]');

  // Close it: the exit is recommended again.
  await page.click(`.incident-log li[data-incident="${inc.id}"] button.close-incident`);
  await page.waitForSelector('#dialog[open] textarea');
  await page.fill('#dialog textarea', 'e2e: van moved');
  await page.click('#dialog button[type=submit]');
  await page.waitForSelector('#dialog[open]', { state: 'detached' });
  await page.waitForSelector(`.incident-log li.closed[data-incident="${inc.id}"]`);
  await page.waitForFunction(({ z, x }) => (document.querySelector(`.zones-table tr[data-zone="${z}"] td:last-child`)?.textContent || '').split(', ').includes(x),
    { z: zonesUsing[0], x: exit }, { timeout: 5000 })
    .catch(() => { throw new CheckError(`${exit} is not recommended again for ${zonesUsing[0]} after closing the incident`); });
  return `${exit} (${people} people): ${shownBefore} → ${shownAfter}`;
}, { needs: ['live'] });

check('evacuation', 'operator starts an evacuation: the venue says so; closing it ends it', async () => {
  const page = t.page;
  await page.click('#report-evacuation');
  await page.waitForSelector('#dialog[open] textarea');
  await page.fill('#dialog textarea', 'e2e: drill');
  await page.click('#dialog button[type=submit]');
  await page.waitForSelector('#dialog[open]', { state: 'detached' });
  await page.waitForSelector('.evacuation:not([hidden])', { timeout: 5000 }).catch(() => { throw new CheckError('the venue view does not say an evacuation is in progress'); });
  const st = (await api('GET', `/venues/${VENUE}/state`, t.tokens.operator)).json;
  expect(st.evacuation === true, `the state has evacuation ${st.evacuation}`);
  await page.click('.incident-log li.open button.close-incident');
  await page.waitForSelector('#dialog[open] textarea');
  await page.fill('#dialog textarea', 'e2e: drill over');
  await page.click('#dialog button[type=submit]');
  await page.waitForSelector('#dialog[open]', { state: 'detached' });
  await page.waitForSelector('.evacuation[hidden]', { state: 'attached', timeout: 5000 }).catch(() => { throw new CheckError('the evacuation notice stays after closing it'); });
}, { needs: ['incident'] });

// Plan coordinates (metres) to the page's pixels on the plan shown.
const planToScreen = (page, pts) => page.evaluate((list) => {
  const m = document.querySelector('main svg.plan').getScreenCTM();
  return list.map(([x, y]) => { const q = new DOMPoint(x, -y).matrixTransform(m); return [q.x, q.y]; });
}, pts);

check('hazard-draw', 'operator draws a hazard freehand around the busiest exit (Escape cancels; double-click finishes): the egress estimate changes; closing it restores it', async () => {
  const page = t.page;
  const doc = JSON.parse(fs.readFileSync(VENUE_FILE, 'utf8'));
  const before = (await api('GET', `/venues/${VENUE}/state`, t.tokens.operator)).json.egress;
  expect(before && before.time_s != null, 'no egress estimate to compare with');
  const st = (await api('GET', `/venues/${VENUE}/state`, t.tokens.operator)).json;
  const [exit] = busiestExit(before, st.zones) || [];
  const f = doc.features.find((x) => x.properties.kind === 'exit' && x.properties.id === exit);
  expect(f, `the estimate recommends ${exit}, which is not an exit of the file`);
  const level = f.properties.level ?? 0;
  const [[ax, ay], [bx, by]] = f.geometry.coordinates;
  const [mx, my] = [(ax + bx) / 2, (ay + by) / 2];
  const corners = [[mx - 3, my - 3], [mx + 3, my - 3], [mx + 3, my + 3], [mx - 3, my + 3]];
  const figure = () => page.textContent('.egress .figure');
  const shownBefore = await figure();
  await page.click(`.level-bar button[data-level="${level}"]`);
  await page.waitForSelector(`.plan-box[data-level="${level}"]`);

  // Escape cancels: nothing is reported.
  await page.click('#draw-hazard');
  await page.waitForSelector('.draw-bar:not([hidden])');
  await page.locator('main svg.plan').scrollIntoViewIfNeeded();
  let at = await planToScreen(page, corners);
  await page.mouse.click(at[0][0], at[0][1]);
  await page.keyboard.press('Escape');
  await page.waitForSelector('.draw-bar[hidden]', { state: 'attached' });
  expect(!(await page.$('svg.plan .draw-catcher')), 'Escape left the drawing layer on the plan');

  // Click three corners, double-click the fourth.
  await page.click('#draw-hazard');
  await page.waitForSelector('.draw-bar:not([hidden])');
  await page.locator('main svg.plan').scrollIntoViewIfNeeded();
  at = await planToScreen(page, corners);
  for (const [x, y] of at.slice(0, 3)) await page.mouse.click(x, y);
  const status = await page.textContent('.draw-status');
  expect(/3 corners/.test(status), `after three clicks the drawing says "${status}"`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'venue-hazard-draw', { clip: '.venue-grid' });
  await page.locator('main svg.plan').scrollIntoViewIfNeeded();
  at = await planToScreen(page, corners);
  await page.mouse.dblclick(at[3][0], at[3][1]);
  await page.waitForSelector('#dialog[open] textarea');
  const intro = await page.textContent('#dialog');
  expect(/4 corners/.test(intro), `the dialog does not describe a 4-corner area: "${intro.slice(0, 160)}"`);
  await page.fill('#dialog textarea', `e2e: smoke at ${exit}`);
  await page.click('#dialog button[type=submit]');
  await page.waitForSelector('#dialog[open]', { state: 'detached' });

  const incs = (await api('GET', `/venues/${VENUE}/incidents`, t.tokens.operator)).json?.incidents || [];
  const inc = incs.find((i) => i.kind === 'hazard' && !i.closed_at);
  expect(inc, 'GET /incidents has no open hazard incident');
  expect((inc.level ?? 0) === level && inc.polygon?.length === 5, `the hazard is ${JSON.stringify(inc).slice(0, 200)}`);
  const near = (p, q) => Math.hypot(p[0] - q[0], p[1] - q[1]) < 0.5;
  expect(corners.every((c, i) => near(inc.polygon[i], c)), `the polygon ${JSON.stringify(inc.polygon)} is not the one drawn ${JSON.stringify(corners)}`);
  const after = (await api('GET', `/venues/${VENUE}/state`, t.tokens.operator)).json.egress;
  expect(after.time_s !== before.time_s, `the egress time did not change (${before.time_s} s)`);
  expect(!Object.values(after.zones).some((x) => x.includes(exit)), `the server still recommends ${exit} inside the hazard`);
  await page.waitForSelector('svg.plan .layer-hazards path.hazard', { timeout: 5000 })
    .catch(() => { throw new CheckError('the open hazard is not drawn on the plan'); });
  await page.waitForFunction((was) => { const x = document.querySelector('.egress .figure')?.textContent; return x && x !== was; }, shownBefore, { timeout: 5000 })
    .catch(async () => { throw new CheckError(`the egress figure still says "${await figure()}"`); });
  const shownAfter = await figure();

  await page.click(`.incident-log li[data-incident="${inc.id}"] button.close-incident`);
  await page.waitForSelector('#dialog[open] textarea');
  await page.fill('#dialog textarea', 'e2e: cleared');
  await page.click('#dialog button[type=submit]');
  await page.waitForSelector('#dialog[open]', { state: 'detached' });
  await page.waitForSelector('svg.plan .layer-hazards path.hazard', { state: 'detached', timeout: 5000 });
  await page.click('.level-bar button[data-level="0"]');
  return `hazard at ${exit}: ${shownBefore} → ${shownAfter}`;
}, { needs: ['incident'] });

check('simulation', 'operator runs a simulation on the page: progress, result, curve, flow per exit and playback; a viewer gets no Run button', async () => {
  const page = t.page;
  await page.goto(`${t.url}#/sim`);
  await page.waitForSelector('#run-sim');
  await page.check('#sim-pop-per_zone');
  await page.fill('#sim-per-zone', '15');
  await page.check('#sim-closed-E1');
  await page.selectOption('#sim-routing', 'nearest');
  await page.click('#run-sim');
  await page.waitForSelector('#sim-status');
  await page.waitForSelector('#sim-summary', { timeout: 40_000 })
    .catch(async () => { throw new CheckError(`no result within 40 s: ${await page.textContent('main').then((x) => x.slice(0, 300))}`); });
  const id = decodeURIComponent(page.url().split('/').pop());
  const job = (await api('GET', `/simulations/${id}`, t.tokens.operator)).json;
  expect(job?.state === 'done', `the server says ${id} is ${job?.state}: ${JSON.stringify(job).slice(0, 200)}`);
  expect(job.scenario.closed.includes('E1') && job.scenario.routing === 'nearest', `the scenario sent was ${JSON.stringify(job.scenario)}`);
  expect(!job.exits.E1, 'closed exit E1 has a flow series');
  const verdict = await page.textContent('#sim-summary .verdict');
  expect(/egress limit|Not everyone/.test(verdict), `the verdict says "${verdict}"`);
  const curveLen = await page.$eval('#sim-curve path.curve', (p) => p.getAttribute('d').split('L').length);
  expect(curveLen >= job.curve.length, `the curve has ${curveLen} points, the server ${job.curve.length}`);
  const flows = await page.$$eval('#sim-flow path.flow', (ps) => ps.length);
  expect(flows > 0, 'no flow line per exit');
  // Playback: the slider moves and people are drawn on the plan.
  await page.waitForSelector('#sim-plan svg.plan');
  await page.waitForFunction(() => +document.querySelector('#sim-plan')?.dataset.shown > 0, null, { timeout: 3000 })
    .catch(() => { throw new CheckError('nobody drawn on the plan at the start of the playback'); });
  await page.selectOption('#sim-speed', '30');
  await page.click('#sim-play');
  await page.waitForFunction(() => +document.querySelector('#sim-scrub').value > 4, null, { timeout: 8000 })
    .catch(() => { throw new CheckError('the playback did not move'); });
  await page.click('#sim-play');
  await page.focus('#sim-scrub');
  await page.keyboard.press('End');
  await page.waitForFunction(() => /\b0 inside/.test(document.querySelector('#sim-time')?.textContent || '') || +document.querySelector('#sim-scrub').value === +document.querySelector('#sim-scrub').max, null, { timeout: 3000 });
  await page.keyboard.press('Home');
  for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowRight');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'simulation', { clip: 'main' });

  const viewer = await newPage();
  await signIn(viewer, t.tokens.viewer);
  await viewer.goto(`${t.url}#/sim`);
  await viewer.waitForSelector('.role-note');
  expect(!(await viewer.$('#run-sim')), 'the viewer is offered the Run button');
  await viewer.close();
  return `${id}: ${job.summary.agents} people, ${job.summary.evacuation_time_s} s`;
}, { needs: ['signin'] });

check('pages', 'warnings, timeline and simulation pages render (or say the server does not offer them yet)', async () => {
  const page = t.page;
  await page.goto(`${t.url}#/venues`);
  await page.waitForSelector(`tr[data-venue="${VENUE}"]`);
  await shot(page, 'venues');
  for (const [route, name] of [['warnings', 'warnings'], ['timeline', 'timeline'], ['sim', 'sim']]) {
    await page.goto(`${t.url}#/${route}`);
    await page.waitForFunction(() => !document.querySelector('main p.muted')?.textContent.startsWith('Loading'), null, { timeout: 5000 });
    const text = await page.textContent('main');
    expect(!/failed to load/i.test(text), `#/${route}: ${text.slice(0, 200)}`);
    if (/not available on this server yet/.test(text)) t.notes.push(`#/${route}: the server does not offer it yet`);
    await shot(page, name);
    if (route === 'timeline') {
      const link = await page.$('main table a[href^="#/timeline/"]');
      if (link) {
        await link.click();
        await page.waitForFunction(() => !document.querySelector('main p.muted')?.textContent.startsWith('Loading'), null, { timeout: 5000 });
        const detail = await page.textContent('main');
        expect(!/failed to load/i.test(detail), `#/timeline/ID: ${detail.slice(0, 200)}`);
        if (/not available on this server yet/.test(detail)) t.notes.push('#/timeline/ID: the server does not offer it yet');
        else await shot(page, 'timeline-gathering', { clip: 'main' });
      }
    }
  }
}, { needs: ['signin'] });

check('hygiene', 'no request left the vigil server, and no script errors', async () => {
  expect(t.foreign.length === 0, `requests to other origins: ${t.foreign.slice(0, 5).join(', ')}`);
  expect(t.pageErrors.length === 0, `uncaught errors: ${t.pageErrors.slice(0, 3).join(' | ')}`);
  const errs = t.consoleErrors.filter((e) => !/status of (40[01345]|409)/.test(e)); // expected refusals in this test
  expect(errs.length === 0, `console errors: ${errs.slice(0, 3).join(' | ')}`);
}, { needs: ['signin'] });

// ---------- run ----------
t.pageErrors = [];
t.consoleErrors = [];
t.foreign = [];
const watchdog = setTimeout(async () => {
  console.log(`not ok - the run took longer than ${RUN_LIMIT_MS / 1000} s; stopping`);
  await cleanup();
  process.exit(1);
}, RUN_LIMIT_MS);

async function cleanup() {
  try { await t.browser?.close(); } catch { /* ignore */ }
  await stopServer();
  if (t.dataDir && !opts.keep) fs.rmSync(t.dataDir, { recursive: true, force: true });
  else if (t.dataDir) console.log(`# kept ${t.dataDir}`);
}

// Never leave the server or the browser behind.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    console.log(`not ok - interrupted (${sig})`);
    await cleanup();
    process.exit(1);
  });
}
process.on('unhandledRejection', async (e) => {
  console.log(`not ok - internal error of the test: ${e?.stack || e}`);
  await cleanup();
  process.exit(1);
});

const started = Date.now();
let passed = 0;
let failed = 0;
let skipped = 0;
for (const c of checks) {
  const missing = c.needs.filter((n) => results.get(n) !== true);
  if (missing.length) {
    results.set(c.id, false);
    skipped++;
    console.log(`ok - ${c.name} # SKIP (needs: ${missing.join(', ')})`);
    continue;
  }
  const t0 = Date.now();
  try {
    const extra = await c.fn();
    results.set(c.id, true);
    passed++;
    console.log(`ok - ${c.name} (${extra || `${Date.now() - t0} ms`})`);
  } catch (e) {
    results.set(c.id, false);
    failed++;
    console.log(`not ok - ${c.name}: ${e instanceof CheckError ? e.message : (e.stack || String(e)).split('\n').slice(0, 3).join(' | ')}`);
    if (t.pageErrors.length) console.log(`#   script errors in the page: ${t.pageErrors.slice(-3).join(' | ')}`);
    if (t.serverExited) console.log(`#   vigil serve exited (${t.serverExited}); its last stderr: ${(t.serverStderr || '').trim().split('\n').slice(-5).join(' | ')}`);
  }
}
for (const n of t.notes) console.log(`# ${n}`);
if (opts.screenshots && passed) console.log(`# screenshots in ${opts.screenshots}`);
await cleanup();
clearTimeout(watchdog);
console.log(`# ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed || skipped ? 1 : 0);
