// Postbag's service worker: keeps the app shell (HTML, wasm, JS, CSS, icons) so the app starts
// with no network. It answers only for the exact files of one build, and for the streamed
// downloads that pages of this origin register (an export passes through it chunk by chunk, on
// its way to the browser's download manager). Where Chromium grants Periodic Background Sync,
// it also runs the app's own check of the accounts opted in to it (the `periodicsync` handler):
// the same wasm binary as the page, loaded only then.
//
// This file is a template. The Trunk post-build hook (frontend/pwa/build_sw.mjs) replaces the
// BUILD line below with the build's hash and its list of files, and the APP line with a static
// import of the build's hashed wasm-bindgen module (service workers may not use import()),
// and writes the result to dist/sw.js, registered as a module worker. Because the file list
// holds Trunk's hashed names, every build changes sw.js by at least one byte, which is what
// makes the browser install the new version. It also writes dist/sw-classic.js without the
// import, for browsers without module service workers, which have no Periodic Background
// Sync either.

import init, { background_check } from "./postbag-web.js"; // @postbag-app (replaced at build time)
const BUILD = { hash: "dev", files: [], app: null }; // @postbag-build (replaced at build time)

// One cache per build: installing a new build never disturbs the cache the running page uses,
// and activation removes every other cache with this prefix.
const CACHE_PREFIX = "postbag-shell-";
const CACHE = CACHE_PREFIX + BUILD.hash;

// Paths this worker must never answer for, whatever the build's file list says.
const NEVER_CACHE = ["/tunnel"];

const scopeUrl = new URL(self.registration.scope);
const shellUrl = (file) => new URL(file, scopeUrl).href;
const PRECACHED = new Set(BUILD.files.map(shellUrl));
const INDEX = shellUrl("index.html");

self.addEventListener("install", (event) => {
  // `cache: "reload"` skips the HTTP cache so a stale copy of an unhashed file (index.html,
  // manifest) cannot end up in a new build's cache.
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) =>
        cache.addAll([...PRECACHED].map((url) => new Request(url, { cache: "reload" }))),
      ),
  );
  // No skipWaiting() here: an open page keeps the build it started with until the user
  // accepts the update (register.js shows the banner and posts SKIP_WAITING).
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((key) => key.startsWith(CACHE_PREFIX) && key !== CACHE)
            .map((key) => caches.delete(key)),
        ),
      )
      // Take over the page that registered us, so the first visit already works offline.
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  const type = event.data && event.data.type;
  if (type === "SKIP_WAITING") {
    self.skipWaiting();
  } else if (type === "GET_BACKGROUND_CHECK" && event.ports[0]) {
    event.ports[0].postMessage(lastBackgroundCheck);
  } else if (type === "GET_BUILD" && event.ports[0]) {
    event.ports[0].postMessage({ hash: BUILD.hash, cache: CACHE, files: BUILD.files.length });
  } else if (type === "DOWNLOAD" && event.ports[0]) {
    registerDownload(event);
  }
  // "DOWNLOAD_KEEPALIVE" needs no answer: the event itself keeps this worker running while a
  // page streams a download through it.
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== scopeUrl.origin) return;
  if (url.pathname.startsWith(DOWNLOAD_PATH)) {
    event.respondWith(startDownload(url.pathname.slice(DOWNLOAD_PATH.length)));
    return;
  }
  if (NEVER_CACHE.some((path) => url.pathname === path || url.pathname.startsWith(path + "/"))) {
    return;
  }

  url.search = "";
  url.hash = "";
  if (request.mode === "navigate" && url.pathname.startsWith(scopeUrl.pathname)) {
    // Every navigation inside the scope gets this build's index.html: the app routes on the
    // client, and the shell must match the hashed files cached beside it. A document of the
    // build's own (the HTML parser frame, parse.html) is itself: served as the shell, it would
    // carry the app's script policy into the frame that exists to be free of it.
    const own = PRECACHED.has(url.href) && url.pathname.endsWith(".html");
    event.respondWith(fromCacheElseNetwork(own ? url.href : INDEX, request));
    return;
  }

  if (PRECACHED.has(url.href)) {
    event.respondWith(fromCacheElseNetwork(url.href, request));
  }
  // Anything else goes to the network untouched and is never stored.
});

