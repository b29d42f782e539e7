// Builds the npm package into dist/: tsc emits ESM .js with .d.ts (relative .ts imports rewritten
// to .js), package.json's exports are derived from deno.json's so the two never drift, and the
// CLI becomes the `aiguard` bin.
import { execFileSync } from "node:child_process";
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");

/** Builds into `dist` (default `<repo>/dist`; compat.mjs builds one of its own under `.tmp/`). */
export async function buildNpm(dist = join(root, "dist")) {
  const deno = JSON.parse(await readFile(join(root, "deno.json"), "utf8"));
  const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
  await rm(dist, { recursive: true, force: true });
  await mkdir(dist, { recursive: true });
  const entries = Object.values(deno.exports);
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      rewriteRelativeImportExtensions: true,
      declaration: true,
      outDir: dist,
      rootDir: root,
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck: true,
      lib: ["ES2023", "DOM"],
      types: ["node"],
    },
    files: entries.map((e) => join(root, e)),
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
