#!/usr/bin/env node
// Trunk post-build step (after frontend/pwa/build_sw.mjs, see Trunk.toml): writes a brotli
// (`.br`) and a gzip (`.gz`) copy beside every compressible file of the built app, which the
// proxy serves by the browser's Accept-Encoding (proxy/src/precompressed.rs).
//
// Why at build time and not in the proxy: brotli's best level costs seconds of CPU for the wasm,
// once per build here instead of at every proxy start (the tests start dozens); the proxy keeps
// no copy in memory and needs no compressor; and the sizes printed here are the wire sizes the
// bundle budget counts.
//
// A copy is written only where it is smaller than the original. Release builds only: a debug
// wasm is tens of MB, and compressing it at the best level would take minutes.
//
//   node scripts/precompress.mjs dist        (or TRUNK_STAGING_DIR, as Trunk sets it)

import { readFileSync, readdirSync, writeFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const outDir = process.argv[2] || process.env.TRUNK_STAGING_DIR;
if (!outDir) {
  console.error("precompress: give the dist directory as an argument or set TRUNK_STAGING_DIR");
  process.exit(2);
}
if (!process.argv[2] && process.env.TRUNK_PROFILE && process.env.TRUNK_PROFILE !== "release") {
  console.log("precompress: debug build, nothing compressed");
  process.exit(0);
}

// Text and wasm compress well; images and fonts are compressed already.
const COMPRESSIBLE = /\.(wasm|js|mjs|css|html|json|webmanifest|svg|txt|xml)$/;
// Below this, a compressed copy saves less than its headers cost.
const MIN_BYTES = 256;

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}

const rows = [];
for (const full of walk(outDir)) {
  const path = relative(outDir, full).split(sep).join("/");
  if (!COMPRESSIBLE.test(path) || path.split("/").some((p) => p.startsWith("."))) continue;
  const raw = readFileSync(full);
  if (raw.length < MIN_BYTES) continue;
  const br = brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_MODE]: path.endsWith(".wasm")
        ? constants.BROTLI_MODE_GENERIC
        : constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
  const gz = gzipSync(raw, { level: 9 });
  const row = { path, raw: raw.length, br: raw.length, gz: raw.length };
  if (br.length < raw.length) {
    writeFileSync(`${full}.br`, br);
    row.br = br.length;
  }
  if (gz.length < raw.length) {
    writeFileSync(`${full}.gz`, gz);
    row.gz = gz.length;
  }
  rows.push(row);
}

// What a first visit downloads, as the proxy sends it to a browser that offers br.
const kb = (n) => (n / 1024).toFixed(1);
let total = { raw: 0, br: 0, gz: 0 };
for (const row of rows.sort((a, b) => b.raw - a.raw)) {
  console.log(`precompress: ${row.path}: ${kb(row.raw)} KB, br ${kb(row.br)} KB, gzip ${kb(row.gz)} KB`);
  for (const k of ["raw", "br", "gz"]) total[k] += row[k];
}
const others = walk(outDir)
  .filter((f) => !/\.(br|gz)$/.test(f) && !rows.some((r) => join(outDir, r.path) === f))
  .reduce((n, f) => n + statSync(f).size, 0);
console.log(
  `precompress: ${rows.length} files, ${kb(total.raw)} KB -> br ${kb(total.br)} KB, ` +
    `gzip ${kb(total.gz)} KB (and ${kb(others)} KB served as they are: icons, tiny files)`,
);
