// Benchmark: backup and restore throughput of the web app, and the tab's memory, for a store
// seeded straight into IndexedDB (by default 2,000 messages of 100 kB: about 200 MB).
//
//   node tests/e2e/bench_backup.mjs      (needs dist/ and target/debug/fixture, like the tests)
//   BENCH_BACKUP_SET=2000x100000         (messages x bytes per message)
//
// "Back up everything" goes through the download fallback (Blobs; the file is saved to disk),
// timed from the click to "Backed up …"; "Restore from a backup…" picks that file in a fresh
// browser profile, timed from the pick to "Restored …" (both passes: the check of the whole
// file, then the writes). Memory is sampled every 100 ms from /proc: the tab's renderer, as RSS
// before and its peak. Figures are printed as a table; nothing is asserted except that each
// step completed with the expected count.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startFixture, CHROMIUM_ARGS, CHROMIUM_PATH } from './fixture.mjs';
import { setupAccount } from './app_support.mjs';
import { processes, rss } from './bench_support.mjs';

const [N, SIZE] = (process.env.BENCH_BACKUP_SET || '2000x100000').split('x').map(Number);
const mb = (b) => (b / 1e6).toFixed(0);
const rows = [];
const fx = await startFixture();
const dir = mkdtempSync(join(tmpdir(), 'postbag-bench-backup-'));

/** A persistent browser (so /proc shows its processes by profile) without the save picker. */
async function browser() {
  const profile = mkdtempSync(join(dir, 'profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, acceptDownloads: true,
  });
  const page = await context.newPage();
  await page.addInitScript(() => { delete window.showSaveFilePicker; });
  await page.goto(fx.appUrl);
  return { profile, context, page };
}

/** Runs `step` while sampling the tab's memory; returns seconds and RSS before and at peak. */
async function measured(profile, step) {
  const procs = processes(profile);
  const tab = () => procs.renderers.reduce((s, p) => s + rss(p), 0);
  const before = tab();
  let peak = before;
  const sampler = setInterval(() => { peak = Math.max(peak, tab()); }, 100);
  const t0 = performance.now();
  try {
    await step();
  } finally {
    clearInterval(sampler);
  }
  return { seconds: (performance.now() - t0) / 1000, before, peak };
}

function row(step, bytes, m) {
  rows.push({
    step,
    file: `${N} × ${SIZE} B → ${mb(bytes)} MB`,
    seconds: m.seconds.toFixed(1),
    'MB/s': (bytes / 1e6 / m.seconds).toFixed(1),
    'msg/s': (N / m.seconds).toFixed(0),
    'tab RSS MB (before → peak)': `${mb(m.before)} → ${mb(m.peak)}`,
  });
  console.log(rows.at(-1));
}

try {
  const from = await browser();
  const user = await fx.newUser();
  await setupAccount(from.page, fx, user, { policy: 'leave', test: false });
  const account = `${user.name}@example.org`;
  // Seeded in transactions of 100 messages, each with its ledger line, as a sync stores them.
  await from.page.evaluate(({ account, n, size }) => new Promise((res, rej) => {
    const o = indexedDB.open('postbag');
    o.onsuccess = async () => {
      const db = o.result;
      const filler = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n';
      const body = filler.repeat(Math.ceil(size / filler.length));
      const enc = new TextEncoder();
      for (let start = 0; start < n; start += 100) {
        await new Promise((done, fail) => {
          const tx = db.transaction(['summaries', 'bodies', 'ledger'], 'readwrite');
          for (let i = start; i < Math.min(n, start + 100); i++) {
            const uidl = `seed-${String(i).padStart(6, '0')}`;
            const head = `From: Sender ${i} <s${i}@example.org>\r\nSubject: Seeded ${i}\r\nMessage-ID: <${i}@seed>\r\n\r\n`;
            const raw = enc.encode(head + body.slice(0, Math.max(0, size - head.length)));
            tx.objectStore('bodies').put(raw, [account, uidl]);
            tx.objectStore('summaries').put({ account, uidl, from: `Sender ${i}`, to: 'me',
              subject: `Seeded ${i}`, date: 1.7e12 + i * 60000, size: raw.length, has_attachments: false,
              snippet: 'seed', read: false, flagged: false });
            tx.objectStore('ledger').put({ account, uidl, first_seen: 1.7e12, on_server: true,
              size: raw.length, gone_since: null, deleted: false, identity: `<${i}@seed>` });
          }
          tx.oncomplete = done; tx.onerror = () => fail(tx.error);
        });
      }
      db.close();
      res();
    };
    o.onerror = () => rej(o.error);
  }), { account, n: N, size: SIZE });
  await from.page.reload();
  await from.page.getByRole('button', { name: 'Settings' }).click();
  const path = join(dir, 'bench.postbag');
  const backedUp = await measured(from.profile, async () => {
    const [download] = await Promise.all([
      from.page.waitForEvent('download', { timeout: 1_800_000 }),
      from.page.getByRole('button', { name: 'Back up everything' }).click(),
    ]);
    await from.page.getByRole('status', { name: 'Backup status' })
      .getByText(`Backed up ${N} messages`).waitFor({ timeout: 1_800_000 });
    await download.saveAs(path);
  });
  const bytes = statSync(path).size;
  row('back up (download)', bytes, backedUp);
  await from.context.close();

  const to = await browser();
  await to.page.getByRole('region', { name: 'Restore' }).waitFor();
  const restored = await measured(to.profile, async () => {
    await to.page.getByLabel('Restore from a backup…').setInputFiles(path);
    await to.page.getByRole('status', { name: 'Backup status' })
      .getByText(`Restored ${N} messages`).waitFor({ timeout: 1_800_000 });
  });
  row('restore (check + write)', bytes, restored);
  await to.context.close();
} finally {
  await fx.close();
  rmSync(dir, { recursive: true, force: true });
}
console.table(rows);
