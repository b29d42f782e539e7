/**
 * `aiguard scan` over a tree: finds the source files (default excludes and `.gitignore` honoured),
 * reads each, parses with oxc-parser (ESTree for TS, TSX, JSX, ESM and CommonJS) those that may
 * start an AI call chain (`relevance.ts`) and runs the one analysis on them, which resolves
 * imports across the scanned files (`modules.ts`). The import graph pulls in the rest on demand:
 * the importers of a module whose exports can carry a call, a module whose export a call's URL
 * needs, and a module whose function a parsed file hands an SDK's loader (`() => import("x")`). A call whose answer needs another module's exports (a client, a URL constant, a
 * fetch wrapper) is classified once every file is read, from the value summaries each file left.
 * A file's AST is dropped once it is analysed; what stays is its summaries and its pending calls,
 * and of a file not parsed, the scanned files it imports.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { distinctiveSite } from "./call_kinds.ts";
import { carriesCalls } from "./carries_calls.ts";
import {
  addBridgeEntries,
  BRIDGE_MODULE,
  channelModules,
  exposedNames,
  readsGlobal,
} from "./electron.ts";
import type { Through } from "./site_facts.ts";
import { resolveContext, type ResolveMemo, resolveValue } from "./resolve.ts";
import { analyze, type Node } from "./analyze.ts";
import { calledByName, classifyPending, type PendingCall, sentThere, type Site } from "./sites.ts";
import type { ModuleExports } from "./walk.ts";
import { ModuleResolver } from "./modules.ts";
import { importSpecifiers, mayStartCall } from "./relevance.ts";
import { Subclasses } from "./subclasses.ts";
import { type ClassSummary, ownText, type Value } from "./values.ts";

/** A site as `aiguard scan --format json` writes it: where (relative path), and what. */
export type ScanSite = { file: string } & Omit<Site, "offset" | "node" | "through" | "pathFrom">;

/** What a scan found. */
export interface ScanResult {
  v: 1;
  /** Files read. */
  files: number;
  /** Files parsed: those that may start an AI call chain, and what the import graph pulled in. */
  parsed: number;
  /** Lines read. */
  lines: number;
  sites: ScanSite[];
  errors: Array<{ file: string; message: string }>;
}

/** Options of a scan. */
export interface ScanOptions {
  /** Files or folders; default the working directory. */
  paths?: string[];
  /** Only paths matching one of these globs (relative, `/`-separated). */
  include?: string[];
  /** Paths matching one of these globs are skipped, besides the defaults. */
  exclude?: string[];
  /** Skip nothing by default (`node_modules` & co. are scanned too: for benchmarks). */
  noDefaultExcludes?: boolean;
  /** Base of the relative paths written; default the working directory. */
  cwd?: string;
  /**
   * Files longer than this (characters) are listed in `errors` and not parsed; default
   * {@link MAX_FILE_LENGTH}. Their lines still count as read.
   */
  maxFileLength?: number;
  /** Called every so often with files done and files found (progress on a terminal). */
  progress?: (done: number, total: number) => void;
}

/** Folders never scanned by default. */
export const DEFAULT_EXCLUDES: readonly string[] = [
  "node_modules",
  ".git",
  "dist",
  "build",
  "out",
  "coverage",
];
const SOURCE = /\.(?:[cm]?[jt]sx?)$/;

/**
 * Longest file parsed by default (characters), as Semgrep's `--max-target-bytes` (1 MB): longer
 * files are bundles and generated code, and one file's tree is the scan's largest allocation (a
 * 6.7 MB bundle alone took the scan's peak RSS from 105 to 253 MiB on Node).
 */
export const MAX_FILE_LENGTH = 1_000_000;

/** A glob (`*`, `**`, `?`) as a RegExp over `/`-separated relative paths. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        re += glob[i + 2] === "/" ? "(?:.*/)?" : ".*";
        i += glob[i + 2] === "/" ? 2 : 1;
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

