/**
 * Which files the scan parses. Most files of an application cannot start an AI call chain: no
 * `fetch`, no HTTP client, no SDK. Parsing them is most of a scan's time, so a cheap look at the
 * text decides first, and the import graph pulls in the rest on demand (`scan.ts`): a module
 * another parsed module needs (a URL constant, a base class) when its export is read, and a file
 * that imports a parsed module (the callers of a fetch wrapper, of a client made elsewhere).
 *
 * The look is conservative: a word that may start a chain anywhere in the text (a comment
 * included) makes the file parsed; the analysis itself still reads only the AST.
 *
 * @module
 */
import { sdkOf } from "../catalog.ts";
import { DISTINCTIVE_PATHS } from "./call_kinds.ts";
import { registersBridge } from "./electron.ts";
import { HTTP_LIBRARIES } from "./http_libraries.ts";

/**
 * Packages whose import makes a file parsed. Node's `http`/`https` are left out: much of a
 * dependency tree imports them for its own transport (parsing those files and their importers
 * made the scan of the installed SDKs ~8% slower); a file that also names another request
 * function, an SDK or a bridge is parsed, and its `https.request` followed.
 */
const HTTP_PACKAGES = new Set(
  HTTP_LIBRARIES.filter((l) => l.scheme === undefined).flatMap((l) => l.packages),
);

/** `from "x"`, `import "x"`, `import("x")`, `require("x")`: every module a file may name. */
const SPECIFIER = /\b(?:from|import|require)\s*\(?\s*(["'])([^"'\n]{1,300})\1/g;

/**
 * The module specifiers a source text names (static and dynamic imports, `require`, re-exports).
 *
 * @example
 * ```ts
 * import { importSpecifiers } from "./relevance.ts";
 * importSpecifiers('import OpenAI from "openai";\nconst x = require("./x");'); // ["openai", "./x"]
 * ```
 */
export function importSpecifiers(source: string): string[] {
  const out: string[] = [];
  SPECIFIER.lastIndex = 0;
  for (let m = SPECIFIER.exec(source); m !== null; m = SPECIFIER.exec(source)) {
    if (!out.includes(m[2]!)) out.push(m[2]!);
  }
  return out;
}

/**
 * Whether a file may hold the start of an AI call chain on its own: a request function
 * (`fetch`, an HTTP client package), an SDK package, or a method path only an SDK has (called on
 * a receiver the scan cannot resolve), or what registers on Electron's bridge (`electron.ts`: an
 * exposed API, an IPC handler). A file without any still holds sites when it uses what
 * another module makes; the scan pulls those in through the import graph.
 *
 * @example
 * ```ts
 * import { importSpecifiers, mayStartCall } from "./relevance.ts";
 * const source = 'import { z } from "zod";\nexport const schema = z.string();';
 * mayStartCall(source, importSpecifiers(source)); // false
 * ```
 */
export function mayStartCall(source: string, specifiers: readonly string[]): boolean {
  if (source.includes("fetch") || source.includes("WebSocket")) return true;
  for (const s of specifiers) {
    if (HTTP_PACKAGES.has(s) || sdkOf(s) !== undefined) return true;
  }
  for (const path of DISTINCTIVE_PATHS) if (source.includes(path)) return true;
  return registersBridge(source);
}
