/**
 * How the preload hands the guard each AI SDK as the app loads it, without importing any SDK and
 * without changing how any module loads. Load hooks are not safe for that: a pass-through `load`
 * hook alone changes how CommonJS loads on Node (`require(esm)` chains, extensionless files in
 * `"type": "module"` packages, `require.extensions`) and makes Deno compile JSON and `.node` addons
 * as JavaScript. So, per runtime:
 * - Node ≥ 22.15 and Deno: a resolve-only `module.registerHooks()` hook. Every specifier resolves
 *   as it would; only an `import` of an SDK's entry (`import "openai"`) is pointed at a small
 *   `data:` module that imports the real entry, re-exports all of it, and hands its namespace to
 *   the guard before the importer's body runs. `require()` of an entry is left alone and seen
 *   through the `module.require` tracing channel, which reports each required module's exports.
 * - Bun: a runtime plugin appends the hand-off to SDK entries that are ESM. CommonJS entries are
 *   seen through `Module.prototype.require`, which every CommonJS `require()` runs on Bun (see
 *   `wrapBunRequire`): Bun's plugins cannot give a CommonJS module back.
 * Nothing here imports an SDK.
 *
 * @module
 */
import { packageName, sdkOf } from "../catalog.ts";
import { registry, REGISTRY_KEY } from "../registry.ts";
import { builtinModule, runtimeKey } from "../runtime.ts";

/** The `Symbol.for` name under which the hand-off reaches the guard with an entry's exports. */
const LOADED_KEY = "@aiguard/attest.loaded";

/**
 * What the hooks cover: `resolve` (Node, Deno: every entry), `bun` (ESM entries, and CommonJS
 * entries reached by `require()`), or nothing.
 */
export type EntryHookKind = "resolve" | "bun" | "none";

type ResolveResult = { url: string; format?: string | null };
interface ResolveHooks {
  resolve(
    specifier: string,
    context: { conditions?: readonly string[] },
    next: (specifier: string, context?: unknown) => ResolveResult,
  ): ResolveResult;
}
interface RegisterHooks {
  (hooks: ResolveHooks): { deregister?(): void } | undefined;
}

interface TracingChannel {
  subscribe(handlers: Record<string, (message: never) => void>): void;
}

interface NodeFs {
  readFileSync(path: string | URL, encoding: "utf8"): string;
  existsSync(path: string): boolean;
}

/** Whether a specifier is one of the packages' entries (`openai`, `npm:openai@^7`; no subpath). */
function isEntrySpecifier(specifier: string, packages: ReadonlySet<string>): boolean {
  const name = packageName(specifier);
  const bare = specifier.startsWith("npm:") ? specifier.slice(4) : specifier;
  return packages.has(name) && (bare === name || bare.startsWith(`${name}@`));
}

