// Benchmark: full-text search at scale in the release build (docs/search-index.md).
//
//   node tests/e2e/bench_search.mjs                 (100,000 messages)
//   BENCH_SEARCH_N=20000 node tests/e2e/bench_search.mjs
//   BENCH_SEARCH_RUNS=11                            (runs per query, default 11)
//   POSTBAG_DIST=/tmp/dist POSTBAG_FIXTURE_BIN=...  (as the other benches)
//   BENCH_SEARCH_ONLY=ter,lant                      (only the queries whose text starts so)
//   BENCH_SEARCH_PROFILE=/tmp/s                     (a CPU profile of each query's last run,
//                                                    /tmp/s.<text>.cpuprofile, and its top
//                                                    functions by self time; names need a
//                                                    build with them: docs/toolchain.md)
//
// In a fresh persistent Chromium profile (IndexedDB on disk, as for a user), the page makes
// N varied messages (a Zipf-like vocabulary, English words, replies with quotes, HTML
// alternatives, quoted-printable and base64 bodies, German, French, Japanese and Chinese
// text, attachments; 300 senders) as one mbox File and hands it to Settings' "Import mail
// (mbox or .eml)": the app's own import stores it and queues it for the index, and the app's
// indexer indexes it in slices, exactly as for a user. Then, in the Imported folder:
//   - import and indexing: seconds, messages/s, MB/s of mail; the longest task the page ran
//     while indexing (PerformanceObserver 'longtask': how long input could wait);
//   - storage (navigator.storage.estimate, IndexedDB): mail stored, then index, and their
//     ratio; the index's block records (one per term per indexer slice);
//   - query latency: the search box's text set, then the time until the list shows the
//     answer (.msg-count changes, or the count of a large answer's best page, .search-more),
//     less the box's 120 ms debounce; median and p95 of
//     BENCH_SEARCH_RUNS runs, each after a search that finds nothing;
//   - the list: opening the Imported folder (N messages) from Inbox and back, and a reload.
// Planted words give known answer sizes: a rare word (0.1 %), a mid-frequency one (10 %), one
// in every message, two words (1.4 %), a prefix, a phrase, from:. Figures are printed as
// tables and one JSON line; nothing is asserted but the import's count and each answer's size.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixture } from './fixture.mjs';
import { topSelf, benchTab, makeMbox, installTimers, importMade } from './bench_mail.mjs';

const N = Number(process.env.BENCH_SEARCH_N || 100_000);
const RUNS = Number(process.env.BENCH_SEARCH_RUNS || 11);
const ONLY = process.env.BENCH_SEARCH_ONLY?.split(',');
const PROFILE = process.env.BENCH_SEARCH_PROFILE;
/** The search box waits this long after typing before it searches (model/search.rs). */
const DEBOUNCE_MS = 120;

/** Runs in the page: IndexedDB's share of the origin's storage, in bytes. */
async function idbUsage() {
  const e = await navigator.storage.estimate();
  return e.usageDetails?.indexedDB ?? e.usage;
}

/** Runs in the page: how many records `store` of the app's database holds. */
function countRecords(store) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('postbag');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const req = db.transaction(store).objectStore(store).count();
      req.onsuccess = () => { resolve(req.result); db.close(); };
      req.onerror = () => reject(req.error);
    };
  });
}

/**
 * Runs in the page: the bytes the index's records hold (each block's term, number and packed
 * list; each number's [account, uidl] both ways), walked in pages of 10,000. The storage
 * estimate lags LevelDB's compactions by minutes, so it can even shrink while the index
 * grows; this counts what is stored, before the engine's own overhead.
 */
