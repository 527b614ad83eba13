// Benchmark: how fast Chromium's own WebSocket receives a large message through the proxy,
// without the app: a floor for the app's sync of one large message (bench_sync.mjs).
//
//   node tests/e2e/bench_ws_raw.mjs            (one 10 MB message, 3 runs)
//   BENCH_BYTES=1000000 BENCH_RUNS=5 node tests/e2e/bench_ws_raw.mjs
//
// A page served by the proxy opens a tunnel to Dovecot (implicit TLS, the proxy verifying with
// the fixture's CA), sends USER, PASS and RETR 1 in one write after the greeting, and counts
// binary messages and bytes until the reply's terminating line. Nothing is parsed or stored.

import { startFixture, launchBrowser } from './fixture.mjs';

const BYTES = Number(process.env.BENCH_BYTES || 10 * 1024 * 1024);
const RUNS = Number(process.env.BENCH_RUNS || 3);

const fx = await startFixture();
const browser = await launchBrowser();
try {
  const user = await fx.newUser();
  await fx.deliver(user, `large:${BYTES}`, 1);
  const page = await (await browser.newContext()).newPage();
  await page.goto(fx.appUrl);
  const rows = [];
  for (let i = 0; i < RUNS; i++) {
    rows.push(await page.evaluate(({ port, name, pw, bytes }) => new Promise((resolve, reject) => {
      const ws = new WebSocket(`${location.origin.replace('http', 'ws')}/tunnel`, ['postbag.v1']);
      ws.binaryType = 'arraybuffer';
      let total = 0, messages = 0, t0 = 0, greeted = false, tail = '';
      ws.onopen = () => ws.send(JSON.stringify({ type: 'open', version: 1, host: '127.0.0.1', port, tls: 'implicit' }));
      ws.onmessage = (e) => {
        if (typeof e.data === 'string') return; // connected
        const chunk = new Uint8Array(e.data);
        if (!greeted) {
          greeted = true;
          t0 = performance.now();
          ws.send(new TextEncoder().encode(`USER ${name}\r\nPASS ${pw}\r\nRETR 1\r\n`));
          return;
        }
        total += chunk.length;
        messages++;
        tail = (tail + new TextDecoder('latin1').decode(chunk.subarray(-8))).slice(-8);
        if (total > bytes && tail.endsWith('\r\n.\r\n')) {
          const secs = (performance.now() - t0) / 1000;
          ws.close();
          resolve({ secs: secs.toFixed(2), MB_per_s: (total / 1e6 / secs).toFixed(1), messages, avg_KB: (total / messages / 1024).toFixed(1) });
        }
      };
      ws.onerror = () => reject(new Error('WebSocket error'));
    }), { port: fx.pop3sPort, name: user.name, pw: user.password, bytes: BYTES }));
  }
  console.log(`Chromium WebSocket, RETR of one ${(BYTES / 1e6).toFixed(1)} MB message through the proxy (TLS upstream)`);
  console.table(rows);
} finally {
  await browser.close();
  await fx.close();
}
