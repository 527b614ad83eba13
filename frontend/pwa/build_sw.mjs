#!/usr/bin/env node
// Trunk post-build hook: writes the service worker into the staging dist directory.
//
// It lists every file Trunk produced (hashed wasm/JS/CSS, index.html, manifest, icons), hashes
// their names and contents into one build id, and substitutes both into the `BUILD` line of
// frontend/pwa/sw.js. The result is dist/sw.js, served unhashed with `Cache-Control: no-cache`
// so browsers see each new build.
//
// Trunk runs hooks from the project root with TRUNK_STAGING_DIR set (see Trunk.toml). It can
// also be run by hand on a finished dist: `node frontend/pwa/build_sw.mjs dist`.

import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = process.argv[2] || process.env.TRUNK_STAGING_DIR;
if (!outDir) {
  console.error("build_sw: give the dist directory as an argument or set TRUNK_STAGING_DIR");
  process.exit(2);
}

// The worker itself must not be precached (the browser fetches it on its own schedule), and
// source maps or dotfiles are not part of the shell; nor are the brotli and gzip copies of
// scripts/precompress.mjs (the proxy sends them in place of their file), should this run
// again on a finished dist.
const SKIP = (path) =>
  path === "sw.js" ||
  path === "sw-classic.js" ||
  path.endsWith(".map") ||
  /\.(br|gz)$/.test(path) ||
  path.split("/").some((p) => p.startsWith("."));

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}

const files = walk(outDir)
  .map((full) => ({ full, path: relative(outDir, full).split(sep).join("/") }))
  .filter(({ path }) => !SKIP(path))
  .sort((a, b) => (a.path < b.path ? -1 : 1));

if (!files.some(({ path }) => path === "index.html")) {
  console.error(`build_sw: no index.html in ${outDir}; run this after Trunk wrote the HTML`);
  process.exit(1);
}

const digest = createHash("sha256");
for (const { full, path } of files) {
  digest.update(path).update("\0").update(readFileSync(full)).update("\0");
}
const hash = digest.digest("hex").slice(0, 16);

const template = readFileSync(join(here, "sw.js"), "utf8");
const marker = /^const BUILD = .*\/\/ @postbag-build.*$/m;
if (!marker.test(template)) {
  console.error("build_sw: the `const BUILD = ... // @postbag-build` line is missing in sw.js");
  process.exit(1);
}
// The app's wasm-bindgen module and its wasm (Trunk names them after the binary, hashed). The
// worker imports the module statically, so an import of a name that is not there, or a
// module without the export, would stop the worker from installing at all: checked here.
const appMarker = /^import init, \{ background_check \} from .*\/\/ @postbag-app.*$/m;
if (!appMarker.test(template)) {
  console.error("build_sw: the `import init, { background_check } ... // @postbag-app` line is missing in sw.js");
  process.exit(1);
}
const appJs = files.map(({ path }) => path).filter((p) => /^postbag-web-[0-9a-f]+\.js$/.test(p));
const appWasm = files.map(({ path }) => path).filter((p) => /^postbag-web-[0-9a-f]+_bg\.wasm$/.test(p));
if (appJs.length !== 1 || appWasm.length !== 1) {
  console.error(`build_sw: expected one postbag-web-<hash>.js and _bg.wasm in ${outDir}, found ${appJs} ${appWasm}`);
  process.exit(1);
}
const glue = readFileSync(join(outDir, appJs[0]), "utf8");
if (!/export\s+(async\s+)?function\s+background_check\b/.test(glue) && !/\bbackground_check\b[^\n]*\bas\b|export\s*\{[^}]*\bbackground_check\b/.test(glue)) {
  console.error(`build_sw: ${appJs[0]} does not export background_check (frontend/src/main.rs)`);
  process.exit(1);
}
const build = { hash, files: files.map(({ path }) => path), app: { js: appJs[0], wasm: appWasm[0] } };
const withBuild = template.replace(marker, `const BUILD = ${JSON.stringify(build)};`);
const worker = withBuild.replace(
  appMarker,
  `import init, { background_check } from ${JSON.stringify("./" + appJs[0])};`,
);
writeFileSync(join(outDir, "sw.js"), worker);
// For browsers without module service workers (register.js falls back to it): no import, so
// no background check, which those browsers could not run anyway (no Periodic Background Sync).
const classic = withBuild.replace(appMarker, "const init = null, background_check = null;");
writeFileSync(join(outDir, "sw-classic.js"), classic);
console.log(`build_sw: sw.js for build ${hash}, ${files.length} files precached, app ${appJs[0]}`);
