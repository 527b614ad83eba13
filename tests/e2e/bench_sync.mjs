// Benchmark: sync throughput of the web app (Dovecot → proxy → WebSocket → wasm → IndexedDB in
// headless Chromium) beside two native clients of the protocol crate on the same mailboxes in
// the same run: the raw pipelined client (`examples/pipelined`: every RETR at once, bodies
// kept in memory and dropped: the baseline) and the `fetch` example (a file, fsync and rename
// per message: what a durable native tool pays). Then the same mailbox through a relay adding
// RTT_MS/2 each way between the proxy and Dovecot (the browser-to-proxy leg is the browser's
// own), with the physical limit beside it; list-open time with 10 000 stored messages; bundle.
// First, the cost of the full-text index: the same 1,000-message sync with the indexer on, off
// and (as before) beside the sync, in alternating rounds (a fresh browser context each), with
// the time until the index holds every message.
//
//   node tests/e2e/bench_sync.mjs            (needs dist/ and target/debug/fixture, like the tests)
//   BENCH_MESSAGES=1000 BENCH_RTT_MS=50       (the defaults)
//   POSTBAG_FIXTURE_BIN=target/release/fixture  (an optimised proxy on the app's path)
//   BENCH_INDEX_ROUNDS=4                      (rounds per indexer mode; 0: none)
//   BENCH_ONLY_INDEX=1                        (only the indexer on/off rounds)
//
// Figures are printed as a table; nothing is asserted except that every sync completed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixture, launchBrowser, ROOT } from './fixture.mjs';
import { setupAccount, storedSummaries } from './app_support.mjs';
import { startDelayRelay } from './bench_support.mjs';

const MSGS = Number(process.env.BENCH_MESSAGES || 1000);
const MSG_SIZE = 20_000;
const BIG = 10_000_000;
const LIST_N = 10_000;
const RTT_MS = Number(process.env.BENCH_RTT_MS || 50);
const INDEX_ROUNDS = Number(process.env.BENCH_INDEX_ROUNDS ?? 4);
const ONLY_INDEX = process.env.BENCH_ONLY_INDEX === '1';
/// Round trips a session needs at the least: connect, TLS, greeting and CAPA, login, listing,
/// the RETRs, QUIT (as issue 17 counts them).
const MIN_ROUND_TRIPS = 6;

const rows = [];
// Each app row carries its time as a multiple of the raw pipelined client's and of fetch's on
// the same mailbox in the same minute: the figures that stay comparable on a loaded machine.
const row = (what, seconds, count, bytes, { raw, fetch, physical } = {}) => {
  console.log(`${what}: ${seconds.toFixed(2)} s, ${count} messages, ${bytes} bytes`);
  rows.push({
    what,
    seconds: seconds.toFixed(2),
    'msg/s': count ? (count / seconds).toFixed(1) : '',
    'MB/s': bytes ? (bytes / 1e6 / seconds).toFixed(2) : '',
    '× raw pipelined': raw ? (seconds / raw).toFixed(2) : '',
    '× fetch': fetch ? (seconds / fetch).toFixed(2) : '',
    '× physical': physical ? (seconds / physical).toFixed(2) : '',
  });
};

function example(name) {
  const exe = join(ROOT, 'target', 'release', 'examples', name);
  if (!existsSync(exe)) {
    execFileSync('cargo', ['build', '--release', '-p', 'postbag-protocol', '--example', name], { cwd: ROOT, stdio: 'inherit' });
  }
  return exe;
}

/** The `fetch` example into a fresh folder: a file, fsync and rename per message. */
function nativeFetch(fx, user, port, tls) {
  const out = mkdtempSync(join(tmpdir(), 'postbag-bench-'));
  // Built (if stale) before the clock starts: a first run timed the example's compilation.
  const bin = example('fetch');
  const t0 = performance.now();
  const r = spawnSync(bin, ['--host', '127.0.0.1', '--port', String(port), '--tls', tls, '--user', user.name,
    '--password-env', 'BENCH_PW', '--ca-file', fx.caPem, '--out', join(out, 'mail')],
  { env: { ...process.env, BENCH_PW: user.password }, encoding: 'utf8' });
  const secs = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`native fetch failed: ${r.stderr}`);
  const files = readdirSync(join(out, 'mail'));
  const bytes = files.reduce((n, f) => n + statSync(join(out, 'mail', f)).size, 0);
  rmSync(out, { recursive: true, force: true });
  return { secs, count: files.length, bytes };
}