interface IgnoreRule {
  pattern: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

/** The rules of a `.gitignore` (the common subset: globs, `/` anchors, trailing `/`, `!`). */
export function parseGitignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    if (negate) line = line.slice(1);
    const dirOnly = line.endsWith("/");
    if (dirOnly) line = line.slice(0, -1);
    const anchored = line.startsWith("/") || line.slice(0, -1).includes("/");
    if (line.startsWith("/")) line = line.slice(1);
    const glob = anchored ? line : `**/${line}`;
    rules.push({ pattern: globToRegExp(glob), negate, dirOnly });
  }
  return rules;
}

function ignored(rules: IgnoreRule[], path: string, isDir: boolean): boolean {
  let result = false;
  for (const rule of rules) {
    if (rule.dirOnly && !isDir) continue;
    if (rule.pattern.test(path)) result = !rule.negate;
  }
  return result;
}

async function sourceFiles(
  options: ScanOptions,
  root: string,
): Promise<{ files: string[]; manifests: string[] }> {
  const excludes = (options.exclude ?? []).map(globToRegExp);
  const includes = (options.include ?? []).map(globToRegExp);
  const defaults = new Set(options.noDefaultExcludes ? [] : DEFAULT_EXCLUDES);
  const rules = options.noDefaultExcludes
    ? []
    : parseGitignore(await readFile(join(root, ".gitignore"), "utf8").catch(() => ""));
  const out: string[] = [];
  const manifests: string[] = [];
  const rel = (path: string) => relative(root, path).split(sep).join("/");
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const r = rel(path);
      if (entry.isDirectory()) {
        if (defaults.has(entry.name) || ignored(rules, r, true)) continue;
        if (excludes.some((e) => e.test(r) || e.test(`${r}/`))) continue;
        await walk(path);
      } else if (entry.isFile() && entry.name === "package.json") {
        manifests.push(path);
      } else if (entry.isFile() && SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts")) {
        if (ignored(rules, r, false) || excludes.some((e) => e.test(r))) continue;
        if (includes.length && !includes.some((e) => e.test(r))) continue;
        out.push(path);
      }
    }
  };
  for (const p of options.paths?.length ? options.paths : ["."]) {
    const path = resolve(root, p);
    const info = await stat(path).catch(() => null);
    if (info?.isDirectory()) await walk(path);
    else if (info?.isFile()) out.push(path);
  }
  return { files: [...new Set(out)].sort(), manifests };
}

interface Parser {
  parseSync(
    filename: string,
    source: string,
    options?: { sourceType?: string; experimentalRawTransfer?: boolean },
  ): { program: Node; errors: Array<{ message: string }> };
  rawTransferSupported?(): boolean;
}

let parser: Promise<Parser> | null = null;
/** oxc-parser, loaded on the first scan (the CLI's other commands never load it). */
function loadParser(): Promise<Parser> {
  parser ??= import("oxc-parser").then((m) => m as unknown as Parser).catch((error) => {
    parser = null;
    throw new Error(
      `aiguard scan needs the oxc-parser package (npm i -D oxc-parser): ${
        (error as Error).message
      }`,
    );
  });
  return parser;
}

/**
 * Source parsed (characters) between two full collections. A scan's garbage is mostly trees
 * dropped once analysed; left to themselves, the collectors let it grow with the allocation rate
 * and the live summaries, to several times what the scan keeps (bench/NOTES.md, "The scan").
 */
export const COLLECT_EVERY = 1_000_000;

/**
 * Heap growth (bytes) since the last full collection that calls for the next one, whatever was
 * parsed: a run of small files with much to summarise, or the second pass's resolutions, grew
 * the heap by up to ~50 MiB between two collections (bench/NOTES.md, "The scan").
 */
export const COLLECT_GROWTH = 16 * 2 ** 20;

/** The second pass's steps (pending calls) between two looks at the heap's size. */
const STEPS_PER_LOOK = 64;

/** What the scan asks of the runtime's collector while it runs. */
interface Collector {
  /**
   * `chars` more characters were parsed: a full collection once {@link COLLECT_EVERY} passed or
   * the heap grew by {@link COLLECT_GROWTH}.
   */
  parsed(chars: number): void;
  /** A step of the second pass: a full collection once the heap grew by {@link COLLECT_GROWTH}. */
  step(): void;
  /** The scan is over: V8's young generation grows as it did. */
  end(): void;
}

