/**
 * The preload's {@link BuiltinWatch}: the moment the app first reaches a built-in module. Node,
 * Deno and Bun give an app three ways to one: `import` and `require()` (on Node and Deno both pass
 * the preload's resolve-only module hook; on Bun an import passes its plugin's resolver and a
 * require() `Module.prototype.require`; each reports the built-in here before the app gets it: an
 * ESM named import binds after that), and `process.getBuiltinModule()` (wrapped to report the
 * module before handing it back). Nothing here loads a built-in the app does not load.
 *
 * @module
 */
import type { BuiltinWatch } from "../registry.ts";

/** A {@link BuiltinWatch} the preload's hooks feed. */
export interface BuiltinReach extends BuiltinWatch {
  /** The app is about to get the built-in `id` (`http`, `node:http`); never throws. */
  reached(id: string): void;
}

interface NodeProcess {
  getBuiltinModule?: (id: string) => unknown;
  /** Node only: the built-ins loaded so far (`NativeModule http`), by anyone. */
  moduleLoadList?: readonly string[];
}

function nodeProcess(): NodeProcess | undefined {
  return (globalThis as { process?: NodeProcess }).process;
}

/**
 * A watch with nothing reached yet. A built-in Node has loaded already (before the preload ran, or
 * for its own use, like undici's `node:net`) counts as reached: patching it costs no load.
 *
 * @example
 * ```ts
 * import { createBuiltinWatch } from "./builtin_watch.ts";
 * const builtins = createBuiltinWatch();
 * builtins.watch("node:http2", () => console.log("the app loads node:http2"));
 * builtins.reached("http2");
 * ```
 */
export function createBuiltinWatch(): BuiltinReach {
  const seen = new Set<string>();
  const waiting = new Map<string, Set<() => void>>();
  const loaded = (name: string) =>
    nodeProcess()?.moduleLoadList?.includes(`NativeModule ${name.slice("node:".length)}`) ?? false;
  return {
    watch(name, reached) {
      if (seen.has(name) || loaded(name)) {
        reached();
        return () => {};
      }
      let fns = waiting.get(name);
      if (!fns) waiting.set(name, fns = new Set());
      const entry = () => reached(); // one entry per watch, even for the same function
      fns.add(entry);
      return () => fns.delete(entry);
    },
    reached(id) {
      const name = id.startsWith("node:") ? id : `node:${id}`;
      if (seen.has(name)) return;
      seen.add(name);
      const fns = waiting.get(name);
      if (!fns) return;
      waiting.delete(name);
      for (const fn of fns) {
        try {
          fn();
        } catch {
          // never into the app's module resolution
        }
      }
    },
  };
}

/**
 * Wraps `process.getBuiltinModule` so that a built-in the app gets through it is reported before
 * it is handed back (same module object, same errors, same name and arity). Returns whether it
 * could.
 *
 * @example
 * ```ts
 * import { createBuiltinWatch, watchGetBuiltinModule } from "./builtin_watch.ts";
 * watchGetBuiltinModule(createBuiltinWatch());
 * ```
 */
export function watchGetBuiltinModule(builtins: BuiltinReach): boolean {
  const proc = nodeProcess();
  const descriptor = proc && Object.getOwnPropertyDescriptor(proc, "getBuiltinModule");
  if (!descriptor?.configurable) return false;
  // Node's is a method, Deno's an accessor: either way the shape stays what it was.
  const original: unknown = descriptor.get ? descriptor.get.call(proc) : descriptor.value;
  if (typeof original !== "function") return false;
  const getBuiltinModule = function (this: unknown, ...args: unknown[]): unknown {
    const mod = Reflect.apply(original, this, args);
    if (mod !== undefined && typeof args[0] === "string") builtins.reached(args[0]);
    return mod;
  };
  Object.defineProperty(getBuiltinModule, "name", { value: original.name, configurable: true });
  Object.defineProperty(getBuiltinModule, "length", { value: original.length, configurable: true });
  if (descriptor.get) {
    let current: unknown = getBuiltinModule;
    Object.defineProperty(proc, "getBuiltinModule", {
      get: () => current,
      set: (value: unknown) => void (current = value),
      enumerable: descriptor.enumerable ?? false,
      configurable: true,
    });
  } else {Object.defineProperty(proc, "getBuiltinModule", {
      ...descriptor,
      value: getBuiltinModule,
    });}
  return true;
}
