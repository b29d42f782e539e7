import { registry } from "./registry.ts";

/** The runtimes aiguard knows by name. */
export type RuntimeKey = "deno" | "bun" | "node" | "workerd" | "edge-light" | "unknown";

/** Which runtime this is, from globals only (no runtime module is imported). */
export function runtimeKey(): RuntimeKey {
  const g = globalThis as {
    Deno?: unknown;
    Bun?: unknown;
    EdgeRuntime?: unknown;
    navigator?: { userAgent?: string };
    process?: { versions?: { node?: string } };
  };
  if (g.Deno !== undefined) return "deno";
  if (g.Bun !== undefined) return "bun";
  if (g.navigator?.userAgent === "Cloudflare-Workers") return "workerd";
  if (typeof g.EdgeRuntime === "string") return "edge-light";
  if (g.process?.versions?.node !== undefined) return "node";
  return "unknown";
}

/** The process id where there is one (`null` on edge runtimes). */
export function processId(): number | null {
  const g = globalThis as { Deno?: { pid?: number }; process?: { pid?: number } };
  const pid = g.Deno?.pid ?? g.process?.pid;
  return typeof pid === "number" && pid > 0 ? pid : null;
}

/** Reads an environment variable without throwing where env access is not permitted. */
export function envVar(name: string): string | undefined {
  const g = globalThis as {
    Deno?: { env?: { get(name: string): string | undefined } };
    process?: { env?: Record<string, string | undefined> };
  };
  try {
    if (g.Deno?.env) return g.Deno.env.get(name);
    return g.process?.env?.[name];
  } catch {
    return undefined; // Deno without --allow-env
  }
}

/**
 * A synchronous text-file read for start-up (the config file, `/proc/self/status`): Deno's own
 * `Deno.readTextFileSync` there, as loading its node:fs costs milliseconds at start; node:fs
 * elsewhere; `null` where there is no file system (edge runtimes). The read throws as the runtime
 * does (`ENOENT`, Deno's `NotFound`).
 *
 * @example
 * ```ts
 * import { textFileReader } from "./runtime.ts";
 * const read = textFileReader();
 * if (read) console.log(read("/etc/hostname"));
 * ```
 */
export function textFileReader(): ((path: string) => string) | null {
  const deno = (globalThis as { Deno?: { readTextFileSync?(path: string): string } }).Deno;
  if (typeof deno?.readTextFileSync === "function") {
    return (path) => deno.readTextFileSync!(path);
  }
  const fs = builtinModule<{ readFileSync(path: string, encoding: "utf8"): string }>("node:fs");
  return fs ? (path) => fs.readFileSync(path, "utf8") : null;
}

/**
 * A runtime built-in module (`node:http`, `node:diagnostics_channel`, …) through
 * `process.getBuiltinModule()`, which Node, Deno, Bun and workerd (`nodejs_compat`) have, so nothing
 * runtime-specific is imported statically. `undefined` where the runtime has no such module.
 */
export function builtinModule<T>(name: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } })
    .process;
  if (typeof proc?.getBuiltinModule !== "function") return undefined;
  try {
    return (proc.getBuiltinModule(name) ?? undefined) as T | undefined;
  } catch {
    return undefined;
  }
}

// The npm build (scripts/build_npm.mjs) declares in each file it writes, entries and shared chunks
// alike, that file's path in the package (`chunks/chunk-….js`): a chunk's URL alone does not tell
// where the package root is.
declare const AIGUARD_PACKAGE_FILE: string | undefined;

/** Where this package's own files are (see {@link ownFiles}). */
export interface OwnFiles {
  /** The package root's URL, with a trailing `/`. */
  root: string;
  /**
   * `source`: the TypeScript (JSR, the repository): the package's code is `src/` and the entry
   * files beside it. `npm`: the npm build, where every file under the root is the package's.
   */
  layout: "source" | "npm";
  /** The extension of the package's modules in this layout. */
  extension: ".ts" | ".js";
}

// This file is src/runtime.ts in the source.
const SOURCE_SELF = /\/src\/runtime\.ts$/;

/**
 * Where this package's own files are, or `null` where no file of it can be found: a bundle that
 * inlined this module (an app's own bundle of the source or of the npm build, a workerd worker)
 * has only itself.
 *
 * @example
 * ```ts
 * import { ownFiles } from "./runtime.ts";
 * ownFiles()?.root; // e.g. "file:///app/node_modules/@aiguard/attest/"
 * ```
 */
export function ownFiles(): OwnFiles | null {
  // workerd leaves import.meta.url undefined in bundled workers.
  const self: string = import.meta.url ?? "";
  if (typeof AIGUARD_PACKAGE_FILE === "string") {
    // Where the file is not at that path, it is an app's bundle that took the build's code in.
    return self.endsWith(`/${AIGUARD_PACKAGE_FILE}`)
      ? {
        root: self.slice(0, self.length - AIGUARD_PACKAGE_FILE.length),
        layout: "npm",
        extension: ".js",
      }
      : null;
  }
  const found = SOURCE_SELF.exec(self);
  return found
    ? { root: self.slice(0, found.index + 1), layout: "source", extension: ".ts" }
    : null;
}

/**
 * Loads one of this package's own modules synchronously, `path` relative to the package root and
 * without extension (`src/report/chain`): `.ts` from source (Deno, Bun, Node's type stripping),
 * `.js` from the npm build, whose build makes each such module an entry point of its own. For what
 * is loaded only once needed, at a moment an `import()` would come too late (an exit path, where it
 * never settles; an SDK entry the app is evaluating). Throws where the runtime cannot (no
 * `require`, or a bundle without the file).
 *
 * @example
 * ```ts
 * import { requireOwnModule } from "./runtime.ts";
 * const { createOutput } = requireOwnModule<typeof import("./report/chain.ts")>("src/report/chain");
 * ```
 */
export function requireOwnModule<T>(path: string): T {
  const modules = builtinModule<{ createRequire(from: string): (id: string) => unknown }>(
    "node:module",
  );
  if (!modules) throw new Error("This runtime cannot load a module synchronously.");
  const own = ownFiles();
  if (!own) throw new Error("This bundle has no module files of the package to load.");
  const load = () => modules.createRequire(own.root)(`./${path}${own.extension}`) as T;
  const around = registry().ownModuleLoad;
  return around ? around(load) : load();
}

/**
 * Re-syncs Node's ESM named exports of built-in modules (`import { request } from "node:http"`) with
 * their (un)patched module objects. Deno and Bun keep the original bindings: the README's
 * per-runtime table says so.
 */
export function syncBuiltinExports(): void {
  try {
    builtinModule<{ syncBuiltinESMExports?: () => void }>("node:module")?.syncBuiltinESMExports?.();
  } catch {
    // a runtime without it
  }
}

/**
 * This process's user id, or `undefined` where there are none (Windows) or the runtime will not
 * say (Deno without `--allow-sys`: asking throws there, and a guard must never crash the app).
 *
 * @example
 * ```ts
 * import { processUid } from "./runtime.ts";
 * const uid = processUid(); // e.g. 1000, or undefined
 * ```
 */
export function processUid(): number | undefined {
  try {
    return builtinModule<{ getuid?(): number }>("node:process")?.getuid?.();
  } catch {
    return undefined;
  }
}
