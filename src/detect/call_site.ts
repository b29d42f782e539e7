/**
 * Finds the application code that made an AI call: the first stack frame that is neither this
 * package, nor a dependency (`node_modules`, Deno's npm and JSR caches), nor runtime internals.
 *
 * @module
 */

import { MAX_FRAMES } from "../report/record.ts";
import { ownFiles } from "../runtime.ts";

/** A call site's parts (see {@link splitCallSite}). */
export interface CallSiteParts {
  /** The file, relative to the working directory when under it, without a leading `./`. */
  path: string;
  line: number;
  column: number;
}

/**
 * Splits a call site, `path:line:column`, as records and the scan write it; the path may itself
 * hold colons (`file:///…`, a Windows drive). `null` for text of another form.
 *
 * @example
 * ```ts
 * import { splitCallSite } from "./call_site.ts";
 * splitCallSite("./src/app.ts:12:7"); // { path: "src/app.ts", line: 12, column: 7 }
 * ```
 */
export function splitCallSite(site: string): CallSiteParts | null {
  const m = /^(.*):(\d+):(\d+)$/.exec(site);
  if (!m) return null;
  return { path: m[1]!.replace(/^\.\//, ""), line: Number(m[2]), column: Number(m[3]) };
}

/** Where an AI call came from. */
export interface CallSite {
  /** `path:line:column` of the first application frame, or `null` when the stack has none. */
  callSite: string | null;
  /** Up to {@link MAX_FRAMES} application frames, innermost first. */
  stack: string[];
}

// Capturing costs per frame, most on Deno, which source-maps every frame (bench/NOTES.md): capture
// a few frames below the guard's own entry and go deeper only when they hold no application frame
// (the decision's DEEP_CAPTURE_LIMIT retry, src/guard/decision.ts).
const CAPTURE_LIMIT = 32;
/** Below an SDK method entry the application frame is usually the very next one. */
export const ENTRY_CAPTURE_LIMIT = 6;
/** Below a transport entry (fetch, http, http2, …), an SDK's own frames may come first. */
export const TRANSPORT_CAPTURE_LIMIT = 16;
/** The deeper limit for a second look. */
export const DEEP_CAPTURE_LIMIT = 100;

function fileUrlToPath(url: string): string {
  try {
    return decodeURIComponent(url.slice("file://".length));
  } catch {
    return url.slice("file://".length);
  }
}

// Frames of this package are never the call site: from source its `src/` and the entry files
// beside it (the repository's tests and examples are apps), in the npm build every file under its
// root (entries and shared chunks alike). A bundle that inlined this module has only its own file.
// workerd leaves import.meta.url undefined in bundled workers.
const own = ownFiles();
const asPath = (url: string) => url.startsWith("file://") ? fileUrlToPath(url) : url;
const selfUrl: string = import.meta.url ?? "";
const ownPrefixes = own === null
  ? [selfUrl ? asPath(selfUrl) : "\0"]
  : own.layout === "npm"
  ? [asPath(own.root)]
  : [
    `${asPath(own.root)}src/`,
    ...["mod.", "auto.", "otel.", "cli."].map((n) => asPath(own.root) + n),
  ];

// A bracketed name may hold a space (Node's `[worker eval]-wrapper`).
const LOCATION = /\(?(\[[^\]\n]*\][^\s()]*|(?:[a-z][\w+.-]*:\/\/)?[^\s()]+):(\d+):(\d+)\)?\s*$/i;

function isOwnOrDependency(path: string): boolean {
  return ownPrefixes.some((prefix) => path.startsWith(prefix)) ||
    path.includes("/node_modules/") ||
    path.includes("/npm/registry.npmjs.org/") ||
    path.includes("/@aiguard/attest/") ||
    path.startsWith("https://jsr.io/") ||
    path.startsWith("https://esm.sh/");
}

function isRuntimeInternal(location: string): boolean {
  return /^(?:node|ext|bun|internal|native|builtin|deno|data):/.test(location) ||
    location.startsWith("[") || location.startsWith("<") ||
    // Bun's built-in modules ("ws", "node-fetch") and "native": a bare name, no path, no extension
    // (workerd names a bundled worker's frames "worker.mjs").
    /^[\w@-]+$/.test(location);
}

function readCwd(): string | null {
  try {
    const g = globalThis as {
      Deno?: { cwd(): string };
      process?: { cwd?: () => string };
    };
    return g.Deno?.cwd() ?? g.process?.cwd?.() ?? null;
  } catch {
    return null; // Deno without --allow-read, or no process at all
  }
}

// Deno.cwd() is a system call (bench/NOTES.md): read it at most every 250 ms. A chdir shows after
// that.
const CWD_TTL_MS = 250;
let cwdValue: string | null = null;
let cwdReadAt = -Infinity;
function cwd(): string | null {
  const now = Date.now();
  if (now - cwdReadAt >= CWD_TTL_MS) {
    cwdValue = readCwd();
    cwdReadAt = now;
  }
  return cwdValue;
}

// The same call site gives the same stack text: remember recent reductions (bounded), per working
// directory (paths are made relative to it).
let reduced = new Map<string, CallSite>();
let reducedFor: string | null = null;
const REDUCED_MAX = 512;

/** Reduces an `Error.stack` string to the application frames, as `path:line:column`. */
export function applicationFrames(stackText: string | undefined, workDir = cwd()): CallSite {
  if (stackText === undefined) return { callSite: null, stack: [] };
  if (workDir !== reducedFor) {
    reduced = new Map();
    reducedFor = workDir;
  }
  const known = reduced.get(stackText);
  if (known) return known;
  const site = reduceFrames(stackText, workDir);
  if (reduced.size >= REDUCED_MAX) reduced.clear();
  reduced.set(stackText, site);
  return site;
}

function reduceFrames(stackText: string, workDir: string | null): CallSite {
  const frames: string[] = [];
  {
    const prefix = workDir ? (workDir.endsWith("/") ? workDir : `${workDir}/`) : null;
    for (const line of stackText.split("\n")) {
      const trimmed = line.trim();
      if (!trimmed.startsWith("at ")) continue;
      const m = LOCATION.exec(trimmed);
      if (!m) continue;
      let location = m[1]!;
      if (isRuntimeInternal(location)) continue;
      if (location.startsWith("file://")) location = fileUrlToPath(location);
      if (isOwnOrDependency(location)) continue;
      if (prefix && location.startsWith(prefix)) location = location.slice(prefix.length);
      frames.push(`${location}:${m[2]}:${m[3]}`);
      if (frames.length === MAX_FRAMES) break;
    }
  }
  return Object.freeze({ callSite: frames[0] ?? null, stack: Object.freeze(frames) as string[] });
}

/** Any function: the guard's own entry, above which frames are left out. */
export type StackBoundary = (...args: never[]) => unknown;

interface V8CallSite {
  getFileName(): string | null | undefined;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
}

/**
 * Formats captured frames as `at path:line:column` only: the runtime's own formatter also resolves
 * function, method and type names, which nothing here reads (a good part of the capture's cost).
 */
function formatLocations(_error: unknown, frames: V8CallSite[]): string {
  let out = "Error";
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i]!;
    const file = frame.getFileName();
    // Bun names a Proxy trap's caller "[native code]": no location, like a missing file name.
    out += file && !file.startsWith("[")
      ? `\n    at ${file}:${frame.getLineNumber()}:${frame.getColumnNumber()}`
      : "\n    at native";
  }
  return out;
}

