/**
 * The worker layer: a guard covers the workers the app starts. A worker is a new JavaScript realm
 * with none of the guard's patches, so every `Worker` the app constructs while a guard is live is
 * started with the guard's worker entry (`src/preload/worker.ts`) run before its own code, and the
 * live guard's options handed over: the worker's guard has the same mode, rules and report (the
 * file sink shares the report under its lock; the daemon and OpenTelemetry are shared anyway), and
 * attestation scopes stay per thread (each thread has its own context store).
 *
 * How the entry gets in, per runtime:
 * - Node `worker_threads.Worker`: `--import` (a file worker) or `--require` (`eval: true`, where
 *   Node runs no `--import`) added to the worker's `execArgv`; the options travel as environment
 *   data (`setEnvironmentData`), which nested workers inherit.
 * - Bun (`Worker` and `worker_threads.Worker`): its `preload` option; options as above.
 * - Deno `Worker`: the worker starts from a `data:` module that imports the entry (with the
 *   options in its text) and then the app's module; its `worker_threads.Worker` the same way, or,
 *   for `eval: true`, with the entry's start call put in front of the code.
 *
 * @module
 */
import type { ResolvedOptions } from "../config.ts";
import { builtinModule, ownFiles, syncBuiltinExports } from "../runtime.ts";
import { whenReached } from "./builtin_reach.ts";
import type { DetectorLayer, GuardCore } from "./layer.ts";
import type { Patcher } from "./patcher.ts";
import type { ProviderRule } from "./providers.ts";

/** The environment-data key (and `Symbol.for` name) under which a worker finds its options. */
export const WORKER_OPTIONS_KEY = "@aiguard/attest.worker";
/** Node: the `process.execArgv` the worker would have had without the entry's flag. */
export const WORKER_EXEC_ARGV_KEY = "@aiguard/attest.worker.execArgv";

/** A RegExp as it crosses into a worker through JSON. */
interface WireRegExp {
  $regexp: [source: string, flags: string];
}

/** The options of a worker's guard: plain data, so they survive structured clone and JSON. */
export type WorkerOptions = Record<string, unknown>;

/** Keys of {@link ResolvedOptions} that are plain data and mean the same in another thread. */
const DATA_KEYS = [
  "mode",
  "discover",
  "reportPath",
  "maxBytes",
  "backups",
  "socketPath",
  "service",
  "traceAttested",
  "policy",
] as const;

function toWire(value: unknown): unknown {
  return value instanceof RegExp ? { $regexp: [value.source, value.flags] } : value;
}

function fromWire(value: unknown): unknown {
  const wire = (value as WireRegExp | null)?.$regexp;
  return Array.isArray(wire) ? new RegExp(wire[0], wire[1]) : value;
}

/**
 * What of the live guard's options a worker's guard is enabled with. Functions and objects with
 * behaviour (`clients`, `storage`, `logger`, `onRecord`, sink functions) stay in their thread: the
 * worker finds its own SDKs and its runtime's default storage; a guard whose only sinks were
 * functions gives its workers the memory sink (blocking still works there).
 *
 * @example
 * ```ts
 * import { workerOptions } from "./worker.ts";
 * declare const resolved: import("../config.ts").ResolvedOptions;
 * JSON.stringify(workerOptions(resolved)); // mode, rules, report path, …
 * ```
 */
export function workerOptions(options: ResolvedOptions): WorkerOptions {
  const out: WorkerOptions = {};
  for (const key of DATA_KEYS) {
    const value = options[key];
    if (value !== null && value !== undefined) out[key] = value;
  }
  out.providers = options.providers.map((rule) => ({
    ...rule,
    ...(rule.host === undefined ? {} : { host: toWire(rule.host) }),
    ...(rule.path === undefined ? {} : { path: toWire(rule.path) }),
  }));
  if (options.sinks === "auto") out.sinks = "auto";
  else {
    const names = options.sinks.filter((sink) => typeof sink === "string");
    out.sinks = names.length > 0 ? names : ["memory"];
  }
  return out;
}

/**
 * The options {@link workerOptions} wrote, as `enableGuard()` takes them (RegExps rebuilt).
 *
 * @example
 * ```ts
 * import { optionsFromWorkerOptions } from "./worker.ts";
 * optionsFromWorkerOptions({ providers: [{ provider: "acme", host: { $regexp: ["^llm\\.", ""] } }] });
 * ```
 */
export function optionsFromWorkerOptions(options: WorkerOptions): WorkerOptions {
  const rules = Array.isArray(options.providers) ? options.providers as ProviderRule[] : [];
  return {
    ...options,
    providers: rules.map((rule) => ({
      ...rule,
      ...(rule.host === undefined ? {} : { host: fromWire(rule.host) }),
      ...(rule.path === undefined ? {} : { path: fromWire(rule.path) }),
    })),
  };
}

interface WorkerThreads {
  Worker?: unknown;
  setEnvironmentData?(key: unknown, value: unknown): void;
}

type WorkerClass = new (...args: unknown[]) => object;
type Options = Record<string, unknown>;