/** The raw pipelined client (`examples/pipelined`): every RETR at once, nothing stored. */
function nativeRaw(fx, user, port, tls) {
  const bin = example('pipelined');
  const t0 = performance.now();
  const r = spawnSync(bin, ['--host', '127.0.0.1', '--port', String(port), '--tls', tls, '--user', user.name,
    '--password-env', 'BENCH_PW', '--ca-file', fx.caPem],
  { env: { ...process.env, BENCH_PW: user.password }, encoding: 'utf8' });
  const secs = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`pipelined client failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  return { secs, count: out.messages, bytes: out.bytes };
}

async function appSync(page, expected, timeout) {
  const before = Number(await page.locator('.status').getAttribute('data-runs'));
  const t0 = performance.now();
  await page.getByRole('button', { name: 'Sync' }).click();
  await page.waitForFunction((n) => Number(document.querySelector('.status')?.dataset.runs) > n, before, { timeout, polling: 50 });
  const secs = (performance.now() - t0) / 1000;
  const text = await page.getByRole('status', { name: 'Sync status' }).textContent();
  if (!text.includes(`${expected} new message`)) throw new Error(`sync did not complete: ${text}`);
  const stored = await storedSummaries(page);
  return { secs, count: stored.length, bytes: stored.reduce((n, s) => n + s.size, 0) };
}

/** A fresh browser context (empty IndexedDB) with `user`'s account on `port`, synced once. */
async function freshAppSync(browser, fx, user, port, expected) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(fx.appUrl);
  await setupAccount(page, { ...fx, pop3sPort: port }, user, { policy: 'leave', test: false });
  const result = await appSync(page, expected, 600_000);
  return { ...result, ctx, page };
}

/** IndexedDB's count of `names`' records in this page's store. */
function countRecords(page, names) {
  return page.evaluate((names) => new Promise((res, rej) => {
    const o = indexedDB.open('postbag');
    o.onerror = () => rej(o.error);
    o.onsuccess = () => {
      const db = o.result;
      const tx = db.transaction(names);
      const counts = {};
      for (const n of names) {
        const r = tx.objectStore(n).count();
        r.onsuccess = () => { counts[n] = r.result; };
      }
      tx.oncomplete = () => { db.close(); res(counts); };
      tx.onerror = () => { db.close(); rej(tx.error); };
    };
  }), names);
}

/**
 * The modes the indexer's rounds alternate: `on` (the app as it is: indexing waits for the
 * sync's end), `off` (`window.postbagBenchNoIndexer`), and `beside` (the indexer started by
 * the sync's batches as before: `window.postbagBenchIndexDuringSync`). Both switches are read
 * by `frontend/src/model/bench.rs` and set before the app starts.
 */
const MODES = {
  on: { label: 'indexer on (waits for the sync\'s end)', flag: null },
  off: { label: 'indexer off', flag: 'postbagBenchNoIndexer' },
  beside: { label: 'indexer on beside the sync (as before)', flag: 'postbagBenchIndexDuringSync' },
};

/**
 * One round of the indexer's cost: a fresh context synced once in `mode`. The sync's time is
 * Sync's click to its result line, which follows the last durable commit and QUIT; with the
 * indexer on, also the time from the click until the index holds every message and its queue
 * is empty.
 */
async function indexRound(browser, fx, user, mode) {
  const ctx = await browser.newContext();
  const { flag } = MODES[mode];
  if (flag) await ctx.addInitScript((flag) => { window[flag] = true; }, flag);
  const page = await ctx.newPage();
  await page.goto(fx.appUrl);
  await setupAccount(page, fx, user, { policy: 'leave', test: false });
  const t0 = performance.now();
  const synced = await appSync(page, MSGS, 600_000);
  let indexed = null;
  if (mode !== 'off') {
    for (;;) {
      const c = await countRecords(page, ['search_queue', 'search_docs']);
      if (c.search_queue === 0 && c.search_docs >= MSGS) break;
      if (performance.now() - t0 > 600_000) throw new Error(`index not complete: ${JSON.stringify(c)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    indexed = (performance.now() - t0) / 1000;
  } else {
    const c = await countRecords(page, ['search_docs']);
    if (c.search_docs !== 0) throw new Error(`the indexer ran while off: ${c.search_docs} indexed`);
  }
  await ctx.close();
  return { ...synced, indexed };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * The indexer's cost in alternating rounds, the modes in turn and every other turn backwards
 * (on, off, beside, beside, off, on, ...): drift of the machine's load hits each alike.
 */
async function indexerCost(browser, fx) {
  const user = await fx.newUser();
  await fx.deliver(user, `sized:${MSG_SIZE}`, MSGS);
  const order = ['on', 'off', 'beside'];
  const got = { on: [], off: [], beside: [] };
  for (let turn = 0; turn < INDEX_ROUNDS; turn++) {
    for (const mode of turn % 2 ? [...order].reverse() : order) {
      const r = await indexRound(browser, fx, user, mode);
      console.log(`${MODES[mode].label}: sync ${r.secs.toFixed(2)} s${r.indexed ? `, index complete ${r.indexed.toFixed(2)} s after the click` : ''}`);
      got[mode].push(r);
    }
  }
  const fmt = (xs) => xs.map((x) => x.toFixed(2)).join(', ');
  const sync = {};
  for (const mode of order) {
    sync[mode] = median(got[mode].map((r) => r.secs));
    rows.push({ what: `app: ${MSGS} × 20 KB (TLS), ${MODES[mode].label}: sync, median of ${got[mode].length} (${fmt(got[mode].map((r) => r.secs))})`, seconds: sync[mode].toFixed(2) });
  }
  rows.push({ what: 'sync time, indexer on / off (medians; goal at most 1.10)', seconds: (sync.on / sync.off).toFixed(3) });
  rows.push({ what: 'sync time, indexer beside the sync (as before) / off (medians)', seconds: (sync.beside / sync.off).toFixed(3) });
  for (const mode of ['on', 'beside']) {
    const done = got[mode].map((r) => r.indexed);
    rows.push({ what: `${MODES[mode].label}: index complete after Sync's click, median (${fmt(done)})`, seconds: median(done).toFixed(2) });
    rows.push({ what: `${MODES[mode].label}: index complete after the sync's end, median`, seconds: median(got[mode].map((r) => r.indexed - r.secs)).toFixed(2) });
  }
}

// The relay listens before the fixture starts, so the fixture's proxy can allow its port.
const relay = await startDelayRelay(RTT_MS / 2);
process.env.POSTBAG_FIXTURE_ALLOW_PORT = String(relay.port);
const fx = await startFixture();
relay.target(fx.pop3sPort);
const browser = await launchBrowser();
try {
  // 0. The full-text indexer's cost to a sync (issue 16).
  if (INDEX_ROUNDS > 0) await indexerCost(browser, fx);
  if (!ONLY_INDEX) {
    // 1. Many ~20 KB messages on loopback. The app leaves them on the server so the native
    //    clients (and the delayed runs) fetch the very same mailbox afterwards.
    const many = await fx.newUser();
    await fx.deliver(many, `sized:${MSG_SIZE}`, MSGS);
    const a = await freshAppSync(browser, fx, many, fx.pop3sPort, MSGS);
    await a.ctx.close();
    const r1 = nativeRaw(fx, many, fx.pop3sPort, 'implicit');
    const f1 = nativeFetch(fx, many, fx.pop3sPort, 'implicit');
    row(`app: ${MSGS} × 20 KB (TLS), loopback`, a.secs, a.count, a.bytes, { raw: r1.secs, fetch: f1.secs });
    row(`raw pipelined client (no storage): ${MSGS} × 20 KB (TLS), loopback`, r1.secs, r1.count, r1.bytes);
    row(`fetch example (file + fsync + rename each): ${MSGS} × 20 KB (TLS), loopback`, f1.secs, f1.count, f1.bytes);

    // 2. The same mailbox through the relay: RTT_MS between the proxy and Dovecot.
    const physical = MIN_ROUND_TRIPS * RTT_MS / 1000 + r1.secs;
    const d = await freshAppSync(browser, fx, many, relay.port, MSGS);
    await d.ctx.close();
    const r2 = nativeRaw(fx, many, relay.port, 'implicit');
    const f2 = nativeFetch(fx, many, relay.port, 'implicit');
    row(`app: ${MSGS} × 20 KB (TLS), ${RTT_MS} ms RTT`, d.secs, d.count, d.bytes, { raw: r2.secs, fetch: f2.secs, physical });
    row(`raw pipelined client: ${MSGS} × 20 KB (TLS), ${RTT_MS} ms RTT`, r2.secs, r2.count, r2.bytes, { physical });
    row(`fetch example (16 in flight): ${MSGS} × 20 KB (TLS), ${RTT_MS} ms RTT`, f2.secs, f2.count, f2.bytes, { physical });
    row(`physical limit: ${MIN_ROUND_TRIPS} round trips + the raw client's loopback time`, physical, 0, 0);

    // 3. One 10 MB message.
    const big = await fx.newUser();
    await fx.deliver(big, `large:${BIG}`, 1);
    const b = await freshAppSync(browser, fx, big, fx.pop3sPort, 1);
    const r3 = nativeRaw(fx, big, fx.pop3sPort, 'implicit');
    const f3 = nativeFetch(fx, big, fx.pop3sPort, 'implicit');
    row('app: 1 × 10 MB (TLS), loopback', b.secs, b.count, b.bytes, { raw: r3.secs, fetch: f3.secs });
    row('raw pipelined client: 1 × 10 MB (TLS), loopback', r3.secs, r3.count, r3.bytes);
    row('fetch example: 1 × 10 MB (TLS), loopback', f3.secs, f3.count, f3.bytes);
    const { ctx, page } = b;

    // 3. Opening the list with 10 000 stored messages (seeded straight into IndexedDB).
    const account = (await page.evaluate(() => new Promise((res) => {
      const o = indexedDB.open('postbag');
      o.onsuccess = () => { const r = o.result.transaction('accounts').objectStore('accounts').getAll(); r.onsuccess = () => res(r.result[0]); };
    }))).id;
    await page.evaluate(({ account, n }) => new Promise((res, rej) => {
      const o = indexedDB.open('postbag');
      o.onsuccess = () => {
        const tx = o.result.transaction(['summaries', 'bodies', 'ledger'], 'readwrite');
        const s = tx.objectStore('summaries');
        for (let i = 0; i < n; i++) {
          s.put({ account, uidl: `seed-${i}`, from: `Sender ${i % 97}`, to: 'me', subject: `Seeded message ${i}`,
            date: 1.7e12 + i * 60000, size: 2000 + i, has_attachments: i % 10 === 0,
            snippet: 'Lorem ipsum dolor sit amet, consectetur adipiscing elit', read: i % 3 === 0, flagged: false });
        }
        tx.oncomplete = () => res(); tx.onerror = () => rej(tx.error);
      };
    }), { account, n: LIST_N });
    const t0 = performance.now();
    await page.reload();
    await page.waitForFunction((n) => (document.querySelector('.msg-count')?.textContent ?? '').startsWith(String(n)), LIST_N + 1, { timeout: 60000, polling: 10 });
    await page.getByRole('listbox', { name: 'Messages' }).getByRole('option').first().waitFor();
    const openSecs = (performance.now() - t0) / 1000;
    const rendered = await page.getByRole('listbox', { name: 'Messages' }).getByRole('option').count();
    // Scroll through the whole list and time the frames.
    const scroll = await page.evaluate(async () => {
      const el = document.querySelector('.msg-scroller');
      const frames = [];
      let last = performance.now();
      for (let i = 0; i < 120; i++) {
        el.scrollTop = (el.scrollHeight * i) / 120;
        await new Promise((r) => requestAnimationFrame(r));
        const now = performance.now();
        frames.push(now - last);
        last = now;
      }
      frames.sort((a, b) => a - b);
      return { median: frames[60], p95: frames[114], max: frames[119] };
    });
    rows.push({ what: `open list with ${LIST_N + 1} stored messages (reload → rows shown)`, seconds: openSecs.toFixed(2) });
    rows.push({ what: `scrolling: frame ms median/p95/max (${rendered} rows in DOM)`, seconds: `${scroll.median.toFixed(1)}/${scroll.p95.toFixed(1)}/${scroll.max.toFixed(1)}` });
    await ctx.close();
  }
} finally {
  await browser.close();
  await fx.close();
  relay.close();
}

// 4. Bundle size, as the proxy sends it to a browser that offers br: the build's `.br` copy
// where there is one (scripts/precompress.mjs), else the file itself. The budget (README,
// tests/e2e/app_compressed.test.mjs) counts these wire sizes.
const dist = process.env.POSTBAG_DIST || join(ROOT, 'dist');
const sizes = readdirSync(dist).filter((f) => /\.(wasm|js)$/.test(f)).map((f) => {
  const raw = statSync(join(dist, f)).size;
  const br = existsSync(join(dist, `${f}.br`)) ? statSync(join(dist, `${f}.br`)).size : raw;
  return { file: f, raw_kb: (raw / 1024).toFixed(1), wire_br_kb: (br / 1024).toFixed(1) };
});
console.log('\nSync and list figures');
console.table(rows);
console.log('Bundle (dist/)');
console.table(sizes);
const total = sizes.reduce((n, s) => n + Number(s.wire_br_kb), 0);
console.log(`total wasm + JS on the wire (br): ${total.toFixed(1)} KB (budget 400 KB for the whole first load)`);
