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