/** What {@link collector} needs of V8 (Node, Deno); `null` on Bun. */
type V8Tools = [typeof import("node:v8"), typeof import("node:vm")] | null;

/** Loaded by the scan, not with the CLI: its other commands never need them. */
function loadV8Tools(): Promise<V8Tools> {
  if ("Bun" in globalThis) return Promise.resolve(null);
  return Promise.all([import("node:v8"), import("node:vm")]).catch(() => null);
}

/**
 * V8 (Node, Deno): `gc`, exposed to a context of its own only (the flag is set back at once), run
 * every {@link COLLECT_EVERY} characters parsed or {@link COLLECT_GROWTH} of heap growth, and,
 * for the scan's length, a young generation that stays at its first size (V8's default doubles it
 * up to 128 MiB on Node, which full collections do not shrink); Node applies that setting while
 * running, Deno's young generation stays as it was. Bun's collector keeps its own pace:
 * `Bun.gc(true)` at the same rate raised the scan's peak. Set up with nothing awaited before the
 * scan's synchronous part, so that no other scan runs between this and {@link Collector.end}.
 */
function collector(tools: V8Tools): Collector {
  let full: (() => void) | null = null;
  let heapUsed = () => 0;
  let setFlagsFromString: ((flags: string) => void) | null = null;
  try {
    if (tools !== null) {
      const [v8, { runInNewContext }] = tools;
      setFlagsFromString = v8.setFlagsFromString;
      let gc: unknown;
      setFlagsFromString("--expose-gc");
      try {
        gc = runInNewContext("gc");
      } finally {
        setFlagsFromString("--no-expose-gc");
      }
      if (typeof gc === "function") full = () => gc();
      heapUsed = () => v8.getHeapStatistics().used_heap_size;
      setFlagsFromString("--semi-space-growth-factor=1");
    }
  } catch {
    // a runtime without these: its collector's own pace
  }
  let since = 0;
  let steps = 0;
  /** The heap's size after the last full collection. */
  let floor = 0;
  const grown = () => heapUsed() > floor + COLLECT_GROWTH;
  const collect = () => {
    since = 0;
    full!();
    floor = heapUsed();
  };
  return {
    parsed(chars) {
      if (full === null) return;
      since += chars;
      if (since >= COLLECT_EVERY || grown()) collect();
    },
    step() {
      if (full !== null && ++steps % STEPS_PER_LOOK === 0 && grown()) collect();
    },
    end() {
      setFlagsFromString?.("--semi-space-growth-factor=2");
    },
  };
}

/** The scan's one copy of `text` (see {@link compact}): the first one seen. */
function intern(texts: Map<string, string>, text: string): string {
  const known = texts.get(text);
  if (known !== undefined) return known;
  texts.set(text, text);
  return text;
}

/**
 * What a parsed file leaves to the rest of the scan (its exports, its pending calls), made
 * smaller in place once its analysis is done: each array reached is replaced by a copy of its
 * length (an array built by `push` keeps room for 17 items, most hold 1 or 2), and each string,
 * map keys included, by the scan's one copy of that text. Objects, their identity and what they
 * hold are unchanged; catalog entries (`entry`, `lib`) are shared and not entered.
 */
