// Benchmark: the message list at scale in the release build (issue 16: "opening the unified
// list and switching folders with 100,000 messages").
//
//   node tests/e2e/bench_list.mjs                    (100,000 messages)
//   BENCH_LIST_N=20000 node tests/e2e/bench_list.mjs
//   BENCH_LIST_ROUNDS=5                              (rounds of the list steps, default 5)
//   BENCH_LIST_PROFILE=/tmp/list                     (CPU profiles of the first round's steps, in
//                                                    /tmp/list.<step>.cpuprofile; the functions
//                                                    taking most time are printed)
//   POSTBAG_DIST=/tmp/dist POSTBAG_FIXTURE_BIN=...   (as the other benches)
//
// The same N messages as bench_search (bench_mail.mjs) are imported through Settings' "Import
// mail" into a fresh persistent Chromium profile, with the full-text indexer off
// (`window.postbagBenchNoIndexer`), so only the list is measured. Then, in rounds, medians:
//   - start: a reload until the folder tabs show, and until the Imported folder's first rows
//     show and its N are listed when it is opened first thing;
//   - switch: Imported (N) to Inbox (empty) and back (first rows, all listed);
//   - open: a message of the Imported list opened (its reader shown) from the list, and beside
//     it the time IndexedDB alone takes to give its bytes;
//   - flag: that message flagged or unflagged with `s` (one summary of N changes).
// Nothing is asserted but the import's count and the list's count.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixture } from './fixture.mjs';
import { topSelf, benchTab, makeMbox, installTimers, importMade } from './bench_mail.mjs';

const N = Number(process.env.BENCH_LIST_N || 100_000);
const ROUNDS = Number(process.env.BENCH_LIST_ROUNDS || 5);
const PROFILE = process.env.BENCH_LIST_PROFILE;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};
const r0 = (x) => Math.round(x);
const secs = (ms) => (ms / 1000).toFixed(1);

/**
 * Runs in the page: clicks the Imported tab and resolves with the milliseconds until its first
 * rows show (`first`) and until all `n` are listed (`all`), judged at every change of the page
 * and every 10 ms.
 */
function openImported(n) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let first = null;
    const check = () => {
      const now = performance.now() - t0;
      if (first === null && document.querySelector('.msg-row')) first = now;
      if (window.__benchCount() !== n) return;
      observer.disconnect();
      clearInterval(poll);
      resolve({ first: first ?? now, all: now });
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
    const poll = setInterval(check, 10);
    window.__benchTab('Imported').click();
  });
}

/**
 * Runs in the page: the milliseconds IndexedDB takes to give the bytes of the list's third
 * row (not the one the bench opens), read straight from the app's database: the store's share
 * of opening a message.
 */
async function rawRead() {
  const [account, uidl] = document.querySelectorAll('.msg-row')[2].dataset.key.split('\u001f');
  const db = await new Promise((resolve, reject) => {
    const req = indexedDB.open('postbag');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const t0 = performance.now();
  const bytes = await new Promise((resolve, reject) => {
    const req = db.transaction('bodies').objectStore('bodies').get([account, uidl]);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const ms = performance.now() - t0;
  db.close();
  if (!bytes) throw new Error('no bytes stored for the row');
  return ms;
}

const fx = await startFixture();
const dir = mkdtempSync(join(tmpdir(), 'postbag-bench-list-'));
const summary = { n: N, rounds: ROUNDS, load: loadavg()[0].toFixed(1) };
try {
  const { context, page } = await benchTab(dir, fx, () => { window.postbagBenchNoIndexer = true; });
  try {

    let t = performance.now();
    const made = await page.evaluate(makeMbox, N);
    console.log(`made ${N} messages, ${(made.bytes / 1e6).toFixed(1)} MB, in ${secs(performance.now() - t)} s`);
    const importMs = await importMade(page, N);
    console.log(`imported in ${secs(importMs)} s`);

    const steps = { start_tabs_ms: [], start_first_rows_ms: [], start_imported_ms: [], to_inbox_ms: [], to_first_rows_ms: [], to_imported_ms: [], raw_read_ms: [], open_message_ms: [], flag_ms: [] };
    const cdp = PROFILE ? await context.newCDPSession(page) : null;
    // One step timed in the page; in the first round, with BENCH_LIST_PROFILE, also profiled.
    const step = async (round, name, fn, arg) => {
      const profiled = cdp && round === 0;
      if (profiled) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
        await cdp.send('Profiler.start');
      }
      const ms = await page.evaluate(fn, arg);
      if (profiled) {
        const { profile } = await cdp.send('Profiler.stop');
        const file = `${PROFILE}.${name}.cpuprofile`;
        writeFileSync(file, JSON.stringify(profile));
        console.log(`CPU profile of ${name}: ${file}\n${topSelf(profile, 12).join('\n')}`);
      }
      return ms;
    };
    for (let round = 0; round < ROUNDS; round += 1) {
      // Start: the app shows the folder last shown; Inbox is shown before each reload.
      t = performance.now();
      await page.reload();
      await page.evaluate(installTimers);
      await page.waitForFunction(() => window.__benchTab('Imported'), null, { timeout: 600000, polling: 10 });
      steps.start_tabs_ms.push(performance.now() - t);
      const first = await step(round, 'first-open', openImported, N);
      steps.start_first_rows_ms.push(steps.start_tabs_ms.at(-1) + first.first);
      steps.start_imported_ms.push(steps.start_tabs_ms.at(-1) + first.all);
      steps.to_inbox_ms.push(await step(round, 'to-inbox', () => window.__benchUntil(
        '() => window.__benchTab("Inbox").click()', '() => window.__benchCount() === 0')));
      const again = await step(round, 'to-imported', openImported, N);
      steps.to_first_rows_ms.push(again.first);
      steps.to_imported_ms.push(again.all);
      // A message opened from the list, then flagged or unflagged with `s` (one summary of N
      // changes: the list follows).
      await page.waitForFunction(() => document.querySelectorAll('.msg-row').length > 1, null, { timeout: 600000 });
      steps.open_message_ms.push(await step(round, 'open-message', () => window.__benchUntil(
        '() => document.querySelectorAll(".msg-row")[1].click()',
        '() => document.querySelector("article.reader") !== null')));
      steps.flag_ms.push(await step(round, 'flag', () => {
        window.__benchFlagged = document.querySelectorAll('.msg-row.flagged').length;
        return window.__benchUntil(
          '() => window.dispatchEvent(new KeyboardEvent("keydown", { key: "s", bubbles: true }))',
          '() => document.querySelectorAll(".msg-row.flagged").length !== window.__benchFlagged');
      }));
      steps.raw_read_ms.push(await page.evaluate(rawRead));
      await page.evaluate(() => window.__benchUntil('() => window.__benchTab("Inbox").click()', '() => window.__benchCount() === 0'));
      console.log(`round ${round + 1}:`, Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, r0(v.at(-1))])));
    }
    summary.medians = Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, r0(median(v))]));
    console.table(summary.medians);
    console.log(JSON.stringify(summary));
  } finally {
    await context.close();
  }
} finally {
  await fx.close();
  rmSync(dir, { recursive: true, force: true });
}