/**
 * The URL of the worker entry (`src/preload/worker`, `.ts` from source, an entry point of its own
 * in the npm build), or `null` when it is not there: a bundle that inlined this module has no entry
 * a worker could load, and a worker pointed at a missing module would fail to start.
 */
function entryUrl(): string | null {
  const own = ownFiles();
  if (own === null) return null;
  const url = `${own.root}src/preload/worker${own.extension}`;
  if (!url.startsWith("file:")) return url; // Deno from JSR: the registry serves the whole package
  const fs = builtinModule<{ existsSync(path: string): boolean }>("node:fs");
  const path = filePath(url);
  return fs !== undefined && path !== null && fs.existsSync(path) ? url : null;
}

function filePath(url: string): string | null {
  const toPath = builtinModule<{ fileURLToPath(url: string): string }>("node:url")?.fileURLToPath;
  try {
    return toPath ? toPath(url) : null;
  } catch {
    return null;
  }
}

function list(value: unknown): unknown[] {
  return value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
}

/** Rewrites a worker's constructor arguments so the entry runs first; `null` leaves them alone. */
interface Starter {
  start(args: unknown[], options: WorkerOptions): unknown[] | null;
  /** Arguments for a second try after the rewritten ones were refused, or `null`. */
  retry?(error: unknown, args: unknown[], options: WorkerOptions): unknown[] | null;
}

function attempt<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}

/**
 * A class in place of `Original` whose construction runs the starter first. Arguments the runtime
 * refuses fall back to the app's own: the guard never stops a worker from starting.
 */
function guardedClass(core: GuardCore, Original: WorkerClass, starter: Starter): WorkerClass {
  const Guarded: WorkerClass = new Proxy(Original, {
    construct(target, args, newTarget) {
      const self = newTarget === Guarded ? target : newTarget;
      const live = core.options();
      const options = live === null ? null : attempt(() => workerOptions(live));
      const started = options === null ? null : attempt(() => starter.start(args, options));
      if (started === null) return Reflect.construct(target, args, self);
      try {
        return Reflect.construct(target, started, self);
      } catch (error) {
        const again = attempt(() => starter.retry?.(error, args, options!) ?? null);
        if (again !== null) {
          try {
            return Reflect.construct(target, again, self);
          } catch {
            // as below
          }
        }
        return Reflect.construct(target, args, self);
      }
    },
  });
  return Guarded;
}

/**
 * A starter made on the first worker the app starts: finding the entry on disk loads node:fs and
 * node:url (milliseconds on Deno), which an app that starts no worker never needs.
 */
function onFirstStart(make: () => Starter | null): Starter {
  let made: Starter | null | undefined;
  const get = () => made === undefined ? (made = make()) : made;
  return {
    start: (args, options) => get()?.start(args, options) ?? null,
    retry: (error, args, options) => get()?.retry?.(error, args, options) ?? null,
  };
}

/** `--import`/`--require` plus the flags a worker inherits, minus those it refuses when given. */
function nodeStarter(wt: WorkerThreads, entry: string): Starter {
  const proc = (globalThis as { process?: { execArgv?: string[]; features?: object } }).process;
  const entryPath = filePath(entry);
  // `eval` workers load the entry with require(): only where Node can require an ES module.
  const canRequire = (proc?.features as { require_module?: boolean } | undefined)?.require_module;
  // Per-process and V8 flags apply to every thread already, and Node refuses them in `execArgv`.
  const refused = new Set<string>();
  const start = (args: unknown[], options: WorkerOptions): unknown[] | null => {
    const given = (args[1] ?? {}) as Options;
    const isEval = given.eval === true;
    if (isEval && (!canRequire || entryPath === null)) return null;
    const inherited = Array.isArray(given.execArgv)
      ? given.execArgv as string[]
      : (proc?.execArgv ?? []).filter((flag) => !refused.has(flag));
    const flag = isEval ? ["--require", entryPath!] : ["--import", entry];
    wt.setEnvironmentData?.(WORKER_OPTIONS_KEY, options);
    // What the worker's process.execArgv would have been: the entry puts it back.
    wt.setEnvironmentData?.(WORKER_EXEC_ARGV_KEY, given.execArgv ?? proc?.execArgv ?? []);
    return [args[0], { ...given, execArgv: [...inherited, ...flag] }, ...args.slice(2)];
  };
  return {
    start,
    retry(error, args, options) {
      const given = (args[1] ?? {}) as Options;
      if ((error as { code?: unknown }).code !== "ERR_WORKER_INVALID_EXEC_ARGV") return null;
      if (Array.isArray(given.execArgv)) return null; // the app's own flags: its own error
      const list = /flags: (.*)$/s.exec(String((error as Error).message))?.[1];
      if (list === undefined) return null;
      for (const flag of list.split(", ")) refused.add(flag);
      return start(args, options);
    },
  };
}

/** Bun: the entry by the worker's `preload` option, options as environment data. */
function bunStarter(threads: () => WorkerThreads | undefined, entry: string): Starter {
  const entryPath = filePath(entry) ?? entry;
  const start = (args: unknown[], options: WorkerOptions): unknown[] | null => {
    const wt = threads(); // loaded when a worker starts, not with the guard
    if (wt?.setEnvironmentData === undefined) return null;
    wt.setEnvironmentData(WORKER_OPTIONS_KEY, options);
    const given = (args[1] ?? {}) as Options;
    return [args[0], { ...given, preload: [...list(given.preload), entryPath] }, ...args.slice(2)];
  };
  return { start };
}

