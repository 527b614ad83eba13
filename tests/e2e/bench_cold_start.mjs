// Benchmark: the app's start, from navigation to the first screen a user can use, with and
// without the browser's compiled-code cache, and with the CPU throttled 4x (CDP
// Emulation.setCPUThrottlingRate) as a mid-range phone would be.
//
//   node tests/e2e/bench_cold_start.mjs            (5 runs per case)
//   BENCH_RUNS=3 node tests/e2e/bench_cold_start.mjs
//   POSTBAG_DIST=/tmp/dist POSTBAG_FIXTURE_BIN=target/release/fixture   (as the other benches)
//
// Cases (each run is a new Chromium process, so nothing compiled stays in memory):
//   fresh - a new, empty profile each run: the first visit. Every file comes from the proxy
//           (brotli), the wasm is compiled from scratch (no code cache), no service worker.
//   warm  - one profile visited twice before the runs: the service worker serves the files and
//           V8's code cache holds the compiled wasm and JS.
// Figures, in ms from navigation start (performance.timeOrigin):
//   fcp     - first contentful paint (the browser's paint timing entry),
//   mounted - the app's root element exists (wasm fetched, compiled, instantiated, rendered),
//   frame   - the next animation frame after that: the setup screen is on screen and takes
//             input (the aim: under one second),
//   wasm    - the wasm's responseEnd (its bytes are here).
// Prints a table per case and one JSON line; nothing is asserted.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startFixture, CHROMIUM_ARGS, CHROMIUM_PATH } from './fixture.mjs';

const RUNS = Number(process.env.BENCH_RUNS || 5);

// Runs in the page before its scripts: notes when the app's root appears, then the frame after.
function watchForApp() {
  const observer = new MutationObserver(() => {
    if (window.__benchMounted === undefined && document.querySelector('.app')) {
      window.__benchMounted = performance.now();
      observer.disconnect();
      requestAnimationFrame(() => {
        window.__benchFrame = performance.now();
      });
    }
  });
  observer.observe(document, { subtree: true, childList: true });
}

async function measure(fx, profile, throttle) {
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    await context.addInitScript(watchForApp);
    const page = context.pages()[0] ?? (await context.newPage());
    if (throttle > 1) {
      const cdp = await context.newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
    }
    await page.goto(fx.appUrl, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__benchFrame !== undefined, null, { timeout: 60000, polling: 10 });
    // The paint entry is queued a little after the frame that painted.
    await page
      .waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0, null, { timeout: 5000, polling: 20 })
      .catch(() => {});
    const r = await page.evaluate(() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
      mounted: window.__benchMounted,
      frame: window.__benchFrame,
      wasm: performance.getEntriesByType('resource').find((e) => e.name.endsWith('.wasm'))?.responseEnd ?? NaN,
      sw: Boolean(navigator.serviceWorker?.controller),
    }));
    // Let the service worker finish installing and the code cache be written (warm priming).
    await page.waitForTimeout(1500);
    return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v) : v]));
  } finally {
    await context.close();
  }
}

const median = (xs) => {
  const ok = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return ok.length ? ok[Math.floor(ok.length / 2)] : null;
};
const fx = await startFixture();
const summary = { runs: RUNS };
try {
  for (const throttle of [1, 4]) {
    for (const mode of ['fresh', 'warm']) {
      const runs = [];
      let profile = mkdtempSync(join(tmpdir(), 'postbag-bench-cold-'));
      if (mode === 'warm') {
        for (let i = 0; i < 2; i++) await measure(fx, profile, 1);
      }
      for (let i = 0; i < RUNS; i++) {
        if (mode === 'fresh' && i > 0) {
          rmSync(profile, { recursive: true, force: true });
          profile = mkdtempSync(join(tmpdir(), 'postbag-bench-cold-'));
        }
        runs.push(await measure(fx, profile, throttle));
      }
      rmSync(profile, { recursive: true, force: true });
      const name = `${mode}${throttle > 1 ? `, CPU ${throttle}x slower` : ''}`;
      console.log(`\n${name} (ms from navigation start)`);
      console.table(runs);
      const key = `${mode}_cpu${throttle}x`;
      summary[key] = Object.fromEntries(['fcp', 'mounted', 'frame', 'wasm'].map((k) => [`${k}_median_ms`, median(runs.map((r) => r[k]))]));
    }
  }
} finally {
  await fx.close();
}
console.log(`load average: ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} cores`);
console.log(JSON.stringify(summary));
