// Postbag's service worker: keeps the app shell (HTML, wasm, JS, CSS, icons) so the app starts
// with no network. It never touches mail: mail lives in IndexedDB, the POP3 tunnel is a
// WebSocket, and this worker answers only for the exact files of one build.
//
// This file is a template. The Trunk post-build hook (frontend/pwa/build_sw.mjs) replaces the
// BUILD line below with the build's hash and its list of files, and writes the result to
// dist/sw.js. Because the file list holds Trunk's hashed names, every build changes sw.js by at
// least one byte, which is what makes the browser install the new version.

const BUILD = { hash: "dev", files: [] }; // @postbag-build (replaced at build time)

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
  } else if (type === "GET_BUILD" && event.ports[0]) {
    event.ports[0].postMessage({ hash: BUILD.hash, cache: CACHE, files: BUILD.files.length });
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== scopeUrl.origin) return;
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

async function fromCacheElseNetwork(key, request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  return hit || fetch(request);
}
