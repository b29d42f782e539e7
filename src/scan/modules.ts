/**
 * Which scanned file an import names: relative specifiers, `package.json` `imports` (`#x`),
 * tsconfig `paths` and `baseUrl` (`@/app/constant`), and workspace packages of the scanned tree
 * (`@acme/fetch` → `packages/fetch/src/index.ts`), with the extensions TypeScript tries
 * (`./a.js` → `./a.ts`). A copy of this package resolves to `"aiguard"`.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { stripJsonc } from "../config_file.ts";
import { ownText } from "./values.ts";

const EXTENSIONS = [".ts", ".tsx", ".mts", ".js", ".jsx", ".mjs", ".cts", ".cjs"];
const SOURCE_DIRS = ["src", "lib", "source"];

interface TsPaths {
  /** Where `paths` targets and `baseUrl` imports are relative to. */
  base: string;
  /** `suffix` is `null` for a key without `*` (the specifier must equal it). */
  paths: Array<[prefix: string, suffix: string | null, targets: string[]]>;
  baseUrl: boolean;
}

// deno-lint-ignore no-explicit-any
type Json = any;

function readJson(path: string, jsonc = false): Json | undefined {
  try {
    const text = readFileSync(path, "utf8");
    return JSON.parse(jsonc ? stripJsonc(text) : text);
  } catch {
    return undefined; // no such file, or not JSON: as if absent
  }
}

/** Resolves the imports of scanned files to other scanned files. */
export class ModuleResolver {
  private readonly tsconfigs = new Map<string, TsPaths | null>();
  private readonly manifests = new Map<string, Json | null>();
  /** Workspace packages found in the scanned tree: name → folder. */
  private readonly packages = new Map<string, string>();
  /**
   * Answers by folder, then specifier: the files of a folder import much the same modules. One
   * map per folder: a key of folder and specifier together held the folder's path once per answer
   * (1.5 of the 4.9 MiB this resolver held on the 1.57M-line SDK tree).
   */
  private readonly answers = new Map<string, Map<string, string | null>>();

  /**
   * @param files The scanned files (absolute paths).
   * @param manifests The `package.json` files of the scanned tree (workspace packages).
   * @param isAiguard Whether a path lies in a copy of this package.
   * @param intern The one copy of a text the caller keeps (the scan's summaries name modules by
   * the same paths the answers give); default the text itself.
   */
  private readonly files: ReadonlySet<string>;
  private readonly isAiguard: (path: string) => boolean;
  private readonly intern: (text: string) => string;

  /** A resolver over the scanned files. */
  constructor(
    files: ReadonlySet<string>,
    manifests: readonly string[],
    isAiguard: (path: string) => boolean,
    intern: (text: string) => string = (text) => text,
  ) {
    this.files = files;
    this.isAiguard = isAiguard;
    this.intern = intern;
    for (const m of manifests) {
      const name = readJson(m)?.name;
      if (typeof name === "string" && !this.packages.has(name)) this.packages.set(name, dirname(m));
    }
  }

  /** The scanned file (or `"aiguard"`) `specifier` names from `from`, or `null`. */
  resolve(from: string, specifier: string): string | null {
    const dir = dirname(from);
    let byDir = this.answers.get(dir);
    if (byDir === undefined) this.answers.set(ownText(dir), byDir = new Map());
    let answer = byDir.get(specifier);
    if (answer === undefined) {
      const found = this.resolveFrom(dir, specifier);
      // A path built by concatenation: flattened into a copy of its own before it is kept.
      answer = found === null ? null : this.intern(ownText(found));
      // The specifier is a slice of the importer's source: a key holding it kept every source
      // that imports anything alive until the scan ended (22 MiB of 1.5M lines).
      byDir.set(ownText(specifier), answer);
    }
    return answer;
  }

  /** {@link resolve}: everything but the file's folder is the same for its neighbours. */
  private resolveFrom(dir: string, specifier: string): string | null {
    if (specifier.startsWith(".")) {
      const base = resolve(dir, specifier);
      // This package by a relative path (a monorepo, its own examples): its attest and wrap, even
      // when the scan reads its files too.
      if (this.isAiguard(base)) return "aiguard";
      return this.file(base);
    }
    if (specifier.startsWith("#")) return this.packageImport(dir, specifier);
    if (/^[a-z]+:/i.test(specifier)) return null; // node:, npm:, jsr:, https:
    const ts = this.tsconfigFor(dir);
    if (ts) {
      for (const [prefix, suffix, targets] of ts.paths) {
        if (suffix === null ? specifier !== prefix : !specifier.startsWith(prefix)) continue;
        if (suffix !== null && !specifier.endsWith(suffix)) continue;
        if (specifier.length < prefix.length + (suffix?.length ?? 0)) continue;
        const star = specifier.slice(prefix.length, specifier.length - (suffix?.length ?? 0));
        for (const t of targets) {
          const found = this.file(resolve(ts.base, t.replace("*", star)));
          if (found) return found;
        }
      }
      if (ts.baseUrl) {
        const found = this.file(resolve(ts.base, specifier));
        if (found) return found;
      }
    }
    return this.workspacePackage(specifier);
  }

