/**
 * Load-time patching for the preload: instead of importing every supported SDK at start (seconds
 * and a hundred MiB with all of them installed), the guard is handed each SDK's entry module when
 * the app loads it, through the runtime's module hooks:
 * - Node ≥ 22.15 and Deno: `module.registerHooks()` (synchronous, in-thread). The entry's source
 *   gets one statement appended that passes its exports (ESM: its own namespace; CommonJS:
 *   `module.exports`) to the guard once it has run.
 * - Bun: a runtime plugin does the same for ESM entries. Bun's plugins cannot return CommonJS
 *   source, so SDKs whose entry Bun resolves to CommonJS are left to the transport layers (or to
 *   `clients`).
 * Nothing here imports an SDK.
 *
 * @module
 */
import { packageName, sdkOf } from "../catalog.ts";
import { REGISTRY_KEY } from "../registry.ts";
import { builtinModule, runtimeKey } from "../runtime.ts";

/** The `Symbol.for` name under which the appended statement hands an entry's exports over. */
const LOADED_KEY = "@aiguard/attest.loaded";

/** What the hooks cover: `hooks` (every entry), `esm-only` (Bun), or nothing. */
export type LoadHookKind = "hooks" | "esm-only" | "none";

interface RegisterHooks {
  (hooks: {
    resolve?: (
      specifier: string,
      context: unknown,
      next: (specifier: string, context?: unknown) => { url: string },
    ) => { url: string };
    load?: (
      url: string,
      context: unknown,
      next: (url: string, context?: unknown) => { format?: string | null; source?: unknown },
    ) => { format?: string | null; source?: unknown };
  }): unknown;
}

/** Whether a specifier is one of the packages' entries (`openai`, `npm:openai@^7`; no subpath). */
export function isEntrySpecifier(specifier: string, packages: ReadonlySet<string>): boolean {
  const name = packageName(specifier);
  const bare = specifier.startsWith("npm:") ? specifier.slice(4) : specifier;
  return packages.has(name) && (bare === name || bare.startsWith(`${name}@`));
}

const ESM_SYNTAX = /^\s*(?:import\s*[\w{*'"]|export\s)/m;

/**
 * The statements appended to an entry module: hand its exports over once it has run, and rebind
 * the AI functions it declares (`generateText`, …) to the live guard's entry wrapper, so their
 * call site is taken where the application calls them. A module's own bindings cannot be put back
 * from outside: after `disableGuard()` the wrappers pass straight through.
 */
export function handOff(url: string, esm: boolean, rebind: readonly string[] = []): string {
  const key = `globalThis[Symbol.for(${JSON.stringify(LOADED_KEY)})]`;
  const wrap = rebind.length
    ? `\n;{const __aiguard_wrap=globalThis[Symbol.for(${
      JSON.stringify(REGISTRY_KEY)
    })]?.owner?.wrapEntry;` +
      `if(__aiguard_wrap){${
        rebind.map((name) =>
          `try{if(typeof ${name}==="function")${name}=__aiguard_wrap(${name});}catch{}`
        ).join("")
      }}}`
    : "";
  return esm
    ? `${wrap}\n;import * as __aiguard_entry from ${
      JSON.stringify(url)
    };\n${key}?.(__aiguard_entry);\n`
    : `${wrap}\n;${key}?.(module.exports);\n`;
}

function sourceText(source: unknown): string | null {
  if (typeof source === "string") return source;
  if (source instanceof Uint8Array) return new TextDecoder().decode(source);
  if (source instanceof ArrayBuffer) return new TextDecoder().decode(new Uint8Array(source));
  return null;
}

function isEsm(url: string, format: string | null | undefined, text: string): boolean {
  if (format === "module") return true;
  if (format === "commonjs") return false;
  if (url.endsWith(".mjs")) return true;
  if (url.endsWith(".cjs")) return false;
  return ESM_SYNTAX.test(text); // Deno leaves the format to the loader
}

function installRegisterHooks(register: RegisterHooks, packages: ReadonlySet<string>): void {
  const entries = new Map<string, string>(); // entry url → package
  register({
    resolve(specifier, context, next) {
      const resolved = next(specifier, context);
      if (isEntrySpecifier(specifier, packages)) entries.set(resolved.url, packageName(specifier));
      return resolved;
    },
    load(url, context, next) {
      const loaded = next(url, context);
      const pkg = entries.get(url);
      if (pkg === undefined) return loaded;
      const text = sourceText(loaded.source);
      if (text === null) return loaded;
      const esm = isEsm(url, loaded.format, text);
      return { ...loaded, source: text + handOff(url, esm, esm ? aiFunctions(pkg) : []) };
    },
  });
}

/** The AI functions an SDK entry declares, which the preload rebinds (ESM entries only). */
function aiFunctions(pkg: string): string[] {
  return Object.keys(sdkOf(pkg)?.functions ?? {});
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

function installBunPlugin(bun: BunLike, packages: ReadonlySet<string>): boolean {
  const fs = builtinModule<{ readFileSync(path: string, encoding: "utf8"): string }>("node:fs");
  const cwd = (globalThis as { process?: { cwd(): string } }).process?.cwd();
  if (!fs || !cwd) return false;
  // Only ESM entries: a CommonJS entry cannot come back through a Bun plugin at all.
  const entries = new Map<string, string>(); // entry path → package
  for (const name of packages) {
    try {
      const path = bun.resolveSync(name, `${cwd}/`);
      if (isEsm(path, null, fs.readFileSync(path, "utf8"))) entries.set(path, name);
    } catch {
      // not installed
    }
  }
  if (entries.size === 0) return true;
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const filter = new RegExp(`^(?:${[...entries.keys()].map(escape).join("|")})$`);
  bun.plugin({
    name: "@aiguard/attest",
    setup(build) {
      build.onLoad({ filter }, ({ path }) => ({
        contents: fs.readFileSync(path, "utf8") +
          handOff(path, true, aiFunctions(entries.get(path)!)),
        loader: "js",
      }));
    },
  });
  return true;
}

/**
 * Installs the hooks; `onLoaded` receives each SDK entry's exports as the app loads it. Returns
 * what the runtime allowed.
 */
export function installLoadHooks(
  packages: readonly string[],
  onLoaded: (exports: unknown) => void,
): LoadHookKind {
  const wanted = new Set(packages);
  const register = builtinModule<{ registerHooks?: RegisterHooks }>("node:module")?.registerHooks;
  const bun = (globalThis as { Bun?: BunLike }).Bun;
  let kind: LoadHookKind = "none";
  if (typeof register === "function" && runtimeKey() !== "bun") {
    installRegisterHooks(register, wanted);
    kind = "hooks";
  } else if (bun && typeof bun.plugin === "function" && installBunPlugin(bun, wanted)) {
    kind = "esm-only";
  }
  if (kind !== "none") {
    Object.defineProperty(globalThis, Symbol.for(LOADED_KEY), {
      value: (exports: unknown) => {
        try {
          onLoaded(exports);
        } catch {
          // never into the app's module evaluation
        }
      },
      configurable: true,
    });
  }
  return kind;
}
