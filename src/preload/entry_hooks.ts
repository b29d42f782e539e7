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
 * - Bun: a runtime plugin appends the hand-off to SDK entries that are ESM; `require()` of a
 *   CommonJS entry is seen by wrapping `Module.prototype.require`. Bun's plugins cannot give a
 *   CommonJS module back (their source is read as ESM; `loader: "object"` loses `default`), so an
 *   ESM `import` of a CommonJS-only entry is left to the transport layers.
 * Nothing here imports an SDK.
 *
 * @module
 */
import { packageName, sdkOf } from "../catalog.ts";
import { REGISTRY_KEY } from "../registry.ts";
import { builtinModule, runtimeKey } from "../runtime.ts";

/** The `Symbol.for` name under which the hand-off reaches the guard with an entry's exports. */
const LOADED_KEY = "@aiguard/attest.loaded";

/**
 * What the hooks cover: `resolve` (Node, Deno: every entry), `bun` (ESM entries, and CommonJS
 * entries reached by `require()`), or nothing.
 */
export type EntryHookKind = "resolve" | "bun" | "none";

type ResolveResult = { url: string; format?: string | null };
interface RegisterHooks {
  (hooks: {
    resolve(
      specifier: string,
      context: { conditions?: readonly string[] },
      next: (specifier: string, context?: unknown) => ResolveResult,
    ): ResolveResult;
  }): unknown;
}

interface TracingChannel {
  subscribe(handlers: Record<string, (message: never) => void>): void;
}

interface NodeFs {
  readFileSync(path: string | URL, encoding: "utf8"): string;
}

/** Whether a specifier is one of the packages' entries (`openai`, `npm:openai@^7`; no subpath). */
export function isEntrySpecifier(specifier: string, packages: ReadonlySet<string>): boolean {
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
export function entryWrapper(
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
): void {
  const wrappers = new Map<string, string>(); // real entry url → wrapper url (one module each)
  register({
    resolve(specifier, context, next) {
      const resolved = next(specifier, context);
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
  });
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
    }): void;
  }): void;
  resolveSync(specifier: string, from: string): string;
}

/** Appended to an ESM entry by Bun's plugin: the same hand-off, from inside the entry. */
export function bunHandOff(url: string, functions: readonly string[] = []): string {
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

function installBunPlugin(bun: BunLike, fs: NodeFs, packages: ReadonlySet<string>): void {
  const cwd = (globalThis as { process?: { cwd(): string } }).process?.cwd();
  if (!cwd) return;
  const entries = new Map<string, string>(); // ESM entry path → package
  for (const name of packages) {
    try {
      const path = bun.resolveSync(name, `${cwd}/`);
      if (isEsm(path, null, fs.readFileSync(path, "utf8"))) entries.set(path, name);
    } catch {
      // not installed
    }
  }
  if (entries.size === 0) return;
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const filter = new RegExp(`^(?:${[...entries.keys()].map(escape).join("|")})$`);
  bun.plugin({
    name: "@aiguard/attest",
    setup(build) {
      build.onLoad({ filter }, ({ path }) => ({
        contents: fs.readFileSync(path, "utf8") + bunHandOff(path, aiFunctions(entries.get(path)!)),
        loader: "js",
      }));
    },
  });
}

/**
 * Bun has no `module.require` channel: `require()` of an entry is seen by wrapping
 * `Module.prototype.require`, which hands the exports over after the original returns them.
 */
function wrapBunRequire(hand: (exports: unknown) => void, packages: ReadonlySet<string>): void {
  const Module = builtinModule<{ prototype: { require(this: unknown, id: string): unknown } }>(
    "node:module",
  );
  const original = Module?.prototype.require;
  if (!Module || typeof original !== "function") return;
  const require = function (this: unknown, id: string, ...rest: unknown[]): unknown {
    const exports = Reflect.apply(original, this, [id, ...rest]);
    if (typeof id === "string" && isEntrySpecifier(id, packages)) hand(exports);
    return exports;
  };
  Object.defineProperty(require, "name", { value: original.name, configurable: true });
  Module.prototype.require = require;
}

/**
 * Installs the hooks; `onLoaded` receives each SDK entry's exports (or namespace) as the app
 * loads it. Returns what the runtime allowed.
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
): EntryHookKind {
  const wanted = new Set(packages);
  const register = builtinModule<{ registerHooks?: RegisterHooks }>("node:module")?.registerHooks;
  const fs = builtinModule<NodeFs>("node:fs");
  const bun = (globalThis as { Bun?: BunLike }).Bun;
  const hand = (exports: unknown) => {
    try {
      onLoaded(exports);
    } catch {
      // never into the app's module evaluation
    }
  };
  let kind: EntryHookKind = "none";
  if (!fs) return kind;
  if (runtimeKey() === "bun" && bun && typeof bun.plugin === "function") {
    installBunPlugin(bun, fs, wanted);
    wrapBunRequire(hand, wanted);
    kind = "bun";
  } else if (typeof register === "function") {
    installResolveHook(register, fs, wanted);
    subscribeRequire(hand, wanted);
    kind = "resolve";
  }
  if (kind !== "none") {
    Object.defineProperty(globalThis, Symbol.for(LOADED_KEY), { value: hand, configurable: true });
  }
  return kind;
}
