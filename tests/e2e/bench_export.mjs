// Benchmark: mbox export throughput of the web app, and the memory it takes, for archives
// seeded straight into IndexedDB (10,000 messages of 20 kB; 1,000 messages of 1 MB).
//
//   node tests/e2e/bench_export.mjs      (needs dist/ and target/debug/fixture, like the tests)
//   BENCH_EXPORT_SETS="10000x20000,1000x1000000"   (messages x bytes per message)
//   BENCH_EXPORT_SINKS="file,stream,blobs"         (which sinks, default all three)
//
// Each set is exported once per sink, each time from a fresh browser: `file`, the File System
// Access writable stream (headless Chromium cannot answer the real picker, so a stand-in
// answers with a file of the origin's private file system, which has the same stream);
// `stream`, the download streamed through the service worker (no picker); `blobs`, the last
// resort (no picker, service workers blocked). Memory is sampled every 100 ms from /proc: the
// renderers (the tab, and the service worker, which runs in the tab's process or its own) and
// the browser process (which holds the download's Blobs), as RSS before the export and its
// peak. Figures are printed as a table; nothing is asserted except that each export completed.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startFixture, CHROMIUM_ARGS, CHROMIUM_PATH } from './fixture.mjs';
import { setupAccount } from './app_support.mjs';
import { processes, rss } from './bench_support.mjs';

const SETS = (process.env.BENCH_EXPORT_SETS || '10000x20000,1000x1000000')
  .split(',').map((s) => s.split('x').map(Number));

const mb = (b) => (b / 1e6).toFixed(0);
const rows = [];
const fx = await startFixture();
const noPicker = () => { delete window.showSaveFilePicker; };
const SINKS = {
  file: {
    picker: () => {
      window.showSaveFilePicker = async () =>
        (await navigator.storage.getDirectory()).getFileHandle('export.mbox', { create: true });
    },
  },
  stream: { picker: noPicker, download: true },
  blobs: { picker: noPicker, download: true, serviceWorkers: 'block' },
};
const chosen = (process.env.BENCH_EXPORT_SINKS || Object.keys(SINKS).join(',')).split(',');
try {
  for (const [n, size] of SETS) for (const sink of chosen) {
  const { picker, download: asDownload, serviceWorkers = 'allow' } = SINKS[sink];
  const profile = mkdtempSync(join(tmpdir(), 'postbag-bench-export-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, acceptDownloads: true, serviceWorkers,
  });
  try {
    const user = await fx.newUser();
    const page = await context.newPage();
    await page.addInitScript(picker);
    await page.goto(fx.appUrl);
    await setupAccount(page, fx, user, { policy: 'leave', test: false });
    const account = `${user.name}@example.org`;
    // Seeding in transactions of 100 messages; each body is distinct text with a `From ` line.
    await page.evaluate(({ account, n, size }) => new Promise((res, rej) => {
      const o = indexedDB.open('postbag');
      o.onsuccess = async () => {
        const db = o.result;
        const filler = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n';
        const body = filler.repeat(Math.ceil(size / filler.length));
        const enc = new TextEncoder();
        for (let start = 0; start < n; start += 100) {
          await new Promise((done, fail) => {
            const tx = db.transaction(['summaries', 'bodies'], 'readwrite');
            for (let i = start; i < Math.min(n, start + 100); i++) {
              const head = `From: Sender ${i} <s${i}@example.org>\r\nSubject: Seeded ${i}\r\nMessage-ID: <${i}@seed>\r\n\r\nFrom the seed, message ${i}.\r\n`;
              const raw = enc.encode(head + body.slice(0, Math.max(0, size - head.length)));
              tx.objectStore('bodies').put(raw, [account, `seed-${String(i).padStart(6, '0')}`]);
              tx.objectStore('summaries').put({ account, uidl: `seed-${String(i).padStart(6, '0')}`, from: `Sender ${i}`, to: 'me',
                subject: `Seeded ${i}`, date: 1.7e12 + i * 60000, size: raw.length, has_attachments: false,
                snippet: 'From the seed', read: false, flagged: false });
            }
            tx.oncomplete = done; tx.onerror = () => fail(tx.error);
          });
        }
        db.close();
        res();
      };
      o.onerror = () => rej(o.error);
    }), { account, n, size });
    await page.reload();
    const controlled = await page.evaluate(async () => {
      if (!navigator.serviceWorker) return false;
      // The worker takes over the page it was registered from; wait for it a little.
      for (let i = 0; i < 100 && !navigator.serviceWorker.controller; i++) await new Promise((r) => setTimeout(r, 100));
      return Boolean(navigator.serviceWorker.controller);
    });
    if (controlled !== (serviceWorkers === 'allow')) throw new Error(`${sink}: service worker controls the page: ${controlled}`);
    await page.getByRole('button', { name: 'Settings' }).click();
    const procs = processes(profile);
    const tabBefore = procs.renderers.reduce((s, p) => s + rss(p), 0);
    const browserBefore = rss(procs.browser);
    let tabPeak = tabBefore;
    let browserPeak = browserBefore;
    const sampler = setInterval(() => {
      tabPeak = Math.max(tabPeak, procs.renderers.reduce((s, p) => s + rss(p), 0));
      browserPeak = Math.max(browserPeak, rss(procs.browser));
    }, 100);
    const t0 = performance.now();
    let bytes;
    if (asDownload) {
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: 1_800_000 }),
        page.getByRole('button', { name: 'Export all mail (mbox)' }).click(),
      ]);
      const out = join(profile, `export-${n}.mbox`);
      await download.saveAs(out);
      const streamed = /\/__download\/[0-9a-f]{32}$/.test(download.url());
      if (streamed !== (sink === 'stream')) throw new Error(`${sink}: downloaded from ${download.url()}`);
      bytes = statSync(out).size;
      rmSync(out);
    } else {
      await page.getByRole('button', { name: 'Export all mail (mbox)' }).click();
      await page.getByRole('status', { name: 'Export status' }).getByText(/^Exported/).waitFor({ timeout: 1_800_000 });
      bytes = await page.evaluate(async () =>
        (await (await (await navigator.storage.getDirectory()).getFileHandle('export.mbox')).getFile()).size);
    }
    const secs = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const status = await page.getByRole('status', { name: 'Export status' }).textContent();
    if (!status.includes(`Exported ${n} messages`)) throw new Error(`export of ${n}: ${status}`);
    rows.push({
      archive: `${n} × ${size} B = ${mb(bytes)} MB`,
      sink,
      seconds: secs.toFixed(1),
      'msg/s': (n / secs).toFixed(0),
      'MB/s': (bytes / 1e6 / secs).toFixed(1),
      'tab RSS MB (before → peak)': `${mb(tabBefore)} → ${mb(tabPeak)}`,
      'browser RSS MB (before → peak)': `${mb(browserBefore)} → ${mb(browserPeak)}`,
    });
    console.log(rows.at(-1));
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
  }
} finally {
  await fx.close();
}
console.table(rows);