async function indexPayload() {
  const open = await new Promise((resolve, reject) => {
    const req = indexedDB.open('postbag');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const walk = (store, size) => new Promise((resolve, reject) => {
    let bytes = 0;
    let n = 0;
    const req = open.transaction(store).objectStore(store).openCursor();
    req.onsuccess = () => {
      const c = req.result;
      if (!c) { resolve({ bytes, n }); return; }
      bytes += size(c.key, c.value);
      n += 1;
      c.continue();
    };
    req.onerror = () => reject(req.error);
  });
  const pair = (k) => k[0].length + k[1].length;
  const blocks = await walk('search_blocks', (k, v) => k[0].length + 4 + v.byteLength);
  const docs = await walk('search_docs', (k, v) => 4 + pair(v));
  const docOf = await walk('search_doc_of', (k) => pair(k) + 4);
  const mail = await walk('bodies', (k, v) => v.byteLength ?? v.size ?? 0);
  open.close();
  return { blocks: blocks.n, blockBytes: blocks.bytes, numberBytes: docs.bytes + docOf.bytes, mailBytes: mail.bytes };
}


const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const r0 = (x) => Math.round(x);
const mb = (b) => (b / 1e6).toFixed(1);
const secs = (ms) => (ms / 1000).toFixed(1);

const fx = await startFixture();
const profile = mkdtempSync(join(tmpdir(), 'postbag-bench-search-'));
const summary = { n: N, runs: RUNS };
try {
  const { context, page } = await benchTab(profile, fx);
  try {

    // 1. The mail, made in the page.
    let t = performance.now();
    const made = await page.evaluate(makeMbox, N);
    console.log(`made ${N} messages, ${mb(made.bytes)} MB, in ${secs(performance.now() - t)} s`);
    const usageEmpty = await page.evaluate(idbUsage);

    // 2. Imported through Settings, as a user imports an mbox file.
    const importMs = await importMade(page, N);
    // The mail's storage, read at once: the indexer starts as the import ends, so a few of its
    // slices may be counted here (the queue's length says how many messages they hold).
    const usageMail = await page.evaluate(idbUsage);
    const indexedAtMail = N - await page.evaluate(countRecords, 'search_queue');
    console.log(`imported in ${secs(importMs)} s`);

    // 3. Indexed by the app's indexer (it starts once the import's list is reloaded).
    await page.evaluate(installTimers);
    t = performance.now();
    let pending;
    let lastLog = 0;
    for (;;) {
      pending = await page.evaluate(countRecords, 'search_queue');
      if (pending === 0) break;
      if (performance.now() - lastLog > 30000) {
        lastLog = performance.now();
        console.log(`indexing: ${N - pending} of ${N} after ${secs(performance.now() - t)} s`);
      }
      // IndexedDB counts a store by walking its keys: asked rarely while the queue is long, so
      // the bench's own reads do not slow the indexer it measures.
      await page.waitForTimeout(pending > 2000 ? 5000 : 250);
    }
    const indexMs = performance.now() - t;
    const longTasks = await page.evaluate(() => window.__benchLongTasks);
    await page.waitForTimeout(3000); // let the last writes settle before sizes are read
    const usageAll = await page.evaluate(idbUsage);
    const payload = await page.evaluate(indexPayload);
    const blocks = payload.blocks;
    summary.import = { seconds: +secs(importMs), msgs_per_s: r0(N / (importMs / 1000)), mb_per_s: +(made.bytes / 1e6 / (importMs / 1000)).toFixed(2) };
    summary.index = {
      seconds: +secs(indexMs), msgs_per_s: r0(N / (indexMs / 1000)), mb_per_s: +(made.bytes / 1e6 / (indexMs / 1000)).toFixed(2),
      longest_task_ms: r0(Math.max(0, ...longTasks)), long_tasks: longTasks.length,
    };
    summary.storage = {
      mbox_mb: +mb(made.bytes), mail_mb: +mb(usageMail - usageEmpty), indexed_when_mail_measured: indexedAtMail,
      index_mb: +mb(usageAll - usageMail), index_to_mail: +((usageAll - usageMail) / (usageMail - usageEmpty)).toFixed(2),
      blocks, blocks_per_msg: +(blocks / N).toFixed(1),
      payload_mail_mb: +mb(payload.mailBytes), payload_index_mb: +mb(payload.blockBytes + payload.numberBytes),
      payload_blocks_mb: +mb(payload.blockBytes),
      payload_index_to_mail: +((payload.blockBytes + payload.numberBytes) / payload.mailBytes).toFixed(3),
    };
    console.log(`indexed in ${secs(indexMs)} s`, summary.index, summary.storage);

    // 4. The list: a reload (the app's start with N messages stored), the Imported folder
    // opened from Inbox, Inbox again, Imported again.
    const list = {};
    t = performance.now();
    await page.reload();
    await page.evaluate(installTimers);
    await page.waitForFunction(() => window.__benchTab('Imported'), null, { timeout: 600000, polling: 10 });
    list.reload_until_imported_tab_ms = r0(performance.now() - t);
    list.open_imported_ms = r0(await page.evaluate(({ n }) => window.__benchUntil(
      '() => window.__benchTab("Imported").click()', `() => window.__benchCount() === ${n}`), { n: N }));
    list.back_to_inbox_ms = r0(await page.evaluate(() => window.__benchUntil(
      '() => window.__benchTab("Inbox").click()', '() => window.__benchCount() === 0')));
    list.imported_again_ms = r0(await page.evaluate(({ n }) => window.__benchUntil(
      '() => window.__benchTab("Imported").click()', `() => window.__benchCount() === ${n}`), { n: N }));
    summary.list = list;
    console.log(list);

    // 5. Queries, in the Imported folder's list of N.
    const c = made.counts;
    const queries = [
      ['rare word', 'zephyrine ', c.zephyrine],
      ['mid-frequency word', 'marzipan ', c.marzipan],
      ['every-message word', 'regards ', c.regards],
      ['two words', 'marzipan lantern ', c.both],
      ['prefix (being typed)', 'lant', c.lantern],
      ['short prefix (3 letters)', 'ter', null],
      ['phrase', '"marzipan forecast"', c.phrase],
      ['from:', `from:${made.fromFirst.toLowerCase()} `, c.fromFirst],
    ];
    const rows = [];
    const cdp = PROFILE ? await context.newCDPSession(page) : null;
    for (const [what, text, expected] of queries.filter(([, text]) => !ONLY || ONLY.some((o) => text.startsWith(o)))) {
      const times = [];
      let hits;
      for (let run = 0; run < RUNS; run++) {
        // From an answer of nothing, so the count line changes when this answer shows.
        await page.evaluate(() => window.__benchUntil('() => window.__benchSearch("qqqqqnothing ")', '() => window.__benchCount() === 0'));
        await page.waitForTimeout(300);
        const profiled = cdp && run === RUNS - 1;
        if (profiled) {
          await cdp.send('Profiler.enable');
          await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
          await cdp.send('Profiler.start');
        }
        const ms = await page.evaluate((text) => window.__benchUntil(
          `() => window.__benchSearch(${JSON.stringify(text)})`, '() => window.__benchCount() !== 0'), text);
        if (profiled) {
          const { profile: cpu } = await cdp.send('Profiler.stop');
          const file = `${PROFILE}.${text.trim().replace(/[^a-z0-9]+/gi, '_')}.cpuprofile`;
          writeFileSync(file, JSON.stringify(cpu));
          console.log(`CPU profile of ${JSON.stringify(text)}: ${file}\n${topSelf(cpu, 15).join('\n')}`);
        }
        hits = await page.evaluate(() => window.__benchCount());
        times.push(ms - DEBOUNCE_MS);
      }
      // Every run, in order: a median hides which run was slow (the first of a tab, or one).
      console.log(`${what}: runs ms ${times.map(r0).join(' ')}`);
      const cut = await page.locator('.search-problem').count() > 0;
      if (expected !== null && hits !== expected && !cut) {
        // Wrong answers are a failure, told at the end: the figures of a long run are kept.
        console.error(`WRONG ANSWER: ${what}: ${hits} found, ${expected} hold it`);
        process.exitCode = 1;
      }
      rows.push({ query: what, text, hits: `${hits}${cut ? ' (cut)' : ''}`, holders: expected ?? '', median_ms: r0(pct(times, 50)), p95_ms: r0(pct(times, 95)) });
      console.log(rows.at(-1));
    }
    summary.queries = Object.fromEntries(rows.map((r) => [r.query, { hits: r.hits, median_ms: r.median_ms, p95_ms: r.p95_ms }]));

    console.log(`\n${N} messages, ${mb(made.bytes)} MB of mbox`);
    console.table([
      { step: 'import (store, queue)', seconds: summary.import.seconds, 'msg/s': summary.import.msgs_per_s, 'MB/s': summary.import.mb_per_s },
      { step: 'index', seconds: summary.index.seconds, 'msg/s': summary.index.msgs_per_s, 'MB/s': summary.index.mb_per_s },
    ]);
    console.log(`longest task while indexing: ${summary.index.longest_task_ms} ms (${summary.index.long_tasks} tasks over 50 ms)`);
    console.log(`IndexedDB: mail ${summary.storage.mail_mb} MB (${indexedAtMail} indexed then), index ${summary.storage.index_mb} MB `
      + `(${summary.storage.index_to_mail}x the mail), for ${summary.storage.mbox_mb} MB of mbox; ${blocks} block records (${summary.storage.blocks_per_msg} per message)`);
    console.log(`stored bytes: mail ${summary.storage.payload_mail_mb} MB, index ${summary.storage.payload_index_mb} MB `
      + `(blocks ${summary.storage.payload_blocks_mb} MB): ${summary.storage.payload_index_to_mail}x the mail`);
    console.table(rows);
    console.table([list]);
  } finally {
    await context.close();
  }
  // The profile's IndexedDB directory as it stands on disk (LevelDB, before any compaction).
  summary.storage.profile_idb_mb = +mb(Number(execFileSync('du', ['-sb', join(profile, 'Default', 'IndexedDB')]).toString().split('\t')[0]));
  console.log(`IndexedDB directory on disk: ${summary.storage.profile_idb_mb} MB`);
} finally {
  await fx.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`load average: ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} cores`);
console.log(JSON.stringify(summary));
