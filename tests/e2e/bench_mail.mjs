// What the search and list benches share: the app in a persistent Chromium profile with an
// account set up, and, run in the page, a deterministic mbox of N varied messages (the mail
// both measure), its import through Settings, and timers that wait for the list to change.

import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './fixture.mjs';
import { setupAccount } from './app_support.mjs';

/**
 * The app in a persistent Chromium profile at `dir` (IndexedDB on disk, as for a user), with
 * `init` run in the page before the app starts (if given) and an account of a new user set up.
 * Returns the context (the caller closes it) and the page.
 */
export async function benchTab(dir, fx, init) {
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 },
  });
  try {
    if (init) await context.addInitScript(init);
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(fx.appUrl);
    await setupAccount(page, fx, await fx.newUser(), { policy: 'leave', test: false });
    return { context, page };
  } catch (e) {
    await context.close();
    throw e;
  }
}

/**
 * Runs in the page: N messages as one mbox File (kept on `window.__benchMbox`), built in
 * Blob parts of about 4 MB so the text never sits whole in the JS heap. Deterministic (a
 * seeded generator). Returns the file's size and how many messages hold each planted word.
 */
export function makeMbox(n) {
  let seed = 0x5eed;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const between = (a, b) => a + Math.floor(rand() * (b - a + 1));
  // A made-up vocabulary of 30,000 words from syllables (none has a z, y or ph, so the planted
  // words below occur only where planted), drawn log-uniformly: a Zipf-like spread.
  const syll = ['ka', 'lo', 'mi', 'ter', 'son', 'vel', 'da', 'ri', 'un', 'pe', 'bor', 'lin', 'tas', 'gre', 'fo', 'nu', 'wex', 'ja', 'qui', 'ho', 'sen', 'tra', 'mo', 'bel'];
  const vocab = [];
  const seen = new Set();
  while (vocab.length < 30000) {
    let w = '';
    for (let k = between(2, 4); k > 0; k--) w += pick(syll);
    if (!seen.has(w)) { seen.add(w); vocab.push(w); }
  }
  const zipf = () => vocab[Math.floor(Math.exp(rand() * Math.log(vocab.length + 1))) - 1];
  const english = ('the of and to a in is it you that he was for on are with as I his they be at one have this or had by ' +
    'but some what there we can out other were all your when up use word how said an each she which do their time if ' +
    'will way about many then them would write like so these her long make thing see him two has look more day could go ' +
    'come did my sound no most number who over know water than call first people may down side been now find meeting ' +
    'report project please thanks attached review next week monday friday update team budget plan office').split(' ');
  const word = () => (rand() < 0.45 ? pick(english) : zipf());
  const sentence = (extra) => {
    const words = [];
    for (let k = between(6, 18); k > 0; k--) words.push(word());
    if (extra) words.splice(between(0, words.length), 0, extra);
    const s = words.join(' ');
    return s[0].toUpperCase() + s.slice(1) + pick(['.', '.', '.', '?', '!']);
  };
  const paragraph = (extra) => {
    const out = [];
    for (let k = between(2, 6); k > 0; k--) out.push(sentence(k === 1 ? extra : ''));
    return out.join(' ');
  };
  const wrap = (text) => text.replace(/(.{1,72})(\s+|$)/g, '$1\n').trimEnd();
  const first = ['Ann', 'Bob', 'Chen', 'Dana', 'Emil', 'Fatima', 'Greta', 'Hiro', 'Ines', 'Jonas', 'Kofi', 'Lena', 'Mateo', 'Nora',
    'Olga', 'Pavel', 'Quinn', 'Rosa', 'Sven', 'Tariq', 'Uma', 'Vera', 'Wim', 'Xenia', 'Yusuf', 'Zoe', 'Aiko', 'Björn', 'Chloé', 'Diego'];
  const last = ['Lee', 'Smith', 'Müller', 'Tanaka', 'Garcia', 'Rossi', 'Novak', 'Kowalski', 'Dubois', 'Okafor', 'Jensen', 'Silva'];
  const people = [];
  for (let k = 0; k < 300; k++) {
    const f = first[k % first.length];
    const l = last[(k * 7 + Math.floor(k / first.length)) % last.length];
    const domain = ['example.com', 'example.org', 'mail.example.net', 'corp.example'][k % 4];
    people.push({ name: `${f} ${l}`, first: f, addr: `${f.normalize('NFKD').replace(/[^A-Za-z]/g, '').toLowerCase()}.${k}@${domain}` });
  }
  const sender = () => people[Math.floor(Math.exp(rand() * Math.log(people.length + 1))) - 1];
  const utf8 = new TextEncoder();
  const b64 = (s) => { let bin = ''; for (const b of utf8.encode(s)) bin += String.fromCharCode(b); return btoa(bin); };
  const qp = (s) => {
    let line = '';
    const out = [];
    for (const ch of s) {
      let enc;
      if (ch === '\n') { out.push(line); line = ''; continue; }
      if (ch === '=' || ch.codePointAt(0) > 126) enc = [...utf8.encode(ch)].map((b) => `=${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
      else enc = ch;
      if (line.length + enc.length > 75) { out.push(`${line}=`); line = ''; }
      line += enc;
    }
    out.push(line);
    return out.join('\n');
  };
  const foreign = {
    de: () => pick(['Die Straße ist wegen Bauarbeiten gesperrt.', 'Grüße aus München, bis nächste Woche.', 'Bitte prüfen Sie die Änderungen im Angebot.', 'Der Fußballverein trifft sich am Donnerstag.']),
    fr: () => pick(['Réunion déplacée à jeudi, désolé.', 'Voici le résumé de la conférence à Genève.', 'Merci pour ce café très agréable.']),
    ja: () => pick(['来週の会議の資料を確認してください。', '東京都の予定について報告します。', '大阪へ出張します。よろしくお願いします。', 'ありがとうございました。']),
    zh: () => pick(['我们下周在北京开会。', '请查看附件中的项目报告。', '上海的天气很好。', '谢谢你的帮助。']),
  };
  const ids = [];
  const subjects = [];
  const counts = { zephyrine: 0, marzipan: 0, lantern: 0, both: 0, phrase: 0, regards: 0, fromFirst: 0 };
  const FROM_FIRST = 'Greta';
  const parts = [];
  let chunk = '';
  let bytes = 0;
  const t0 = Date.parse('2021-12-01T00:00:00Z');
  for (let i = 0; i < n; i++) {
    const from = sender();
    const to = sender();
    const date = new Date(t0 + (i / n) * 5 * 365 * 86400000 + between(0, 3600000)).toUTCString().replace('GMT', '+0000');
    const id = `<${i}.${between(1e5, 9e5)}@bench.example>`;
    ids.push(id);
    const reply = i > 10 && rand() < 0.3 ? between(Math.max(0, i - 200), i - 1) : -1;
    const lang = rand() < 0.08 ? pick(['de', 'fr', 'ja', 'zh']) : null;
    let subject = reply >= 0 ? `Re: ${subjects[reply]}` : sentence().slice(0, between(20, 60)).replace(/[.?!]$/, '');
    if (lang) subject = `${foreign[lang]().slice(0, 24)} ${subject}`;
    subjects.push(subject.replace(/^(Re: )+/, ''));
    // Planted words: a known number of messages holds each.
    const planted = [];
    if (i % 1000 === 7) { planted.push('zephyrine'); counts.zephyrine++; }
    if (i % 10 === 3) { planted.push(i % 20 === 3 ? 'marzipan forecast' : 'marzipan'); counts.marzipan++; }
    if (i % 20 === 3) counts.phrase++;
    if (i % 7 === 2) { planted.push('lantern'); counts.lantern++; }
    if (i % 10 === 3 && i % 7 === 2) counts.both++;
    if (from.first === FROM_FIRST) counts.fromFirst++;
    const paras = [];
    for (let k = between(1, 5); k > 0; k--) paras.push(paragraph(planted.length ? planted.shift() : ''));
    while (planted.length) paras.push(paragraph(planted.shift()));
    if (lang) paras.splice(1, 0, Array.from({ length: between(1, 4) }, foreign[lang]).join(' '));
    // Unrelated uses of "forecast": the phrase is about order, not presence. (Not first in its
    // paragraph: a phrase ignores punctuation, so "... marzipan. Forecast" would hold it.)
    if (rand() < 0.2) paras.push(`Outlook and forecast: ${sentence()}`);
    let text = paras.map(wrap).join('\n\n');
    if (reply >= 0) text += `\n\nOn ${date}, ${from.name} wrote:\n${wrap(sentence() + ' ' + sentence()).split('\n').map((l) => `> ${l}`).join('\n')}`;
    text += `\n\nBest regards,\n${from.name}\n`;
    counts.regards++;
    const encSubject = /[^\x20-\x7e]/.test(subject) ? `=?UTF-8?B?${b64(subject)}?=` : subject;
    const encName = /[^\x20-\x7e]/.test(from.name) ? `=?UTF-8?Q?${qp(from.name).replace(/ /g, '_')}?=` : `"${from.name}"`;
    let head = `From: ${encName} <${from.addr}>\nTo: "${to.name.normalize('NFKD').replace(/[^\x20-\x7e]/g, '')}" <${to.addr}>\n`
      + `Subject: ${encSubject}\nDate: ${date}\nMessage-ID: ${id}\n`
      + (reply >= 0 ? `In-Reply-To: ${ids[reply]}\nReferences: ${ids[reply]}\n` : '') + 'MIME-Version: 1.0\n';
    const nonAscii = /[^\x00-\x7e]/.test(text);
    const plainPart = () => (nonAscii
      ? (rand() < 0.5
        ? `Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${qp(text)}\n`
        : `Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n${b64(text).replace(/(.{76})/g, '$1\n')}\n`)
      : `Content-Type: text/plain; charset=us-ascii\n\n${text}\n`);
    const kind = rand();
    let body;
    if (kind < 0.2) {
      const html = `<html><body>${text.split('\n\n').map((p) => `<p>${p.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\n/g, ' ')}</p>`).join('\n')}`
        + `<p><a href="https://tracker.example/c/${i}">Unsubscribe</a><img src="https://tracker.example/p/${i}.gif"></p></body></html>`;
      body = `Content-Type: multipart/alternative; boundary="alt${i}"\n\n--alt${i}\n${plainPart()}--alt${i}\n`
        + `Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${qp(html)}\n--alt${i}--\n`;
    } else if (kind < 0.28) {
      const size = between(2000, 40000);
      let bin = '';
      for (let k = 0; k < size; k++) bin += String.fromCharCode(Math.floor(rand() * 256));
      const name = `${pick(['report', 'invoice', 'photo', 'slides', 'minutes'])}-${zipf()}.${pick(['pdf', 'jpg', 'docx', 'xlsx'])}`;
      body = `Content-Type: multipart/mixed; boundary="mix${i}"\n\n--mix${i}\n${plainPart()}--mix${i}\n`
        + `Content-Type: application/octet-stream; name="${name}"\nContent-Disposition: attachment; filename="${name}"\n`
        + `Content-Transfer-Encoding: base64\n\n${btoa(bin).replace(/(.{76})/g, '$1\n')}\n--mix${i}--\n`;
    } else {
      body = plainPart();
    }
    const message = `From bench@localhost ${date.slice(0, 3)} Dec  1 10:00:00 2026\n${head}${body}\n`;
    chunk += message;
    if (chunk.length > 4e6) {
      const part = new Blob([chunk]);
      bytes += part.size;
      parts.push(part);
      chunk = '';
    }
  }
  const part = new Blob([chunk]);
  bytes += part.size;
  parts.push(part);
  window.__benchMbox = new File(parts, 'bench.mbox', { type: 'application/mbox' });
  return { bytes, counts, fromFirst: FROM_FIRST };
}

/**
 * Runs in the page (installed once): `__benchUntil(act, done)` runs `act`, then resolves with
 * the milliseconds until `done()` holds, judged at every change of the list's count line and
 * of the list (a MutationObserver), with a 10 ms poll as a safety net.
 */
export function installTimers() {
  window.__benchUntil = (act, doneSrc, timeoutMs = 600000) => new Promise((resolve, reject) => {
    // eslint-disable-next-line no-new-func
    const done = new Function(`return (${doneSrc})`)();
    const t0 = performance.now();
    let finished = false;
    const finish = () => {
      if (finished || !done()) return;
      finished = true;
      const ms = performance.now() - t0;
      observer.disconnect();
      clearInterval(poll);
      resolve(ms);
    };
    const observer = new MutationObserver(finish);
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
    const poll = setInterval(() => {
      finish();
      if (!finished && performance.now() - t0 > timeoutMs) {
        observer.disconnect();
        clearInterval(poll);
        reject(new Error(`timed out: ${doneSrc}`));
      }
    }, 10);
    // eslint-disable-next-line no-new-func
    new Function(`return (${act})`)()();
    finish();
  });
  window.__benchCount = () => {
    // A large answer shows its best page and says how many were found in all.
    const more = document.querySelector('.search-more');
    if (more) return Number(more.dataset.total);
    const m = document.querySelector('.msg-count')?.textContent.match(/^(\d+) messages?/);
    return m ? Number(m[1]) : null;
  };
  window.__benchSearch = (text) => {
    const input = document.getElementById('search');
    input.value = text;
    input.dispatchEvent(new Event('input', { bubbles: true }));
  };
  window.__benchTab = (name) => [...document.querySelectorAll('[role=tab]')].find((t) => t.textContent.trim().startsWith(name));
  window.__benchLongTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__benchLongTasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: true });
}

/**
 * Hands the mbox `makeMbox` made to Settings' "Import mail (mbox or .eml)", as a user picks a
 * file, and waits for the import's end. Returns the milliseconds from the file's hand-over to
 * the status; throws unless all `n` were imported.
 */
export async function importMade(page, n) {
  await page.getByRole('button', { name: 'Settings' }).click();
  const input = page.getByLabel('Import mail (mbox or .eml)');
  const t = performance.now();
  await input.evaluate((el) => {
    const dt = new DataTransfer();
    dt.items.add(window.__benchMbox);
    el.files = dt.files;
    el.dispatchEvent(new Event('change', { bubbles: true }));
  });
  const status = page.getByRole('status', { name: 'Import status' }).locator('.banner');
  await status.waitFor({ timeout: 3_600_000 });
  const ms = performance.now() - t;
  const text = (await status.textContent()).trim();
  if (text !== `Imported ${n} messages.`) throw new Error(`import: ${text}`);
  return ms;
}

/** The functions with the most self time in a CDP CPU profile, as "ms  name". */
export function topSelf(profile, k = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const node = byId.get(profile.samples[i]);
    const f = node.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url ? f.url.split('/').pop() : ''}`.trim();
    self.set(name, (self.get(name) ?? 0) + (dt[i + 1] ?? 0) / 1000);
  }
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, k)
    .map(([name, ms]) => `${ms.toFixed(0).padStart(7)} ms  ${name}`);
}