/** None (Deno, workerd) or the runtime's own default (Node and Bun expose it). */
function isRuntimeFormatter(prepare: unknown): boolean {
  return prepare === undefined ||
    (typeof prepare === "function" && prepare.name === "ErrorPrepareStackTrace");
}

/**
 * Node maps positions through source maps only in its own formatter (`--enable-source-maps`).
 * Deno says `true` here too: its own formatter is the cheaper one there, as every CallSite read of
 * ours is mapped on its own (bench/NOTES.md).
 */
function sourceMapsEnabled(): boolean {
  const proc = (globalThis as { process?: { sourceMapsEnabled?: boolean } }).process;
  return proc?.sourceMapsEnabled === true;
}

/**
 * Captures the raw stack now (cheap part), to be reduced later only if needed. With `below`, the
 * frames of that function and everything above it are left out (and do not count to `limit`).
 */
export function captureStack(limit = CAPTURE_LIMIT, below?: StackBoundary): string | undefined {
  const E = Error as {
    stackTraceLimit?: number | undefined;
    captureStackTrace?: (target: object, below?: StackBoundary) => void;
    prepareStackTrace?: unknown;
  };
  const previous = E.stackTraceLimit;
  // Deep SDK stacks push the application frame past the default limit of 10.
  E.stackTraceLimit = limit;
  try {
    if (below === undefined || typeof E.captureStackTrace !== "function") {
      return new Error().stack;
    }
    const holder: { stack?: string } = {};
    const prepare = E.prepareStackTrace;
    if (!isRuntimeFormatter(prepare) || sourceMapsEnabled()) {
      // Someone else formats stacks (source-map-support, Node's source maps): leave it to them.
      E.captureStackTrace(holder, below);
      return holder.stack;
    }
    const own = Object.prototype.hasOwnProperty.call(E, "prepareStackTrace");
    E.prepareStackTrace = formatLocations;
    try {
      E.captureStackTrace(holder, below);
      return holder.stack; // formatted now, while ours is installed
    } finally {
      if (own) E.prepareStackTrace = prepare;
      else delete E.prepareStackTrace;
    }
  } finally {
    E.stackTraceLimit = previous;
  }
}

/** The call site of the code running now. */
export function captureCallSite(): CallSite {
  return applicationFrames(captureStack());
}
