/**
 * The process-wide registry: the one place where process state lives. Every copy of this package
 * loaded in one process (a nested npm version, jsr + npm, a preload beside a bundled copy) finds the
 * same object under one `Symbol.for` key, the way `@opentelemetry/api` shares its globals, and
 * through it one context store and one guard.
 *
 * Rule for different versions: copies whose record format (`v`) is the same share the guard of the
 * copy that enabled it first; a copy with another `v` takes over only when its version is newer (it
 * tears the older guard down and warns once), else it leaves the newer guard in charge and warns
 * once.
 *
 * @module
 */

export { RECORD_V } from "./report/record.ts";

/** What a copy that owns the guard offers to the other copies. */
export interface GuardOwner {
  /** The owning copy's package version. */
  readonly version: string;
  /** The owning copy's record format version. */
  readonly v: number;
  /** Its `enableGuard()`. */
  enable(options?: unknown): unknown;
  /** Its `disableGuard()`. */
  disable(): Promise<void>;
  /** Its `flush()`. */
  flush(): Promise<void>;
  /** Puts every patch back now, without flushing (for a newer copy taking over). */
  teardown(): void;
  /** Patches SDK modules the app just loaded (the preload's entry hooks), if `discover` is on. */
  patch?(clients: unknown[]): void;
  /** Wraps an SDK's exported AI function (`generateText`) so its call site is taken at entry. */
  wrapEntry?<F extends (...args: never[]) => unknown>(fn: F): F;
}

/** What the exit listeners need of a record output (every copy's output has it). */
export interface ExitOutput {
  /** Lets the asynchronous writer finish (a normal end). */
  flush(): Promise<void>;
  /** Writes what is pending synchronously; never throws. */
  flushSync?(): void;
}

/**
 * Tells the layers when the app first reaches a built-in module (`import`, `require()`,
 * `process.getBuiltinModule()`), so a layer patches `node:http2` only in an app that loads it.
 */
export interface BuiltinWatch {
  /**
   * Calls `reached` once the app has reached the built-in `name` (`node:http`): now if it already
   * has, else right before the app gets the module. Returns a function that cancels the wait.
   */
  watch(name: string, reached: () => void): () => void;
}

/** The shared object. Members are only ever added, so older copies keep reading theirs. */
export interface Registry {
  /** The shared context store, as the first copy to need one resolved it. */
  context: unknown;
  /** The copy whose guard is live, if any. */
  owner: GuardOwner | null;
  /**
   * Finds the AI SDK modules the app can load (set by the server-runtime preload, never by the
   * core, whose bundle must hold no dynamic import).
   */
  discover?: (() => Promise<unknown[]>) | undefined;
  /**
   * Set by the preload where it sees every way the app reaches a built-in module; without it the
   * layers patch every built-in at once (a guard enabled in code).
   */
  builtins?: BuiltinWatch | undefined;
  /**
   * True only while the preload enables the guard, before any of the app's code has run: no
   * function or object the app holds predates the guard's, so a layer installing then may leave
   * out what only catches references taken earlier.
   */
  preloading?: boolean | undefined;
  /**
   * Set by Deno's preload: runs a synchronous load of one of the package's own modules with the
   * preload's resolve hook taken off for its duration (Deno's `require()` of an ES module cannot
   * resolve that module's imports while a resolve hook is registered).
   */
  ownModuleLoad?: (<T>(load: () => T) => T) | undefined;
  /** Messages said once per process. */
  readonly said: Set<string>;
  /**
   * Record outputs that may hold pending records (a live guard's, one still closing), in any
   * copy: written on every way out of the process. Present once the exit listeners are installed.
   */
  exitOutputs?: Set<ExitOutput>;
}

/** The `Symbol.for` name of the registry (code appended to SDK modules reaches it by name). */
export const REGISTRY_KEY = "@aiguard/attest.registry";
const KEY = Symbol.for(REGISTRY_KEY);

/** The registry of this process, created by the first copy that asks. */
export function registry(): Registry {
  const g = globalThis as Record<symbol, unknown>;
  let found = g[KEY] as Registry | undefined;
  if (found === undefined) {
    found = { context: null, owner: null, said: new Set() };
    Object.defineProperty(g, KEY, { value: found, configurable: true });
  }
  return found;
}

/** Compares two `x.y.z` versions numerically (pre-release tags ignored). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/, 3).map(Number);
  const pb = b.split(/[.+-]/, 3).map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d !== 0) return d;
  }
  return 0;
}
