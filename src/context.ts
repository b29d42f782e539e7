/**
 * The async context that carries the attested flag (and the guard's per-call marker) through awaits,
 * timers and promise chains.
 *
 * The store is resolved once, in order: an injected store, `globalThis.AsyncLocalStorage`,
 * `node:async_hooks` reached through `process.getBuiltinModule()`, then a synchronous shim that keeps
 * the flag only until the wrapped function returns (it warns once).
 *
 * @module
 */
import { registry } from "./registry.ts";
import { builtinModule } from "./runtime.ts";

/** The two operations the guard needs from an async context store (AsyncLocalStorage fits). */
export interface ContextStorage<T> {
  /** Runs `fn` with `store` as the current value, for everything `fn` starts. */
  run<R>(store: T, fn: () => R): R;
  /** The current value, or `undefined` outside any `run()`. */
  getStore(): T | undefined;
}

/** What an attested scope carries: the options given to `attest()`. */
export interface Attestation {
  /** The `id` given to attest(). */
  readonly id: string | null;
  /** The `reason` given to attest(). */
  readonly reason: string | null;
}

/** The marker an SDK-level hook leaves for the layers below it (see `detect/sdk.ts`). */
export interface CallMarker {
  /** Set once a record for this call was produced, so lower layers stay quiet. */
  recorded: boolean;
  /** Raw stack captured synchronously at the SDK method entry (Bun loses it after an await). */
  stack: string | undefined;
  /** Model read from the arguments at the SDK method entry, when the transport cannot see it. */
  model?: string | null;
  /**
   * What the SDK entry knows of the call (its provider, operation and target); a transport that
   * records the call under this marker uses them instead of its own.
   */
  entryFacts?: { provider: string; operation: string | null; target: string } | null;
  /**
   * Set on a framework run's marker (an agent run may make several AI calls): calls below use its
   * stack but are decided, and recorded, each on its own.
   */
  scope?: boolean;
  /** Ends the span of this call once response headers arrive; idempotent. */
  settle: ((error?: unknown) => void) | null;
}

/** One frame of context: the innermost attestation and the innermost SDK call marker. */
export interface Frame {
  /** The innermost attestation, `null` outside attested scopes. */
  readonly attestation: Attestation | null;
  /** The SDK call in progress, `null` outside SDK calls. */
  readonly call: CallMarker | null;
}

type AlsConstructor = new <T>() => ContextStorage<T>;

/** Where the context came from; the shim cannot follow async work. */
export type ContextKind = "injected" | "global" | "node:async_hooks" | "shim";

interface ResolveSources {
  injected?: ContextStorage<Frame> | null;
  globalAls?: unknown;
  builtin?: ((name: string) => unknown) | null;
  warn?: (message: string) => void;
}

/** A synchronous stand-in: correct for synchronous scopes, blind after the first `await`. */
export class SyncContextStorage<T> implements ContextStorage<T> {
  #current: T | undefined;
  run<R>(store: T, fn: () => R): R {
    const previous = this.#current;
    this.#current = store;
    try {
      return fn();
    } finally {
      this.#current = previous;
    }
  }
  getStore(): T | undefined {
    return this.#current;
  }
}

const SHIM_WARNING =
  "aiguard: this runtime has no AsyncLocalStorage; attest() scopes hold only until the wrapped " +
  "function returns or first awaits (enable nodejs_compat on workerd, or inject a store).";

/** Resolves the context store from the given sources, in the documented order. */
export function resolveContextStorage(
  sources: ResolveSources,
): { storage: ContextStorage<Frame>; kind: ContextKind } {
  if (sources.injected) return { storage: sources.injected, kind: "injected" };
  if (typeof sources.globalAls === "function") {
    return { storage: new (sources.globalAls as AlsConstructor)<Frame>(), kind: "global" };
  }
  const hooks = sources.builtin?.("node:async_hooks") as
    | { AsyncLocalStorage?: unknown }
    | undefined;
  if (typeof hooks?.AsyncLocalStorage === "function") {
    return {
      storage: new (hooks.AsyncLocalStorage as AlsConstructor)<Frame>(),
      kind: "node:async_hooks",
    };
  }
  const shim = new SyncContextStorage<Frame>();
  let warned = false;
  const warn = sources.warn ?? ((m: string) => console.warn(m));
  // Warn on first use, not at load: a worker that never attests should stay silent.
  const storage: ContextStorage<Frame> = {
    run(store, fn) {
      if (!warned) {
        warned = true;
        warn(SHIM_WARNING);
      }
      return shim.run(store, fn);
    },
    getStore: () => shim.getStore(),
  };
  return { storage, kind: "shim" };
}

function runtimeSources(): ResolveSources {
  return {
    globalAls: (globalThis as { AsyncLocalStorage?: unknown }).AsyncLocalStorage,
    builtin: builtinModule,
  };
}

type Resolved = { storage: ContextStorage<Frame>; kind: ContextKind };

// Kept in the process-wide registry: attest() of any copy of this package is seen by the guard of
// any other only if they share one store.
const shared = registry();

function current(): Resolved {
  return (shared.context ??= resolveContextStorage(runtimeSources())) as Resolved;
}

/**
 * Replaces the context store (for runtimes whose AsyncLocalStorage lives elsewhere): any object with
 * AsyncLocalStorage's `run()` and `getStore()`. Pass `null` to go back to automatic resolution.
 *
 * @example Inject an AsyncLocalStorage
 * ```ts
 * import { AsyncLocalStorage } from "node:async_hooks";
 * import { setContextStorage } from "@aiguard/attest";
 *
 * setContextStorage(new AsyncLocalStorage());
 * ```
 */
export function setContextStorage(storage: ContextStorage<unknown> | null): void {
  shared.context = storage ? { storage: storage as ContextStorage<Frame>, kind: "injected" } : null;
}

/** Which kind of context store is in use. */
export function contextKind(): ContextKind {
  return current().kind;
}

/** The current frame, or `undefined` outside every scope. */
export function currentFrame(): Frame | undefined {
  return current().storage.getStore();
}

/** Runs `fn` inside `frame`. */
export function runInFrame<R>(frame: Frame, fn: () => R): R {
  return current().storage.run(frame, fn);
}