  /** The scanned file at `base`, trying TypeScript's extensions and `index` files. */
  private file(base: string): string | null {
    if (this.files.has(base)) return base;
    for (const e of EXTENSIONS) if (this.files.has(base + e)) return base + e;
    const js = /\.([cm]?)jsx?$/.exec(base);
    if (js) {
      const stem = base.slice(0, -js[0].length);
      for (const e of [`.${js[1]}ts`, ".tsx", ".ts"]) if (this.files.has(stem + e)) return stem + e;
    }
    for (const e of EXTENSIONS) {
      const index = join(base, `index${e}`);
      if (this.files.has(index)) return index;
    }
    return null;
  }

  /** The `package.json` of a folder, read once. */
  private manifest(dir: string): Json | null {
    let m = this.manifests.get(dir);
    if (m === undefined) {
      m = readJson(join(dir, "package.json")) ?? null;
      this.manifests.set(dir, m);
    }
    return m;
  }

  /** `#alias` through the nearest `package.json` `imports`. */
  private packageImport(folder: string, specifier: string): string | null {
    for (let dir = folder, i = 0; i < 32; i++) {
      const imports = this.manifest(dir)?.imports;
      if (imports && typeof imports === "object") {
        for (const [key, target] of Object.entries(imports)) {
          const star = key.indexOf("*");
          const match = star === -1
            ? key === specifier ? "" : null
            : specifier.startsWith(key.slice(0, star)) && specifier.endsWith(key.slice(star + 1))
            ? specifier.slice(star, specifier.length - (key.length - star - 1))
            : null;
          if (match === null) continue;
          for (const t of targetsOf(target)) {
            const found = this.file(resolve(dir, t.replace("*", match)));
            if (found) return found;
          }
        }
        return null;
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
    return null;
  }

  /** A package of the scanned tree imported by name: its source entry. */
  private workspacePackage(specifier: string): string | null {
    const parts = specifier.split("/");
    const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
    const dir = this.packages.get(name);
    if (!dir) return null;
    const sub = specifier.slice(name.length + 1);
    if (sub) {
      for (const d of ["", ...SOURCE_DIRS]) {
        const found = this.file(join(dir, d, sub));
        if (found) return found;
      }
      return null;
    }
    const m = this.manifest(dir) ?? {};
    const entries = [m.source, m.module, m.main, m.types].filter((e) => typeof e === "string");
    for (const e of entries as string[]) {
      // A built entry (`dist/index.js`) is not scanned: its source usually is (`src/index.ts`).
      for (const candidate of [e, e.replace(/^(?:\.\/)?(?:dist|build|lib|out)\//, "src/")]) {
        const found = this.file(join(dir, candidate.replace(/\.d\.ts$/, "")));
        if (found) return found;
      }
    }
    for (const d of SOURCE_DIRS) {
      const found = this.file(join(dir, d, "index"));
      if (found) return found;
    }
    return this.file(join(dir, "index"));
  }

  /** The `paths` of the nearest tsconfig (or jsconfig), read once per folder. */
  private tsconfigFor(dir: string): TsPaths | null {
    const seen: string[] = [];
    let found: TsPaths | null | undefined;
    for (let d = dir, i = 0; i < 32; i++) {
      found = this.tsconfigs.get(d);
      if (found !== undefined) break;
      seen.push(d);
      const config = readJson(join(d, "tsconfig.json"), true) ??
        readJson(join(d, "jsconfig.json"), true);
      if (config) {
        found = pathsOf(config, d);
        break;
      }
      const parent = dirname(d);
      if (parent === d) {
        found = null;
        break;
      }
      d = parent;
    }
    for (const d of seen) this.tsconfigs.set(d, found ?? null);
    return found ?? null;
  }
}

function targetsOf(target: unknown): string[] {
  if (typeof target === "string") return [target];
  if (Array.isArray(target)) return target.flatMap(targetsOf);
  if (target && typeof target === "object") {
    const t = target as Record<string, unknown>;
    return targetsOf(t.source ?? t.import ?? t.default ?? t.node ?? t.require);
  }
  return [];
}

/** A tsconfig's `paths` and `baseUrl` (one `extends` of a relative file followed). */
function pathsOf(config: Json, dir: string, depth = 0): TsPaths | null {
  let options = config.compilerOptions ?? {};
  let base = dir;
  if (!options.paths && !options.baseUrl && typeof config.extends === "string" && depth < 3) {
    if (config.extends.startsWith(".")) {
      const file = resolve(dir, config.extends);
      const parent = readJson(file.endsWith(".json") ? file : `${file}.json`, true);
      if (parent) return pathsOf(parent, dirname(file), depth + 1);
    }
    return null;
  }
  if (!options.paths && !options.baseUrl) return null;
  options = options as { paths?: Record<string, string[]>; baseUrl?: string };
  base = resolve(dir, options.baseUrl ?? ".");
  const paths: TsPaths["paths"] = [];
  for (const [key, targets] of Object.entries(options.paths ?? {})) {
    const star = key.indexOf("*");
    paths.push([
      star === -1 ? key : key.slice(0, star),
      star === -1 ? null : key.slice(star + 1),
      targetsOf(targets),
    ]);
  }
  // The longest prefix wins, as in TypeScript.
  paths.sort((a, b) => b[0].length - a[0].length);
  return { base, paths, baseUrl: options.baseUrl !== undefined };
}
