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

/**
 * Loads one of this package's own modules synchronously, `path` relative to `from` (the caller's
 * `import.meta.url`) and without extension: `.ts` from source (Deno, Bun, Node's type stripping),
 * `.js` from the npm build. For what is loaded only once needed, at a moment an `import()` would
 * come too late (an exit path, where it never settles; an SDK entry the app is evaluating). Throws
 * where the runtime cannot (no `require`, or a bundle without the file).
 *
 * @example
 * ```ts
 * import { requireOwnModule } from "./runtime.ts";
 * const { VERSION } = requireOwnModule<typeof import("./version.ts")>(import.meta.url, "./version");
 * ```
 */
export function requireOwnModule<T>(from: string, path: string): T {
  const modules = builtinModule<{ createRequire(from: string): (id: string) => unknown }>(
    "node:module",
  );
  if (!modules) throw new Error("This runtime cannot load a module synchronously.");
  const extension = from.endsWith(".ts") ? ".ts" : ".js";
  const load = () => modules.createRequire(from)(`${path}${extension}`) as T;
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