function compact(roots: readonly unknown[], texts: Map<string, string>): void {
  const seen = new Set<object>();
  const copies = new Map<unknown[], unknown[]>();
  const todo: object[] = [];
  const fix = (value: unknown): unknown => {
    if (typeof value === "string") return intern(texts, value);
    if (Array.isArray(value)) {
      let copy = copies.get(value);
      if (copy === undefined) {
        copy = value.slice();
        copies.set(value, copy);
        todo.push(copy);
      }
      return copy;
    }
    if (value !== null && typeof value === "object" && !seen.has(value)) {
      const proto = Object.getPrototypeOf(value);
      if (proto === Object.prototype || value instanceof Map) {
        seen.add(value);
        todo.push(value);
      }
    }
    return value;
  };
  for (const root of roots) fix(root);
  while (todo.length > 0) {
    const item = todo.pop()!;
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) item[i] = fix(item[i]);
    } else if (item instanceof Map) {
      // Set again in the same order, string keys included: a string equal to the scan's copy is
      // still replaced by it (`!==` compares texts); a key of another kind stays as it is.
      const entries = [...item];
      item.clear();
      for (const [key, value] of entries) {
        item.set(typeof key === "string" ? fix(key) : key, fix(value));
      }
    } else {
      const record = item as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (key === "entry" || key === "lib") continue;
        const value = record[key];
        if (typeof value === "string" || Array.isArray(value)) record[key] = fix(value);
        else fix(value);
      }
    }
  }
}