// Periodic Background Sync (Chromium, installed app, site engagement permitting): the page
// registers the tag when at least one account is opted in, and unregisters it when none is.
const CHECK_TAG = "postbag-check";

self.addEventListener("periodicsync", (event) => {
  if (event.tag !== CHECK_TAG || !init || !BUILD.app) return;
  event.waitUntil(backgroundCheck());
});

let appStarted = null;
// The last background check in this worker's lifetime, for tests and debugging (GET_BACKGROUND_CHECK):
// when it ended and how many new messages it stored, or why it failed.
let lastBackgroundCheck = null;

// The app's wasm, from this build's cache (the check runs with or without the page's cache
// warm, and the bytes must be this build's): started once per worker lifetime, never at load.
function startApp() {
  appStarted ??= (async () => {
    const wasm = shellUrl(BUILD.app.wasm);
    const cached = await (await caches.open(CACHE)).match(wasm);
    await init({ module_or_path: cached || fetch(wasm) });
  })().catch((error) => {
    appStarted = null;
    throw error;
  });
  return appStarted;
}

async function backgroundCheck() {
  try {
    await startApp();
    const count = await background_check();
    lastBackgroundCheck = { at: Date.now(), count };
    // An open tab shows the new mail at once (register.js passes this on to the app).
    const pages = await self.clients.matchAll({ type: "window" });
    for (const page of pages) page.postMessage({ type: "BACKGROUND_CHECKED", count });
  } catch (error) {
    const why = String((error && error.message) || error);
    lastBackgroundCheck = { at: Date.now(), failed: why };
    console.warn("Postbag: background check failed:", why);
  }
}

async function fromCacheElseNetwork(key, request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  return hit || fetch(request);
}

// Streamed downloads: how an export reaches the disk in browsers without the File System
// Access picker (Firefox, Safari, mobile), with memory bounded by a chunk or two instead of the
// whole file in Blobs (frontend/src/export/sink/sw_stream.rs is the page's side).
//
// 1. The page posts {type: "DOWNLOAD", disposition, mime} with a MessagePort. This worker
//    answers on the port {type: "registered", url}: a same-origin URL under __download/ with
//    128 random bits, unguessable, valid for one fetch within DOWNLOAD_CLAIM_MS.
// 2. The page navigates a hidden iframe there. The fetch takes the download out of the table
//    (a second fetch, like any unknown id, gets 404) and answers with an attachment whose body
//    is a stream fed from the port; it tells the page {type: "started"}.
// 3. Pull-based: when the download manager wants bytes, the stream's pull() posts
//    {type: "pull"} and waits; the page answers with one {type: "chunk", bytes}. Nothing is
//    asked before the reader has taken all it was given (highWaterMark 0), so this worker
//    holds at most one chunk, and a paused download pauses the export.
// 4. The page ends with {type: "end"} (the file is complete) or {type: "abort"} (Cancel in the
//    app, or a failed export): the stream errors, and the browser shows the download as failed
//    instead of keeping a truncated file. Cancelling the download in the browser cancels the
//    stream, and the page is told {type: "cancelled"}; a page that went away errors it too.
const DOWNLOAD_PATH = scopeUrl.pathname + "__download/";
// How long a registered download waits for its fetch (the iframe's navigation comes within
// milliseconds; a registration never fetched must not stay in memory).
const DOWNLOAD_CLAIM_MS = 30_000;
// While a pull waits for the page's next chunk, how often the page's existence is checked: a
// closed tab sends nothing more, and its download must fail rather than wait forever.
const DOWNLOAD_PAGE_CHECK_MS = 10_000;
// The longest header value accepted from a page (the page encodes a file name of at most a
// few hundred characters).
const DOWNLOAD_HEADER_MAX = 4096;
// The page's chunk (about 4 MiB) is passed on as copies of this size. Enqueued whole, the
// chunks the download had read stayed in the renderer's memory long after (Chromium 156,
// 1 MB chunks: +100 MB for each GB streamed, 759 MB after 6 GB); as copies, the chunk the page
// sent is garbage at once, and the renderer stayed at 245 MB whether 3 or 6 GB went through.
const DOWNLOAD_PIECE = 256 * 1024;

