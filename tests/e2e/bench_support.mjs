// Helpers the benches share: memory of the browser's processes, read from /proc.
import { readdirSync, readFileSync } from 'node:fs';

/** RSS in bytes of `pid`, 0 once it is gone. */
export function rss(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) * 1024 : 0;
  } catch { return 0; }
}

/** The browser process started with `profile`, and its renderer descendants. */
export function processes(profile) {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map((pid) => {
    try {
      // A zygote-forked process rewrites its argv into one string: match on the joined line.
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      return { pid: Number(pid), ppid, cmd };
    } catch { return null; }
  }).filter(Boolean);
  const browser = all.find((p) => !p.cmd.includes('--type=') && p.cmd.includes(profile));
  const descendants = new Set([browser.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) if (!descendants.has(p.pid) && descendants.has(p.ppid)) { descendants.add(p.pid); grew = true; }
  }
  const renderers = all.filter((p) => descendants.has(p.pid) && /--type=renderer(?! --top-chrome-webui)/.test(p.cmd)).map((p) => p.pid);
  return { browser: browser.pid, renderers };
}


/**
 * A TCP relay on 127.0.0.1 that holds every chunk `delayMs` in each direction before passing
 * it on (a path with a round trip of twice that), run in a worker thread so the bench's own
 * event loop does not slow it. It listens at once; `target(port)` says where to connect.
 * Chunks keep their order (timers of equal delay fire in order) and nothing is bounded: a
 * bench tool, not a network emulator.
 */
export async function startDelayRelay(delayMs) {
  const { Worker } = await import('node:worker_threads');
  const code = `
    const net = require('node:net');
    const { parentPort, workerData } = require('node:worker_threads');
    let target = 0;
    const delayed = (from, to) => from.on('data', (b) => setTimeout(() => to.write(b), workerData));
    const server = net.createServer({ noDelay: true }, (client) => {
      const up = net.connect({ host: '127.0.0.1', port: target, noDelay: true });
      delayed(client, up);
      delayed(up, client);
      const end = () => setTimeout(() => { client.destroy(); up.destroy(); }, workerData);
      client.on('close', end); up.on('close', end);
      client.on('error', end); up.on('error', end);
    });
    server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
    parentPort.on('message', (m) => { if (m === 'close') { server.close(); process.exit(0); } else target = m; });
  `;
  const worker = new Worker(code, { eval: true, workerData: delayMs });
  const port = await new Promise((resolve) => worker.once('message', resolve));
  return {
    port,
    target: (p) => worker.postMessage(p),
    close: () => worker.postMessage('close'),
  };
}