const packageRoots = new Map<string, boolean>();
/** Whether a file path lies in a copy of this package (its nearest named manifest's name). */
function isAiguardModule(path: string): boolean {
  let dir = dirname(path);
  const seen: string[] = [];
  for (let i = 0; i < 64; i++) {
    const known = packageRoots.get(dir);
    if (known !== undefined) return remember(seen, known);
    seen.push(dir);
    // The nearest manifest with a name decides.
    for (const manifest of ["deno.json", "package.json"]) {
      let name: unknown;
      try {
        name = JSON.parse(readFileSync(join(dir, manifest), "utf8")).name;
      } catch {
        continue; // no such manifest here, or not JSON
      }
      if (typeof name === "string") return remember(seen, name === "@aiguard/attest");
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return remember(seen, false);
}

function remember(dirs: string[], value: boolean): boolean {
  for (const d of dirs) packageRoots.set(d, value);
  return value;
}

/** Adds a file's counts by name to the scan's (names copied: the file's are slices of its text). */
function count(total: Map<string, number>, file: Map<string, number>): void {
  for (const [name, n] of file) {
    const known = total.get(name);
    total.set(known === undefined ? ownText(name) : name, (known ?? 0) + n);
  }
}

const EXTENDS = /\bextends\s+(?:[\w$]+\s*\.\s*)*([A-Za-z_$][\w$]*)/g;

/** The class names a source text extends (`class A extends Base`, `extends ns.Base` → `Base`). */
function extendedNames(source: string): string[] {
  const out: string[] = [];
  if (!source.includes("extends")) return out;
  EXTENDS.lastIndex = 0;
  for (let m = EXTENDS.exec(source); m !== null; m = EXTENDS.exec(source)) {
    const name = ownText(m[1]!);
    if (!out.includes(name) && out.length < 16) out.push(name);
  }
  return out;
}

function countLines(source: string): number {
  let n = 1;
  for (let i = source.indexOf("\n"); i !== -1; i = source.indexOf("\n", i + 1)) n++;
  return n;
}

/** Scans a tree; never throws for a file (a file that does not parse is listed in `errors`). */
export async function scan(options: ScanOptions = {}): Promise<ScanResult> {
  const cwd = options.cwd ?? process.cwd();
  const { parseSync, rawTransferSupported } = await loadParser();
  // Raw transfer hands the AST over as one buffer (Node 22+, Deno 2): parsing is several times
  // faster than the JSON hand-over (bench/NOTES.md).
  const parseOptions = { experimentalRawTransfer: rawTransferSupported?.() === true };
  const { files, manifests } = await sourceFiles(options, cwd);
  const gc = collector(await loadV8Tools());
  try {
    return scanFiles(options, cwd, files, manifests, parseSync, parseOptions, gc);
  } finally {
    gc.end();
  }
}

function scanFiles(
  options: ScanOptions,
  cwd: string,
  files: string[],
  manifests: string[],
  parseSync: Parser["parseSync"],
  parseOptions: { experimentalRawTransfer: boolean },
  gc: Collector,
): ScanResult {
  const maxFileLength = options.maxFileLength ?? MAX_FILE_LENGTH;
  const exportsOf = new Map<string, ModuleExports>();
  const sites: Array<Omit<Site, "node"> & { path: string }> = [];
  const errors: ScanResult["errors"] = [];
  const pending: Array<PendingCall & { path: string }> = [];
  /** Files parsed (or that failed to): never parsed twice. */
  const analysed = new Set<string>();
  /** Files parsed whose importers the graph has not looked at yet. */
  const fresh: string[] = [];
  /** Files not parsed yet → the scanned files they import (all a skipped file leaves behind). */
  const skipped = new Map<string, string[]>();
  /** Skipped files → the names their classes extend (`extends Base`, `extends ns.Base`). */
  const extending = new Map<string, string[]>();
  let lines = 0;
  let done = 0;
  /** Modules handed an SDK's loader (`Analysis.loaders`), to parse once the first pass is done. */
  const loaders: string[] = [];
  let firstPassDone = false;
  /** Reads of each name over the parsed files (see `Analysis.readNames`). */
  const readNames = new Map<string, number>();
  /** Calls by callee name over the parsed files (see `Analysis.callNames`). */
  const callNames = new Map<string, number>();
  /** One copy of each text the kept summaries hold (`compact`). */
  const texts = new Map<string, string>();
  // Its answers are the module ids the summaries hold: one copy of each.
  const resolver = new ModuleResolver(
    new Set(files),
    manifests,
    isAiguardModule,
    (text) => intern(texts, text),
  );

  // Every parsed module's subclasses, placed under their base classes when first asked for (in
  // the second pass), without parsing a module: a base class not read yet has no abstract method
  // the scan knows of, and one read later places the subclasses waiting for it.
  const subclasses = new Subclasses(
    (v) => resolveValue(v, resolveContext(exportRead, readMemo)),
    (module) => analysed.has(module),
    () => analysed.size,
  );

  const analyseFile = (path: string, source: string): void => {
    gc.parsed(source.length);
    analysed.add(path);
    fresh.push(path);
    try {
      const result = parseSync(path, source, parseOptions);
      if (result.errors.length > 0 && !result.program?.body?.length) {
        errors.push({ file: relative(cwd, path), message: result.errors[0]!.message });
        return;
      }
      const analysis = analyze(result.program, source, {
        resolveModule: (specifier) => resolver.resolve(path, specifier),
        module: path,
      });
      compact([analysis.exports, analysis.pending, analysis.subclasses, analysis.bridges], texts);
      addBridgeEntries(exportsOf, analysis.bridges);
      count(readNames, analysis.readNames);
      count(callNames, analysis.callNames);
      if (analysis.exports.names.size > 0 || analysis.exports.star.length > 0) {
        exportsOf.set(path, analysis.exports);
      }
      for (const call of analysis.pending) pending.push({ ...call, path });
      subclasses.add(analysis.subclasses);
      // Read once the first pass is done (a file it has not reached yet would be parsed twice).
      loaders.push(...analysis.loaders);
      if (firstPassDone) { for (const module of loaders.splice(0)) pullIn(module); }
      for (const { node: _node, ...site } of analysis.sites) sites.push({ ...site, path });
    } catch (error) {
      errors.push({ file: relative(cwd, path), message: (error as Error).message });
    }
  };
  /** A skipped file the graph turned out to need: read again and parsed. */
  const pullIn = (path: string): void => {
    if (analysed.has(path) || path === BRIDGE_MODULE) return;
    let source: string;
    try {
      source = readFileSync(path, "utf8");
    } catch (error) {
      analysed.add(path);
      errors.push({ file: relative(cwd, path), message: (error as Error).message });
      return;
    }
    analyseFile(path, source);
  };

  for (const path of files) {
    try {
      // Synchronous reads: thousands of small files, awaited one by one, left the scan idle part
      // of its time (bench/NOTES.md).
      const source = readFileSync(path, "utf8");
      lines += countLines(source);
      if (source.length > maxFileLength) {
        analysed.add(path);
        errors.push({
          file: relative(cwd, path),
          // The CLI prints it after "not parsed: <file>: ".
          message: `${source.length} characters, over the ${maxFileLength} a parsed file may have`,
        });
      } else {
        const specifiers = importSpecifiers(source);
        if (mayStartCall(source, specifiers)) analyseFile(path, source);
        else {
          const imported: string[] = [];
          for (const specifier of specifiers) {
            const module = resolver.resolve(path, specifier);
            if (module !== null && module !== "aiguard" && !imported.includes(module)) {
              imported.push(module);
            }
          }
          skipped.set(path, imported);
          const bases = extendedNames(source);
          if (bases.length > 0) extending.set(path, bases);
        }
      }
    } catch (error) {
      analysed.add(path);
      errors.push({ file: relative(cwd, path), message: (error as Error).message });
    }
    if (++done % 200 === 0) options.progress?.(done, files.length);
  }
  firstPassDone = true;
  for (const module of loaders.splice(0)) pullIn(module);
  // The callers of what a parsed module exports (a fetch wrapper, a client made in another
  // module) hold sites with no request function or SDK of their own: a skipped file importing a
  // module whose exports can carry an AI call is parsed, and so on up the graph.
  const importers = new Map<string, string[]>();
  for (const [path, imported] of skipped) {
    for (const module of imported) {
      const list = importers.get(module);
      if (list) list.push(path);
      else importers.set(module, [path]);
    }
  }
  // The page code that calls what a preload script exposes (`window.api.request(…)`) names no
  // request function: read again once the scan knows of an exposed API (Electron apps only).
  for (const module of channelModules(exportsOf)) pullIn(module);
  const exposed = exposedNames(exportsOf);
  if (exposed.length > 0) {
    for (const path of skipped.keys()) {
      let source = "";
      try {
        source = readFileSync(path, "utf8");
      } catch {
        // gone since: nothing to read
      }
      if (readsGlobal(source, exposed)) pullIn(path);
    }
  }
  skipped.clear();
  const memo: ResolveMemo = new Map();
  /** Answers without abstract methods' overrides (see `overriddenFacts`). */
  const plainMemo: ResolveMemo = new Map();
  const carriers = new Map<string, boolean>();
  const carrier = (module: string): boolean => {
    let known = carriers.get(module);
    if (known !== undefined) return known;
    carriers.set(module, false); // a cycle of re-exports adds nothing
    const exports = exportsOf.get(module);
    known = exports !== undefined &&
      ([...exports.names.values()].some((v) => mayCarry(v)) || exports.star.some(carrier));
    carriers.set(module, known);
    return known;
  };
  // A module no parsed file needed so far is parsed when its export is first read: it cannot
  // carry a call (it names no request function or SDK, nor imports a module that carries one),
  // but it can hold what a call sends (a URL constant, a base class's defaults).
  const exportIn = (
    pull: boolean,
    module: string,
    name: string,
    seen = new Set<string>(),
  ): Value | undefined => {
    if (pull && !analysed.has(module)) pullIn(module);
    const exports = exportsOf.get(module);
    if (!exports || seen.has(module)) return undefined;
    const found = exports.names.get(name);
    if (found !== undefined || name === "default") return found;
    seen.add(module);
    for (const star of exports.star) {
      const reexported = exportIn(pull, star, name, seen);
      if (reexported !== undefined) return reexported;
    }
    return undefined;
  };
  const exportOf = (module: string, name: string) => exportIn(true, module, name);
  /** Exports of the modules parsed so far: enough to tell whether a value can carry a call. */
  const exportRead = (module: string, name: string) => exportIn(false, module, name);
  const readMemo: ResolveMemo = new Map();
  // What goes through abstract methods differs with and without their overrides: a memo each.
  const overriddenMemo: ResolveMemo = new Map();
  // A base class's subclasses are in the modules importing it: those the scan skipped whose text
  // extends a class of its name are parsed once an abstract method of the class is called, as
  // the importers of a carrying module are. (A base imported under another name is missed.)
  const expanded = new Set<ClassSummary>();
  const subclassesOf = (cls: ClassSummary): readonly ClassSummary[] => {
    if (cls.module !== undefined && cls.name !== null && !expanded.has(cls)) {
      expanded.add(cls);
      for (const importer of importers.get(cls.module) ?? []) {
        if (extending.get(importer)?.includes(cls.name)) pullIn(importer);
      }
    }
    return subclasses.of(cls);
  };
  /**
   * Whether a value can carry a call, without parsing a module (`open`: or through the overrides
   * of the abstract methods it meets, in the modules parsed so far).
   */
  const mayCarry = (value: Value, open = false) => {
    const ctx = resolveContext(exportRead, readMemo);
    if (carriesCalls(value, ctx)) return true;
    return open && ctx.open &&
      carriesCalls(value, resolveContext(exportRead, overriddenMemo, subclasses.of));
  };
  // Until nothing new is parsed: the importers of carrying modules, then the pending calls (a
  // module parsed on demand brings its own, and may carry calls to importers not read yet).
  let classified = 0;
  while (fresh.length > 0) {
    while (fresh.length > 0) {
      const module = fresh.pop()!;
      const waiting = importers.get(module);
      if (!waiting || !carrier(module)) continue;
      for (const importer of waiting) pullIn(importer);
    }
    for (; classified < pending.length; classified++) {
      const call = pending[classified]!;
      gc.step();
      // Most pending calls call something imported that sends nothing: told apart without
      // parsing the modules only their arguments need.
      const distinctive = call.distinctive !== null && distinctiveSite(call.distinctive) !== null;
      if (!distinctive && !call.fallback && !mayCarry(call.callee, true)) continue;
      const site = classifyPending(call, exportOf, memo, subclassesOf, plainMemo);
      if (site) {
        const { node: _node, ...rest } = site;
        sites.push({ ...rest, path: call.path });
      }
    }
  }
  // A request whose path a function's parameter gives is its callers', where the code calls it.
  for (let i = sites.length - 1; i >= 0; i--) {
    const from = sites[i]!.pathFrom;
    delete sites[i]!.pathFrom;
    if (from && calledByName(from, readNames)) sites.splice(i, 1);
  }
  // A request made in a function with one caller is that caller's request, made there: the site
  // is the call in the function that sends it (`retryRequest(context.requestURL, …)` in the one
  // function that sends what its caller prepared, as a reviewer reads it); see `sentThere`. A
  // function that takes the whole URL as a parameter stays a wrapper (`templateOf`).
  const at = new Set(sites.map((s) => `${s.path}\0${s.offset}`));
  const dropped = new Set<number>();
  for (let i = 0; i < sites.length; i++) {
    const site = sites[i]!;
    const through = site.through;
    if (!through) continue;
    delete site.through;
    // Inward while each function is called from one place: a request its caller prepared and
    // handed on through more such functions is sent in the innermost.
    // A function whose callers give it only a dispatch creator (`through.factory`) sends the
    // request itself, however many they are: their calls are one site, inside.
    let reached: Through | null = null;
    let shared = false;
    for (let t: Through | undefined = through; t; t = t.inner) {
      if (t.fn.module === undefined) break;
      if (t.factory) shared = true;
      else if (!sentThere(t.fn, readNames, callNames)) break;
      reached = t;
    }
    if (!reached) continue;
    const { fn, at: inner } = reached;
    const key = `${fn.module}\0${inner.offset}`;
    if (at.has(key)) {
      if (shared) dropped.add(i);
      continue;
    }
    at.add(key);
    sites[i] = {
      ...site,
      path: fn.module ?? site.path,
      offset: inner.offset,
      line: inner.line,
      column: inner.column,
    };
  }
  options.progress?.(files.length, files.length);
  return {
    v: 1,
    files: files.length,
    parsed: analysed.size,
    lines,
    sites: sites
      .filter((_, i) => !dropped.has(i))
      .sort((a, b) => a.path.localeCompare(b.path) || a.offset - b.offset)
      .map((s) => ({
        file: relative(cwd, s.path).split(sep).join("/"),
        line: s.line,
        column: s.column,
        provider: s.provider,
        library: s.library,
        target: s.target,
        operation: s.operation,
        attested: s.attested,
        attestation: s.attestation,
        confidence: s.confidence,
      })),
    errors,
  };
}
