// Builds the npm package into dist/: an esbuild bundle with code splitting (ES modules: one file
// per entry point, the code they share in chunks under dist/chunks/), tsc's .d.ts beside it,
// package.json's exports derived from deno.json's so the two never drift, and the CLI as the
// `aiguard` bin. A start loads a few files instead of one per module (bench/NOTES.md, "Start").
import { execFileSync } from "node:child_process";
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");

/**
 * The modules the package loads on demand by their path (`requireOwnModule`, the worker entry),
 * besides deno.json's exports: each is an entry point, so it has a file of its own at its source
 * path (`src/detect/sdk.js`).
 */
const ON_DEMAND = [
  "./src/detect/sdk.ts", // src/guard/parts.ts
  "./src/detect/sdk/hooks.ts", // src/guard/parts.ts
  "./src/report/chain.ts", // src/guard/parts.ts
  "./src/preload/worker.ts", // src/detect/worker.ts
];

/**
 * Declares in a built file its own path in the package (src/runtime.ts reads it: a chunk's URL
 * alone does not tell where the package root is), after its hashbang if it has one.
 */
function withOwnPath(text, path) {
  const line = `const AIGUARD_PACKAGE_FILE = ${JSON.stringify(path)};\n`;
  const bang = /^#!.*\n/.exec(text)?.[0] ?? "";
  return bang + line + text.slice(bang.length);
}

/** Builds into `dist` (default `<repo>/dist`; compat.mjs builds one of its own under `.tmp/`). */
export async function buildNpm(dist = join(root, "dist")) {
  const deno = JSON.parse(await readFile(join(root, "deno.json"), "utf8"));
  const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
  await rm(dist, { recursive: true, force: true });
  await mkdir(dist, { recursive: true });
  const entries = [...new Set([...Object.values(deno.exports), ...ON_DEMAND])];
  const result = await build({
    absWorkingDir: root,
    entryPoints: entries.map((e) => join(root, e)),
    outbase: root,
    outdir: dist,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    // The SDKs, OpenTelemetry and oxc-parser stay the app's, found where the app installed them.
    packages: "external",
    external: ["node:*"],
    chunkNames: "chunks/[name]-[hash]",
    write: false,
    logLevel: "error",
  });
  for (const file of result.outputFiles) {
    await mkdir(dirname(file.path), { recursive: true });
    const path = relative(dist, file.path).split(sep).join("/");
    await writeFile(file.path, path.endsWith(".js") ? withOwnPath(file.text, path) : file.text);
  }

  // Types: tsc's declarations, one .d.ts per module.
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      rewriteRelativeImportExtensions: true,
      declaration: true,
      emitDeclarationOnly: true,
      outDir: dist,
      rootDir: root,
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck: true,
      lib: ["ES2023", "DOM"],
      types: ["node"],
    },
    files: Object.values(deno.exports).map((e) => join(root, e)),
  };
  const configPath = join(root, ".tmp", `tsconfig.${basename(dist)}.json`);
  await mkdir(join(root, ".tmp"), { recursive: true });
  await writeFile(configPath, JSON.stringify(tsconfig, null, 2));
  try {
    execFileSync(join(root, "node_modules", ".bin", "tsc"), ["-p", configPath], {
      stdio: "inherit",
    });
  } finally {
    await rm(configPath, { force: true });
  }

  const js = (file) => `./${file.replace(/^\.\//, "").replace(/\.ts$/, ".js")}`;
  const exports = {};
  for (const [key, file] of Object.entries(deno.exports)) {
    exports[key] = { types: js(file).replace(/\.js$/, ".d.ts"), default: js(file) };
  }
  const cli = join(dist, "cli.js");
  const cliText = (await readFile(cli, "utf8")).replace(/^#!.*\n/, "");
  await writeFile(cli, `#!/usr/bin/env node\n${cliText}`);
  await chmod(cli, 0o755);
  const manifest = {
    name: deno.name,
    version: deno.version,
    description: pkg.description,
    license: deno.license,
    type: "module",
    engines: { node: ">=22" },
    exports,
    bin: { aiguard: "./cli.js" },
    dependencies: { "@opentelemetry/api": pkg.dependencies["@opentelemetry/api"] },
    // oxc-parser: only `aiguard scan` and `coverage` load it (a native parser: a guarded service
    // never needs it).
    peerDependencies: {
      "oxc-parser": `>=${pkg.dependencies["oxc-parser"]}`,
      "@opentelemetry/sdk-trace-base": "^2.0.0",
      "@opentelemetry/resources": "^2.0.0",
      "@opentelemetry/exporter-trace-otlp-http": ">=0.200.0",
      "@opentelemetry/exporter-trace-otlp-proto": ">=0.200.0",
    },
    peerDependenciesMeta: {
      "oxc-parser": { optional: true },
      "@opentelemetry/sdk-trace-base": { optional: true },
      "@opentelemetry/resources": { optional: true },
      "@opentelemetry/exporter-trace-otlp-http": { optional: true },
      "@opentelemetry/exporter-trace-otlp-proto": { optional: true },
    },
    files: ["**/*.js", "**/*.d.ts", "README.md", "LICENSE"],
  };
  await writeFile(join(dist, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
  await copyFile(join(root, "README.md"), join(dist, "README.md"));
  await copyFile(join(root, "LICENSE"), join(dist, "LICENSE"));
  return manifest;
}

if (process.argv[1] === import.meta.filename) {
  const manifest = await buildNpm();
  console.log(`built ${manifest.name}@${manifest.version} into dist/`);
}