const downloads = new Map(); // id -> { port, headers, client, expiry }

function registerDownload(event) {
  const port = event.ports[0];
  const source = event.source;
  // Only a page (a window) of this origin: messages from elsewhere cannot reach a worker, but
  // a same-origin worker or a frame of another scope must not register downloads either.
  const page =
    source &&
    source.type === "window" &&
    new URL(source.url).origin === scopeUrl.origin &&
    new URL(source.url).pathname.startsWith(scopeUrl.pathname);
  const { disposition, mime } = event.data;
  let headers = null;
  if (
    page &&
    typeof disposition === "string" &&
    typeof mime === "string" &&
    disposition.length <= DOWNLOAD_HEADER_MAX &&
    mime.length <= DOWNLOAD_HEADER_MAX &&
    disposition.startsWith("attachment;")
  ) {
    try {
      // The Headers constructor refuses line breaks and characters outside Latin-1.
      headers = new Headers({
        "Content-Type": mime,
        "Content-Disposition": disposition,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
      });
    } catch {
      headers = null;
    }
  }
  if (!headers) {
    port.postMessage({ type: "refused" });
    port.close();
    return;
  }
  const id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
  const forget = () => {
    if (downloads.get(id)?.port === port) {
      downloads.delete(id);
      clearTimeout(expiry);
      port.close();
    }
  };
  const expiry = setTimeout(forget, DOWNLOAD_CLAIM_MS);
  // The page gives up before the fetch came (it waited too long): the URL dies with it.
  port.onmessage = (message) => {
    if (message.data && message.data.type === "abort") forget();
  };
  downloads.set(id, { port, headers, client: source.id, expiry });
  port.postMessage({ type: "registered", url: new URL(DOWNLOAD_PATH + id, scopeUrl).href });
}

async function startDownload(id) {
  const entry = downloads.get(id);
  if (!entry) {
    return new Response("No such download.", {
      status: 404,
      headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
    });
  }
  // Single use: the URL answers once.
  downloads.delete(id);
  clearTimeout(entry.expiry);
  const { port, client } = entry;
  let stream = null; // the stream's controller once started
  let waiting = null; // { resolve, check } of the pull waiting for the page's chunk
  let over = false;
  const settle = () => {
    if (!waiting) return;
    clearInterval(waiting.check);
    waiting.resolve();
    waiting = null;
  };
  const end = () => {
    over = true;
    settle();
    port.onmessage = null;
    port.close();
  };
  const fail = (reason) => {
    if (over) return;
    stream.error(new Error(reason));
    end();
  };
  port.onmessage = (message) => {
    const m = message.data || {};
    if (over) return;
    if (m.type === "chunk" && m.bytes instanceof Uint8Array) {
      for (let at = 0; at < m.bytes.length; at += DOWNLOAD_PIECE) {
        stream.enqueue(m.bytes.slice(at, at + DOWNLOAD_PIECE));
      }
      settle();
    } else if (m.type === "end") {
      stream.close();
      end();
    } else if (m.type === "abort") {
      fail("the export was stopped in Postbag");
    }
  };
  const body = new ReadableStream(
    {
      start(controller) {
        stream = controller;
      },
      pull() {
        if (over) return undefined;
        return new Promise((resolve) => {
          const check = setInterval(async () => {
            if (!(await self.clients.get(client))) fail("the page exporting it was closed");
          }, DOWNLOAD_PAGE_CHECK_MS);
          waiting = { resolve, check };
          port.postMessage({ type: "pull" });
        });
      },
      cancel() {
        // The download was cancelled in the browser (or its request went away).
        if (over) return;
        port.postMessage({ type: "cancelled" });
        end();
      },
    },
    { highWaterMark: 0 },
  );
  port.postMessage({ type: "started" });
  return new Response(body, { headers: entry.headers });
}
