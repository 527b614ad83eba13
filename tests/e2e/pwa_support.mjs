// Helpers shared by the PWA tests and the offline-start benchmark (not a test file itself).
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './fixture.mjs';

/** A private copy of dist/, so a test can change "the build" without touching others' runs. */
export function copyDist() {
  const dir = mkdtempSync(join(tmpdir(), 'postbag-dist-'));
  cpSync(join(ROOT, 'dist'), dir, { recursive: true });
  return dir;
}

/** Waits until a service worker controls the page and the shell cache is filled. */
export async function waitForWorker(page) {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, {
    timeout: 20000,
  });
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return { state: registration.active.state, scope: registration.scope };
  });
}

/** The names of the Cache Storage caches and the URLs each holds, as seen by the page. */
export function cacheContents(page) {
  return page.evaluate(async () => {
    const out = {};
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      out[name] = (await cache.keys()).map((r) => new URL(r.url).pathname);
    }
    return out;
  });
}

/** The build the controlling worker serves ({ hash, cache, files }). */
export async function workerBuild(page) {
  await page.waitForFunction(() => window.postbagPwa !== undefined, null, { timeout: 20000 });
  return page.evaluate(() => window.postbagPwa.build());
}

/** Width and height of a PNG, read from its IHDR chunk. */
export function pngSize(bytes) {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!bytes.subarray(0, 8).equals(signature)) throw new Error('not a PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}
