// Shared harness of the browser test files: one `lapor serve --demo` per
// file on a fresh SQLite database, Debian's Chromium through playwright-core,
// axe-core checks, TOTP codes and screenshots.
//
// Environment: LAPOR_BIN (default ../../target/debug/lapor), CHROMIUM_PATH
// (default /usr/bin/chromium), LAPOR_SCREENSHOTS_DIR (default docs/screenshots,
// relative to the repository), LAPOR_SCREENSHOTS=0 to skip the screenshots.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startTileServer } from './tiles.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '../..');
const BIN = resolve(HERE, process.env.LAPOR_BIN ?? '../../target/debug/lapor');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SHOTS = resolve(ROOT, process.env.LAPOR_SCREENSHOTS_DIR ?? 'docs/screenshots');
export const TAKE_SHOTS = process.env.LAPOR_SCREENSHOTS !== '0';
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export const PASSWORD = 'demo-lapor-2026';
// The demo admins' published authenticator key (`lapor serve --demo`).
export const DEMO_TOTP_KEY = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** What the tests of one file share: the server's URL, the browser, the tile stand-in, the axe log. */
export const env = { base: null, browser: null, tiles: null, axeLog: [] };
let tiles;
let server;
let dbDir;

function startLapor(tileTemplate, { benchData = 0 } = {}) {
  dbDir = mkdtempSync(join(tmpdir(), 'lapor-browser-'));
  const laporEnv = {
    ...process.env,
    LAPOR_DATABASE_URL: `sqlite://${join(dbDir, 'lapor.db')}`,
    LAPOR_DATA_DIR: join(ROOT, 'data'),
    LAPOR_TILE_URL: tileTemplate,
    LAPOR_TILE_ATTRIBUTION: 'test tiles',
    LAPOR_LOG: process.env.LAPOR_LOG ?? 'warn',
    // Every test browser signs in from 127.0.0.1, many times a minute; the
    // per-address limits are tested in crates/server/tests/hardening.rs.
    LAPOR_LIMIT_SIGN_IN_PER_MINUTE: '0',
    LAPOR_LIMIT_SUBMIT_PER_MINUTE: '0',
    NO_COLOR: '1',
  };
  // A generated national history first, for the dashboards to show.
  if (benchData > 0) {
    for (const args of [['demo'], ['bench-data', '--reports', String(benchData)]]) {
      const r = spawnSync(BIN, args, { cwd: ROOT, env: laporEnv, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`lapor ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
    }
  }
  const child = spawn(BIN, ['serve', '--demo', '--bind', '127.0.0.1:0'], {
    cwd: ROOT,
    env: laporEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-20000); });
  return new Promise((resolveUrl, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`lapor serve did not start in 120 s\n${stderr}`)), 120_000);
    child.once('error', (e) => { clearTimeout(timer); reject(new Error(`cannot run ${BIN}: ${e.message}`)); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`lapor serve exited (${code})\n${stderr}`)); });
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/running at (http:\/\/\S+?)\/?\s/);
      if (m) {
        clearTimeout(timer);
        child.stdout.resume();
        resolveUrl({ child, url: m[1], stderr: () => stderr });
      }
    });
  });
}

async function stopLapor() {
  const child = server?.child;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

/** Starts the tile stand-in, the server and the browser; fills `env`. */
const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function setUp(options = {}) {
  tiles = await startTileServer();
  env.tiles = tiles;
  server = await startLapor(tiles.template, options);
  env.base = server.url;
  env.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  if (TAKE_SHOTS) mkdirSync(SHOTS, { recursive: true });
}

export async function tearDown() {
  await env.browser?.close();
  await stopLapor();
  await tiles?.close();
  if (dbDir) rmSync(dbDir, { recursive: true, force: true });
  console.log('\naxe-core violations by page (none = clean):');
  for (const { label, ids } of env.axeLog) console.log(`  ${label.padEnd(20)} ${ids.length ? ids.join(', ') : 'none'}`);
}

/** A browser context in Indonesian, collecting script errors and CSP refusals. */
export async function newContext(options = {}) {
  const ctx = await env.browser.newContext({ locale: 'id-ID', timezoneId: 'Asia/Jakarta', baseURL: env.base, ...options });
  ctx.problems = [];
  ctx.on('page', (p) => watch(ctx, p));
  return ctx;
}

/**
 * A browser with a profile on disk, as an installed app would have:
 * Chromium never offers to install from an incognito context, which every
 * `newContext` is. Closing the context removes the profile.
 */
export async function persistentContext(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'lapor-profile-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, locale: 'id-ID', timezoneId: 'Asia/Jakarta', baseURL: env.base, ...options,
  });
  ctx.problems = [];
  ctx.on('page', (p) => watch(ctx, p));
  // Chromium may still be writing the profile as the context closes.
  ctx.on('close', () => setTimeout(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }), 500));
  return ctx;
}

function watch(ctx, page) {
  page.on('pageerror', (e) => ctx.problems.push(`page error on ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Refused to|Content Security Policy/i.test(m.text())) {
      ctx.problems.push(`CSP on ${page.url()}: ${m.text()}`);
    }
  });
}

export function noProblems(ctx) {
  assert.deepEqual(ctx.problems, [], 'no script errors or CSP refusals');
}

/**
 * Runs axe-core on the page as it is now; fails on serious or critical
 * violations, prints every violation for debugging.
 */
export async function axe(page, label) {
  await page.evaluate(AXE_SOURCE); // an evaluated script is not subject to the page's CSP
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')} — ${n.failureSummary.replace(/\s+/g, ' ')}`),
    }));
  });
  env.axeLog.push({ label, ids: violations.map((v) => `${v.id}(${v.impact})`) });
  for (const v of violations) {
    console.log(`axe ${label}: ${v.id} [${v.impact}] ${v.help}\n    ${v.nodes.join('\n    ')}`);
  }
  // axe 4 only reports duplicate ids that ARIA refers to; any duplicate breaks labels and skip links.
  const dupIds = await page.evaluate(() => {
    const seen = new Map();
    for (const el of document.querySelectorAll('[id]')) seen.set(el.id, (seen.get(el.id) ?? 0) + 1);
    return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  });
  assert.deepEqual(dupIds, [], `${label}: duplicate ids`);
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => v.id), [], `${label}: serious or critical accessibility violations`);
}

