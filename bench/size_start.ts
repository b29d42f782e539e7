// Size and start: the core entry (mod.ts) bundled and minified with esbuild, @opentelemetry/api
// external, gzipped; and the time to import it in a fresh process (median of 7).
import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { median } from "./_stats.ts";

// Code splitting on: the file storage adapters are loaded on the first write (a separate chunk);
// the entry chunk is what every import pays, the total is what a bundle ships.
const result = await build({
  entryPoints: [resolve(import.meta.dirname!, "../mod.ts")],
  bundle: true,
  splitting: true,
  minify: true,
  format: "esm",
  platform: "neutral",
  external: ["@opentelemetry/api", "node:*"],
  outdir: resolve(import.meta.dirname!, "../.tmp/bench-core"),
  write: false,
  logLevel: "error",
});
const outdir = resolve(import.meta.dirname!, "../.tmp/bench-core");
mkdirSync(outdir, { recursive: true });
for (const f of result.outputFiles) writeFileSync(f.path, f.contents);
const entry = result.outputFiles.find((f) => f.path.endsWith("mod.js"))!;
// What every import pays: the entry and the chunks it imports statically (not the lazy ones).
const text = new TextDecoder().decode(entry.contents);
const statics = [...text.matchAll(/(?:^|;)\s*import\s*[^"';]*?from\s*"\.\/([^"]+)"/g)]
  .map((m) => result.outputFiles.find((f) => f.path.endsWith(`/${m[1]}`))!)
  .filter(Boolean);
const code = new Uint8Array(
  [entry, ...statics].reduce((n, f) => n + f.contents.length, 0),
);
let at = 0;
for (const f of [entry, ...statics]) {
  code.set(f.contents, at);
  at += f.contents.length;
}
const total = result.outputFiles.reduce((n, f) => n + gzipSync(f.contents).length, 0);
// Import the bundle itself (what an npm user loads), from inside the repo so that
// @opentelemetry/api resolves from node_modules.
const bundlePath = entry.path;
const probe = `const t = performance.now(); await import(${
  JSON.stringify(bundlePath)
}); console.log(performance.now() - t);`;
const times: number[] = [];
for (let i = 0; i < 7; i++) {
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", probe], {
    encoding: "utf8",
  });
  times.push(Number(out.trim()));
}
console.log(JSON.stringify({
  core_min_bytes: code.length,
  core_min_gzip_bytes: gzipSync(code).length,
  all_chunks_min_gzip_bytes: total,
  import_ms: median(times),
}));