/** Deno: a `data:` module that runs the entry with the options, then imports the app's module. */
function denoStarter(entry: string): Starter {
  const data = (code: string) => `data:text/javascript,${encodeURIComponent(code)}`;
  const start = (args: unknown[], options: WorkerOptions): unknown[] | null => {
    const spec = args[0];
    let url: string;
    try {
      url = new URL(spec instanceof URL ? spec.href : String(spec)).href;
    } catch {
      return null; // a relative specifier: resolved against what only the runtime knows
    }
    const start = data(
      `import { startWorkerGuard } from ${JSON.stringify(entry)};\n` +
        `startWorkerGuard(${JSON.stringify(options)});`,
    );
    const boot = data(`import ${JSON.stringify(start)};\nimport ${JSON.stringify(url)};`);
    return [boot, ...args.slice(1)];
  };
  return { start };
}

/** A worker module's absolute URL from a `Worker` specifier (URL, URL text or file path). */
function moduleUrl(spec: unknown): string | null {
  if (spec instanceof URL) return spec.href;
  if (typeof spec !== "string") return null;
  try {
    return new URL(spec).href;
  } catch {
    const path = builtinModule<{ resolve(p: string): string }>("node:path");
    const url = builtinModule<{ pathToFileURL(p: string): URL }>("node:url");
    return path && url ? url.pathToFileURL(path.resolve(spec)).href : null;
  }
}

const USE_STRICT = /^\s*(["'])use strict\1;?/;

/**
 * Deno's `node:worker_threads`: a file worker starts from the boot module as above; `eval` code
 * (a classic script there, with `require`) gets the entry's start call in front, on its first line
 * so the app's line numbers stay, after a "use strict" directive so that one stays in force.
 */
function denoThreadStarter(entry: string): Starter {
  const entryPath = filePath(entry);
  const web = denoStarter(entry);
  return {
    start(args, options) {
      const given = (args[1] ?? {}) as Options;
      if (given.eval !== true) {
        const url = moduleUrl(args[0]);
        const boot = url === null ? null : web.start([url], options)?.[0];
        return typeof boot === "string" ? [new URL(boot), ...args.slice(1)] : null;
      }
      if (entryPath === null || typeof args[0] !== "string") return null;
      const code = args[0];
      const start = `require(${JSON.stringify(entryPath)}).startWorkerGuard(${
        JSON.stringify(options)
      });`;
      const directive = USE_STRICT.exec(code)?.[0] ?? "";
      return [`${directive}${start}${code.slice(directive.length)}`, ...args.slice(1)];
    },
  };
}

function wrapClass(
  core: GuardCore,
  patcher: Patcher,
  owner: object,
  starter: Starter,
): boolean {
  const Original = (owner as { Worker?: unknown }).Worker;
  if (typeof Original !== "function") return false;
  const descriptor = Object.getOwnPropertyDescriptor(owner, "Worker");
  return patcher.define(owner, "Worker", {
    value: guardedClass(core, Original as WorkerClass, starter),
    writable: descriptor?.writable ?? true,
    enumerable: descriptor?.enumerable ?? false,
  });
}

/**
 * Wraps the `Worker` classes the runtime has (see the module doc): the global one at once,
 * node:worker_threads' once the app reaches it (see `builtin_reach.ts`).
 */
export const workerLayer: DetectorLayer = {
  name: "worker",
  install(core, patcher) {
    if (ownFiles() === null) return; // a bundle that inlined this module: no entry to load
    let found: string | null | undefined;
    const entry = () => found === undefined ? (found = entryUrl()) : found;
    const starter = (make: (entry: string) => Starter): Starter =>
      onFirstStart(() => {
        const url = entry();
        return url === null ? null : make(url);
      });
    const g = globalThis as { Deno?: unknown; Bun?: unknown };
    if (g.Deno !== undefined) {
      wrapClass(core, patcher, globalThis, starter(denoStarter));
      return whenReached("node:worker_threads", (wt) => {
        wrapClass(core, patcher, wt, starter(denoThreadStarter));
      });
    }
    if (g.Bun !== undefined) {
      // Bun's global Worker takes the options as worker_threads' environment data.
      const threads = () => builtinModule<WorkerThreads>("node:worker_threads");
      const bun = starter((url) => bunStarter(threads, url));
      wrapClass(core, patcher, globalThis, bun);
      return whenReached("node:worker_threads", (wt) => {
        wrapClass(core, patcher, wt, bun);
      });
    }
    let patched = false;
    const cancel = whenReached("node:worker_threads", (wt) => {
      const url = entry();
      if (url === null || !wrapClass(core, patcher, wt, nodeStarter(wt, url))) return;
      patched = true;
      syncBuiltinExports();
    });
    return () => {
      cancel();
      if (patched) syncBuiltinExports();
    };
  },
};