export async function api(method, path, { token, body } = {}) {
  const res = await fetch(`${env.base}/api/v1${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      'accept-language': 'id',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  return { status: res.status, json };
}

/** An API call that must succeed. */
export async function staff(method, path, token, body) {
  const r = await api(method, path, { token, body });
  assert.ok(r.status < 400, `${method} ${path} -> ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

/** The TOTP code for a base32 key at a 30-second step (RFC 6238: HMAC-SHA1, 6 digits). */
export function totpAt(key, step) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of key.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const bytes = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', bytes).update(counter).digest();
  const o = mac[19] & 15;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}

// The server refuses a code whose step this user already signed in with
// (replay guard), so each sign-in of the same user waits for a new step.
const usedStep = new Map();
export async function freshTotp(login, key = DEMO_TOTP_KEY) {
  let step = Math.floor(Date.now() / 30_000);
  const last = usedStep.get(login) ?? -1;
  if (step <= last) {
    await new Promise((r) => setTimeout(r, (last + 1) * 30_000 - Date.now() + 50));
    step = last + 1;
  }
  usedStep.set(login, step);
  return totpAt(key, step);
}

/** An API bearer token of a demo staff user (admins send a TOTP code). */
export async function token(login) {
  return (await staff('POST', '/auth/login', undefined, { login, password: PASSWORD, otp: await freshTotp(login) })).token;
}

/** Slow 3G as WebPageTest defines it: 400 ms round trip, 400 kbit/s each way. */
export const SLOW_3G = { latency: 400, downloadThroughput: (400 * 1000) / 8, uploadThroughput: (400 * 1000) / 8 };

/**
 * A first open of the form in a fresh browser context (no service worker yet):
 * bytes over the wire from this origin, first contentful paint, load time.
 */
export async function firstOpen(contextOptions, throttle) {
  const ctx = await newContext(contextOptions);
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  if (throttle) await cdp.send('Network.emulateNetworkConditions', { offline: false, ...throttle });
  const bytes = new Map();
  const urls = new Map();
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.loadingFinished', (e) => bytes.set(e.requestId, e.encodedDataLength));
  const started = Date.now();
  await page.goto('/lapor', { waitUntil: 'load' });
  await page.locator('#judul').waitFor({ state: 'visible' });
  const load = Date.now() - started;
  const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null);
  assert.ok(fcp !== null, 'first contentful paint recorded');
  // The shell: the page and what it loads from Lapor. The service worker's
  // own copies come after, in the background; map tiles come from the tile
  // server. Neither is counted.
  await page.waitForTimeout(300);
  const origin = new URL(page.url()).origin;
  let total = 0;
  const parts = [];
  for (const [id, n] of bytes) {
    const u = new URL(urls.get(id) ?? 'about:blank');
    if (u.origin !== origin || u.pathname === '/sw.js') continue;
    total += n;
    parts.push(`${u.pathname} ${n}`);
  }
  noProblems(ctx);
  await ctx.close();
  return { total, parts, fcp: Math.round(fcp), load };
}

/** A full-page screenshot named `<name>-phone.png` or `<name>-desktop.png`. */
export async function shoot(page, name, { part } = {}) {
  if (!TAKE_SHOTS) return;
  const vp = page.viewportSize();
  const kind = vp.width < 600 ? 'phone' : 'desktop';
  const path = join(SHOTS, `${name}-${kind}.png`);
  // `part`: a locator, to picture one section instead of the whole page.
  if (part) await part.screenshot({ path, animations: 'disabled' });
  else await page.screenshot({ path, fullPage: true, animations: 'disabled' });
}

/**
 * Signs a demo staff user in through the web form, with a second factor
 * when the account has one; returns a context holding the session.
 */
export async function signIn(login, { key, expectCode = true, context = {} } = {}) {
  const ctx = await newContext(context);
  const page = await ctx.newPage();
  await page.goto('/staf');
  await page.waitForURL('**/staf/masuk**');
  await page.fill('#login', login);
  await page.fill('#password', PASSWORD);
  await page.getByRole('button', { name: 'Lanjut' }).click();
  if (expectCode) {
    await page.waitForURL('**/staf/verifikasi**');
    await page.fill('#kode', await freshTotp(login, key));
    await page.getByRole('button', { name: 'Masuk', exact: true }).click();
  }
  await page.waitForURL((u) => u.pathname === '/staf');
  return { ctx, page };
}
