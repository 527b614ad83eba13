// Benchmark: sync throughput of the web app (Dovecot → proxy → WebSocket → wasm → IndexedDB in
// headless Chromium) beside the native `fetch` example of the protocol crate on the same
// mailboxes in the same run; list-open time with 10 000 stored messages; bundle size.
//
//   node tests/e2e/bench_sync.mjs            (needs dist/ and target/debug/fixture, like the tests)
//
// Figures are printed as a table; nothing is asserted except that every sync completed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startFixture, launchBrowser, ROOT } from './fixture.mjs';
import { setupAccount, storedSummaries } from './app_support.mjs';

const MSGS = Number(process.env.BENCH_MESSAGES || 1000);
const MSG_SIZE = 20_000;
const BIG = 10_000_000;
const LIST_N = 10_000;

const rows = [];
// `native` (seconds of the native client on the same mailbox) adds the app's time as a
// multiple of it: the figure that stays comparable when the machine is loaded.
const row = (what, seconds, count, bytes, native) => {
  console.log(`${what}: ${seconds.toFixed(2)} s, ${count} messages, ${bytes} bytes`);
  rows.push({
    what,
    seconds: seconds.toFixed(2),
    'msg/s': count ? (count / seconds).toFixed(1) : '',
    'MB/s': bytes ? (bytes / 1e6 / seconds).toFixed(2) : '',
    '× native': native ? (seconds / native).toFixed(2) : '',
  });
};

function nativeFetch(fx, user, port, tls) {
  const exe = join(ROOT, 'target', 'release', 'examples', 'fetch');
  if (!existsSync(exe)) {
    execFileSync('cargo', ['build', '--release', '-p', 'postbag-protocol', '--example', 'fetch'], { cwd: ROOT, stdio: 'inherit' });
  }
  const out = mkdtempSync(join(tmpdir(), 'postbag-bench-'));
  const caFile = fx.caPem; // the fixture's CA file (a path)
  const t0 = performance.now();
  const r = spawnSync(exe, ['--host', '127.0.0.1', '--port', String(port), '--tls', tls, '--user', user.name,
    '--password-env', 'BENCH_PW', '--ca-file', caFile, '--out', join(out, 'mail')],
  { env: { ...process.env, BENCH_PW: user.password }, encoding: 'utf8' });
  const secs = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`native fetch failed: ${r.stderr}`);
  const files = readdirSync(join(out, 'mail'));
  const bytes = files.reduce((n, f) => n + statSync(join(out, 'mail', f)).size, 0);
  rmSync(out, { recursive: true, force: true });
  return { secs, count: files.length, bytes };
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

const fx = await startFixture();
const browser = await launchBrowser();
try {
  // 1. Many ~20 KB messages. The app leaves them on the server so the native client can fetch
  //    the very same mailbox afterwards.
  const many = await fx.newUser();
  await fx.deliver(many, `sized:${MSG_SIZE}`, MSGS);
  let ctx = await browser.newContext();
  let page = await ctx.newPage();
  await page.goto(fx.appUrl);
  await setupAccount(page, fx, many, { policy: 'leave', test: false });
  const a = await appSync(page, MSGS, 600_000);
  const n1 = nativeFetch(fx, many, fx.pop3sPort, 'implicit');
  row(`app: ${MSGS} × 20 KB (TLS)`, a.secs, a.count, a.bytes, n1.secs);
  row(`native fetch: ${MSGS} × 20 KB (TLS)`, n1.secs, n1.count, n1.bytes);
  await ctx.close();

  // 2. One 10 MB message.
  const big = await fx.newUser();
  await fx.deliver(big, `large:${BIG}`, 1);
  ctx = await browser.newContext();
  page = await ctx.newPage();
  await page.goto(fx.appUrl);
  await setupAccount(page, fx, big, { policy: 'leave', test: false });
  const b = await appSync(page, 1, 600_000);
  const n2 = nativeFetch(fx, big, fx.pop3sPort, 'implicit');
  row('app: 1 × 10 MB (TLS)', b.secs, b.count, b.bytes, n2.secs);
  row('native fetch: 1 × 10 MB (TLS)', n2.secs, n2.count, n2.bytes);

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
  await page.getByRole('listitem').first().waitFor();
  const openSecs = (performance.now() - t0) / 1000;
  const rendered = await page.getByRole('listitem').count();
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
  rows.push({ what: `open list with ${LIST_N + 1} stored messages (reload → rows shown)`, seconds: openSecs.toFixed(2), 'msg/s': '', 'MB/s': '', '× native': '' });
  rows.push({ what: `scrolling: frame ms median/p95/max (${rendered} rows in DOM)`, seconds: `${scroll.median.toFixed(1)}/${scroll.p95.toFixed(1)}/${scroll.max.toFixed(1)}`, 'msg/s': '', 'MB/s': '', '× native': '' });
  await ctx.close();
} finally {
  await browser.close();
  await fx.close();
}

// 4. Bundle size.
const dist = join(ROOT, 'dist');
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
