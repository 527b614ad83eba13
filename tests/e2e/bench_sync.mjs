// Benchmark: sync throughput of the web app (Dovecot → proxy → WebSocket → wasm → IndexedDB in
// headless Chromium) beside two native clients of the protocol crate on the same mailboxes in
// the same run: the raw pipelined client (`examples/pipelined`: every RETR at once, bodies
// kept in memory and dropped: the baseline) and the `fetch` example (a file, fsync and rename
// per message: what a durable native tool pays). Then the same mailbox through a relay adding
// RTT_MS/2 each way between the proxy and Dovecot (the browser-to-proxy leg is the browser's
// own), with the physical limit beside it; list-open time with 10 000 stored messages; bundle.
//
//   node tests/e2e/bench_sync.mjs            (needs dist/ and target/debug/fixture, like the tests)
//   BENCH_MESSAGES=1000 BENCH_RTT_MS=50       (the defaults)
//   POSTBAG_FIXTURE_BIN=target/release/fixture  (an optimised proxy on the app's path)
//
// Figures are printed as a table; nothing is asserted except that every sync completed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startFixture, launchBrowser, ROOT } from './fixture.mjs';
import { setupAccount, storedSummaries } from './app_support.mjs';
import { startDelayRelay } from './bench_support.mjs';

const MSGS = Number(process.env.BENCH_MESSAGES || 1000);
const MSG_SIZE = 20_000;
const BIG = 10_000_000;
const LIST_N = 10_000;
const RTT_MS = Number(process.env.BENCH_RTT_MS || 50);
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
  const t0 = performance.now();
  const r = spawnSync(example('fetch'), ['--host', '127.0.0.1', '--port', String(port), '--tls', tls, '--user', user.name,
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
  const t0 = performance.now();
  const r = spawnSync(example('pipelined'), ['--host', '127.0.0.1', '--port', String(port), '--tls', tls, '--user', user.name,
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

// The relay listens before the fixture starts, so the fixture's proxy can allow its port.
const relay = await startDelayRelay(RTT_MS / 2);
process.env.POSTBAG_FIXTURE_ALLOW_PORT = String(relay.port);
const fx = await startFixture();
relay.target(fx.pop3sPort);
const browser = await launchBrowser();
try {
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
} finally {
  await browser.close();
  await fx.close();
  relay.close();
}

// 4. Bundle size.
const dist = process.env.POSTBAG_DIST || join(ROOT, 'dist');
const sizes = readdirSync(dist).filter((f) => /\.(wasm|js)$/.test(f)).map((f) => {
  const buf = readFileSync(join(dist, f));
  return { file: f, raw_kb: (buf.length / 1024).toFixed(1), gzip_kb: (gzipSync(buf, { level: 9 }).length / 1024).toFixed(1) };
});
console.log('\nSync and list figures');
console.table(rows);
console.log('Bundle (dist/)');
console.table(sizes);
const total = sizes.reduce((n, s) => n + Number(s.gzip_kb), 0);
console.log(`total wasm + JS gzip: ${total.toFixed(1)} KB`);