const ESM_SYNTAX = /^\s*(?:import\s*[\w{*'"]|export\s)/m;
// Every way an ES module can export `default`. A false positive (the text in a comment) only adds
// a `default` of `undefined`; a miss would be a link error, so the pattern errs on the wide side.
const DEFAULT_EXPORT =
  /\bexport\s+default\b|\bas\s+(?:default|"default"|'default')\s*(?:[,}]|from\b)|[{,]\s*default\s*[,}]/;

function isEsm(url: string, format: string | null | undefined, text: string): boolean {
  if (format === "module") return true;
  if (format === "commonjs") return false;
  if (url.endsWith(".mjs")) return true;
  if (url.endsWith(".cjs")) return false;
  return ESM_SYNTAX.test(text); // Deno and Node's syntax detection leave the format open
}

const HAND_OFF = `globalThis[Symbol.for(${JSON.stringify(LOADED_KEY)})]?.(__aiguard_ns);`;

/**
 * The AI functions an SDK entry exports (`generateText`, …), re-exported through the live guard's
 * entry wrapper so their call site is taken where the application calls them. After
 * `disableGuard()` the wrappers pass straight through.
 */
function rebound(names: readonly string[]): string {
  if (names.length === 0) return "";
  const wrap = `globalThis[Symbol.for(${JSON.stringify(REGISTRY_KEY)})]?.owner?.wrapEntry`;
  return `const __aiguard_wrap=${wrap};\n` +
    names.map((name) =>
      `export const ${name}=typeof __aiguard_wrap==="function"&&typeof __aiguard_ns.${name}===` +
      `"function"?__aiguard_wrap(__aiguard_ns.${name}):__aiguard_ns.${name};\n`
    ).join("");
}

/**
 * The module an `import` of an SDK entry is pointed at: it re-exports every export of the real
 * entry (a local export shadows `export *` only for the rebound AI functions) and hands the real
 * namespace over once the entry has run, before the importer's body.
 */
function entryWrapper(
  url: string,
  source: { esm: boolean; text: string },
  functions: readonly string[] = [],
): string {
  const real = JSON.stringify(url);
  // A CommonJS module always has `default` (its `module.exports`); an ES module only if it says so.
  const defaultExport = !source.esm
    ? `export { default } from ${real};\n`
    : DEFAULT_EXPORT.test(source.text)
    ? "export default __aiguard_ns.default;\n"
    : "";
  const own = functions.filter((name) => new RegExp(`\\b${name}\\b`).test(source.text));
  return `import * as __aiguard_ns from ${real};\nexport * from ${real};\n${defaultExport}` +
    `try{${HAND_OFF}}catch{}\n${rebound(own)}`;
}

/** The AI functions an SDK entry declares, which the preload rebinds (ESM entries only). */
function aiFunctions(pkg: string): string[] {
  return Object.keys(sdkOf(pkg)?.functions ?? {});
}

function installResolveHook(
  register: RegisterHooks,
  fs: NodeFs,
  packages: ReadonlySet<string>,
  onBuiltin: (url: string) => void,
): void {
  const wrappers = new Map<string, string>(); // real entry url → wrapper url (one module each)
  const hooks: ResolveHooks = {
    resolve(specifier, context, next) {
      const resolved = next(specifier, context);
      if (resolved.url.startsWith("node:")) {
        onBuiltin(resolved.url);
        return resolved;
      }
      if (
        !isEntrySpecifier(specifier, packages) || context.conditions?.includes("require") ||
        !resolved.url.startsWith("file:")
      ) return resolved;
      let wrapper = wrappers.get(resolved.url);
      if (wrapper === undefined) {
        try {
          const text = fs.readFileSync(new URL(resolved.url), "utf8");
          const esm = isEsm(resolved.url, resolved.format, text);
          const source = entryWrapper(
            resolved.url,
            { esm, text },
            esm ? aiFunctions(packageName(specifier)) : [],
          );
          wrapper = `data:text/javascript,${encodeURIComponent(source)}`;
        } catch {
          wrapper = ""; // unreadable: the entry loads as it is, the transport layers still see it
        }
        wrappers.set(resolved.url, wrapper);
      }
      return wrapper ? { ...resolved, url: wrapper, format: "module" } : resolved;
    },
  };
  let handle = register(hooks);
  if (runtimeKey() !== "deno" || typeof handle?.deregister !== "function") return;
  // Deno's require() of an ES module fails to resolve that module's imports while a resolve hook
  // is registered: the package's own modules loaded on demand (src/guard/parts.ts, the file
  // storage on an exit path) are loaded with the hook off. Registered again, it comes first in
  // the chain (before a hook the app registered after the preload); each still calls the next.
  registry().ownModuleLoad = <T>(load: () => T): T => {
    handle?.deregister?.();
    try {
      return load();
    } finally {
      handle = register(hooks);
    }
  };
}

/** `require()` of an entry: its exports, as the `module.require` tracing channel reports them. */
function subscribeRequire(hand: (exports: unknown) => void, packages: ReadonlySet<string>): void {
  const dc = builtinModule<{ tracingChannel?(name: string): TracingChannel }>(
    "node:diagnostics_channel",
  );
  try {
    dc?.tracingChannel?.("module.require").subscribe({
      end(message: { id?: unknown; result?: unknown }) {
        if (typeof message.id === "string" && isEntrySpecifier(message.id, packages)) {
          hand(message.result);
        }
      },
    });
  } catch {
    // a runtime without the channel: required entries are left to the transport layers
  }
}

interface BunLike {
  plugin(plugin: {
    name: string;
    setup(build: {
      onLoad(
        options: { filter: RegExp },
        fn: (args: { path: string }) => { contents: string; loader: "js" },
      ): void;
      onResolve(
        options: { filter: RegExp; namespace: string },
        fn: (args: { path: string }) => undefined,
      ): void;
    }): void;
  }): void;
  resolveSync(specifier: string, from: string): string;
}

/**
 * Whether the entry declares `name` with a binding Bun's rebinding may assign to: a function
 * declaration, `var` or `let`, and nothing that binds it as a constant or an import. Bun refuses
 * to load a module that assigns to a constant (a compile-time error, which no `try` catches), so
 * a name the entry declares `const` (as the ai SDK does `experimental_transcribe`) keeps its own
 * binding; its calls are still seen by the layers below, without the application's call site.
 */
function reassignable(name: string, text: string): boolean {
  const id = name.replace(/\$/g, "\\$");
  const declared = new RegExp(
    `(?:^|[\\s;{}()])(?:(?:async\\s+)?function\\s*\\*?\\s*${id}\\s*\\(|(?:var|let)\\s+${id}(?![\\w$]))`,
    "m",
  );
  const fixed = new RegExp(`\\b(?:const|import)\\b[^;=]*?[\\s{,]${id}(?![\\w$])`);
  return declared.test(text) && !fixed.test(text);
}

/** Appended to an ESM entry by Bun's plugin: the same hand-off, from inside the entry. */
function bunHandOff(url: string, functions: readonly string[] = []): string {
  const wrap = functions.length
    ? `\n;{const __aiguard_wrap=globalThis[Symbol.for(${
      JSON.stringify(REGISTRY_KEY)
    })]?.owner?.wrapEntry;` +
      `if(__aiguard_wrap){${
        functions.map((name) =>
          `try{if(typeof ${name}==="function")${name}=__aiguard_wrap(${name});}catch{}`
        ).join("")
      }}}`
    : "";
  return `${wrap}\n;import * as __aiguard_ns from ${
    JSON.stringify(url)
  };\ntry{${HAND_OFF}}catch{}\n`;
}

/**
 * Whether a file Bun resolved is an ES module, reading as little as it can: the extension, then
 * the nearest `package.json`'s `type`, and only then the file (an SDK bundle can be a few MiB).
 */
function isEsmFile(fs: NodeFs, path: string): boolean {
  if (path.endsWith(".mjs")) return true;
  if (path.endsWith(".cjs")) return false;
  for (let dir = path.slice(0, path.lastIndexOf("/")); dir.includes("/");) {
    try {
      if (JSON.parse(fs.readFileSync(`${dir}/package.json`, "utf8")).type === "module") return true;
      break;
    } catch {
      dir = dir.slice(0, dir.lastIndexOf("/"));
    }
  }
  return isEsm(path, null, fs.readFileSync(path, "utf8")); // Bun also reads ESM syntax in .js
}

/**
 * Whether a `node_modules` directory is in `dir` or above. Where none is, Bun auto-installs a
 * package it is asked to resolve (from the registry, at start): the preload then resolves nothing,
 * and an SDK the app has Bun install is seen by the transport layers only.
 */
function underNodeModules(fs: NodeFs, dir: string): boolean {
  for (let at = dir;;) {
    if (fs.existsSync(`${at}/node_modules`)) return true;
    const up = at.slice(0, Math.max(at.lastIndexOf("/"), at.lastIndexOf("\\")));
    if (up === at || at === "") return false;
    at = up;
  }
}

/** The packages' entries as Bun resolves them from the working directory, split by format. */
function bunEntries(bun: BunLike, fs: NodeFs, packages: ReadonlySet<string>) {
  const esm = new Map<string, string>(); // entry path → package
  const cjs = new Map<string, string>();
  const cwd = (globalThis as { process?: { cwd(): string } }).process?.cwd();
  if (!cwd || !underNodeModules(fs, cwd)) return { esm, cjs };
  for (const name of packages) {
    try {
      const path = bun.resolveSync(name, `${cwd}/`);
      (isEsmFile(fs, path) ? esm : cjs).set(path, name);
    } catch {
      // not installed
    }
  }
  return { esm, cjs };
}

/**
 * Bun's plugin: the hand-off appended to the ESM entries, and each built-in an `import` (static or
 * dynamic) reaches reported before Bun links it (Bun resolves built-ins in its `node` namespace and
 * asks the plugin first; returning nothing leaves the resolution as it was), so a named import
 * binds the patched function.
 */
function installBunPlugin(
  bun: BunLike,
  fs: NodeFs,
  entries: ReadonlyMap<string, string>,
  onBuiltin: (id: string) => void,
): void {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const filter = new RegExp(`^(?:${[...entries.keys()].map(escape).join("|")})$`);
  bun.plugin({
    name: "@aiguard/attest",
    setup(build) {
      build.onResolve({ filter: /^/, namespace: "node" }, ({ path }) => {
        onBuiltin(path);
        return undefined;
      });
      if (entries.size === 0) return;
      build.onLoad({ filter }, ({ path }) => {
        const text = fs.readFileSync(path, "utf8");
        const names = aiFunctions(entries.get(path)!).filter((name) => reassignable(name, text));
        return { contents: text + bunHandOff(path, names), loader: "js" };
      });
    },
  });
}

interface CjsModule {
  filename?: string;
  exports?: unknown;
}

/**
 * Sets a one-shot trap for each client class a CommonJS entry assigns to `exports` by name
 * (`exports.BedrockRuntimeClient = …`, after its last `require()`): the assignment stores a plain
 * data property, as it would without the trap, and hands the class over. The traps sit on a
 * prototype put between `exports` and its own, not on `exports`: a name bound by `__exportStar`
 * (`if (!exports.hasOwnProperty(p)) …`, openai 3.x's `OpenAIApi`) is not taken for one the entry
 * already has, and keys, `in` and reads answer as without them. The prototype is put back once the
 * entry's evaluation is over.
 */
function trapExports(exports: object, names: readonly string[], hand: (v: unknown) => void): void {
  const own = names.filter((name) => !Object.prototype.hasOwnProperty.call(exports, name));
  if (own.length === 0) return;
  const original = Object.getPrototypeOf(exports) as object | null;
  const traps = Object.create(original) as object;
  for (const name of own) {
    Object.defineProperty(traps, name, {
      configurable: true,
      enumerable: false,
      get(this: object) {
        return original === null ? undefined : Reflect.get(original, name, this);
      },
      set(this: object, value: unknown) {
        Object.defineProperty(this, name, {
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
        if (this === exports) hand({ [name]: value });
      },
    });
  }
  if (!Reflect.setPrototypeOf(exports, traps)) return;
  queueMicrotask(() => {
    if (Object.getPrototypeOf(exports) === traps) Reflect.setPrototypeOf(exports, original);
  });
}

/**
 * Bun has no `module.require` channel, and its plugins cannot give a CommonJS module back (their
 * source is read as ESM; `loader: "object"` loses `default`). `Module.prototype.require` is what
 * every CommonJS module's `require()` runs, also when the app `import`s the entry: it hands over
 * what an entry's own `require()` calls return (cohere-ai defines its clients in `./Client`), the
 * classes an entry assigns to `exports` itself (the Bedrock client's single-file bundle), and an
 * entry's exports when the app `require()`s it.
 */
function wrapBunRequire(
  hand: (exports: unknown) => void,
  packages: ReadonlySet<string>,
  cjsEntries: ReadonlyMap<string, string>,
  onBuiltin: (id: string) => void,
): void {
  const Module = builtinModule<{
    prototype: { require(this: unknown, id: string): unknown };
    builtinModules?: readonly string[];
  }>("node:module");
  const original = Module?.prototype.require;
  if (!Module || typeof original !== "function") return;
  const builtins = new Set(Module.builtinModules ?? []);
  const trapped = new WeakSet<object>();
  const require = function (this: unknown, id: string, ...rest: unknown[]): unknown {
    // Every require() of a built-in too (CommonJS, createRequire, import.meta.require): reported
    // before the module is handed back.
    if (typeof id === "string" && builtins.has(id.startsWith("node:") ? id.slice(5) : id)) {
      onBuiltin(id);
    }
    const from = this as CjsModule | undefined;
    const pkg = typeof from?.filename === "string" ? cjsEntries.get(from.filename) : undefined;
    const exports = from?.exports;
    if (
      pkg !== undefined && exports !== null && typeof exports === "object" && !trapped.has(exports)
    ) {
      trapped.add(exports);
      try {
        trapExports(exports, Object.keys(sdkOf(pkg)?.clients ?? {}), hand);
      } catch {
        // a frozen or exotic exports object: left to the transport layers
      }
    }
    const result = Reflect.apply(original, this, [id, ...rest]);
    if (pkg !== undefined || (typeof id === "string" && isEntrySpecifier(id, packages))) {
      hand(result);
    }
    return result;
  };
  Object.defineProperty(require, "name", { value: original.name, configurable: true });
  Module.prototype.require = require;
}

/**
 * Installs the hooks; `onLoaded` receives each SDK entry's exports (or namespace) as the app
 * loads it, and `onBuiltin` the specifier of each built-in module the app imports or requires
 * (`node:http`, `http`), before the app gets it. Returns what the runtime allowed.
 *
 * @example Hand each SDK the app loads to the live guard
 * ```ts
 * import { installEntryHooks } from "./entry_hooks.ts";
 * installEntryHooks(["openai"], (exports) => console.log(Object.keys(exports as object)));
 * ```
 */
export function installEntryHooks(
  packages: readonly string[],
  onLoaded: (exports: unknown) => void,
  onBuiltin: (url: string) => void = () => {},
): EntryHookKind {
  const wanted = new Set(packages);
  const register = builtinModule<{ registerHooks?: RegisterHooks }>("node:module")?.registerHooks;
  const bun = (globalThis as { Bun?: BunLike }).Bun;
  // A cached module is required again and again: each exports object is handed over once.
  const handed = new WeakSet<object>();
  const hand = (exports: unknown) => {
    if (exports === null || (typeof exports !== "object" && typeof exports !== "function")) return;
    if (handed.has(exports)) return;
    handed.add(exports);
    try {
      onLoaded(exports);
    } catch {
      // never into the app's module evaluation
    }
  };
  let kind: EntryHookKind = "none";
  if (runtimeKey() === "bun" && bun && typeof bun.plugin === "function") {
    const fs = builtinModule<NodeFs>("node:fs");
    if (!fs) return kind;
    const entries = bunEntries(bun, fs, wanted);
    installBunPlugin(bun, fs, entries.esm, onBuiltin);
    wrapBunRequire(hand, wanted, entries.cjs, onBuiltin);
    kind = "bun";
  } else if (typeof register === "function") {
    // node:fs only once an SDK entry resolves (loading it costs Deno milliseconds at start).
    const fs: NodeFs = {
      readFileSync: (path, encoding) =>
        builtinModule<NodeFs>("node:fs")!.readFileSync(path, encoding),
      existsSync: (path) => builtinModule<NodeFs>("node:fs")!.existsSync(path),
    };
    installResolveHook(register, fs, wanted, onBuiltin);
    subscribeRequire(hand, wanted);
    kind = "resolve";
  }
  if (kind !== "none") {
    Object.defineProperty(globalThis, Symbol.for(LOADED_KEY), { value: hand, configurable: true });
  }
  return kind;
}
