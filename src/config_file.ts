/**
 * `aiguard.jsonc`: JSON with comments and trailing commas, in the working directory or at
 * `AIGUARD_CONFIG`. Read synchronously (enableGuard() is synchronous) through
 * `process.getBuiltinModule("node:fs")`, so the core imports nothing runtime-specific.
 *
 * @module
 */
import { FILE_KEYS, type GuardOptions, validateOptions } from "./config.ts";
import { envVar } from "./runtime.ts";

/**
 * Turns JSONC into JSON: drops `//` and `/* *\/` comments and trailing commas, outside strings only.
 * Positions are kept (comments become spaces) so JSON.parse errors point at the right place.
 */
export function stripJsonc(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const start = i++;
      while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      out += text.slice(start, ++i);
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") {
        out += " ";
        i++;
      }
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else if (c === ",") {
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j]!)) j++;
      // A comment may sit between the comma and the bracket: look past it too.
      const rest = stripAhead(text, j);
      out += rest === "}" || rest === "]" ? " " : ",";
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function stripAhead(text: string, from: number): string {
  let j = from;
  while (j < text.length) {
    if (/\s/.test(text[j]!)) j++;
    else if (text[j] === "/" && text[j + 1] === "/") {
      j = text.indexOf("\n", j) === -1 ? text.length : text.indexOf("\n", j);
    } else if (text[j] === "/" && text[j + 1] === "*") {
      const end = text.indexOf("*/", j + 2);
      j = end === -1 ? text.length : end + 2;
    } else return text[j]!;
  }
  return "";
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

/** Parses a config file's text; errors name the file, the key (or position) and what was expected. */
export function parseConfigText(text: string, file: string): GuardOptions {
  const json = stripJsonc(text);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    const at = /position (\d+)/.exec((error as Error).message)?.[1];
    const where = at ? ` at ${lineColumn(text, Number(at))}` : "";
    throw new TypeError(`Invalid aiguard config file ${file}: not valid JSONC${where}.`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`Invalid aiguard config file ${file}: expected an object at the top.`);
  }
  for (const key of Object.keys(value)) {
    if (!FILE_KEYS.includes(key)) {
      throw new TypeError(
        `Invalid aiguard option "${key}" in ${file}: expected one of the keys ${
          FILE_KEYS.join(", ")
        }.`,
      );
    }
  }
  const options = value as Record<string, unknown>;
  if (Array.isArray(options.providers)) {
    // JSON has no RegExp: "/pattern/flags" strings become RegExps.
    options.providers = options.providers.map((rule: Record<string, unknown>) => {
      const out = { ...rule };
      for (const key of ["host", "path"]) {
        const v = out[key];
        const m = typeof v === "string" ? /^\/(.+)\/([a-z]*)$/.exec(v) : null;
        if (m) out[key] = new RegExp(m[1]!, m[2]);
      }
      return out;
    });
  }
  return validateOptions(options, file);
}

interface FsLike {
  readFileSync(path: string, encoding: "utf8"): string;
}

function nodeFs(): FsLike | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (n: string) => unknown } }).process;
  try {
    return (proc?.getBuiltinModule?.("node:fs") as FsLike | undefined) ?? null;
  } catch {
    return null;
  }
}

function workDir(): string | null {
  const g = globalThis as { Deno?: { cwd(): string }; process?: { cwd?: () => string } };
  try {
    return g.Deno?.cwd() ?? g.process?.cwd?.() ?? null;
  } catch {
    return null;
  }
}

/**
 * Options from the config file: `AIGUARD_CONFIG` (must exist) or `./aiguard.jsonc` (optional).
 * Where there is no file system (edge runtimes) there is no config file.
 */
export function optionsFromConfigFile(): GuardOptions {
  const explicit = envVar("AIGUARD_CONFIG");
  const fs = nodeFs();
  if (!fs) {
    if (explicit) throw new TypeError(`AIGUARD_CONFIG is set but this runtime has no file system.`);
    return {};
  }
  const dir = workDir();
  const file = explicit ?? (dir ? `${dir}/aiguard.jsonc` : null);
  if (!file) return {};
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as { code?: string; name?: string }).code ??
      (error as { name?: string }).name;
    if (!explicit && (code === "ENOENT" || code === "NotFound" || code === "NotCapable")) return {};
    if (!explicit && code === "PermissionDenied") return {};
    throw new TypeError(`Cannot read aiguard config file ${file}: ${(error as Error).message}`);
  }
  return parseConfigText(text, file);
}
