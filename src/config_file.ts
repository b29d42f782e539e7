/**
 * `aiguard.jsonc`: JSON with comments and trailing commas, in the working directory or at
 * `AIGUARD_CONFIG`. Read synchronously (enableGuard() is synchronous) through
 * `process.getBuiltinModule("node:fs")`, so the core imports nothing runtime-specific.
 *
 * @module
 */
import { FILE_KEYS, type GuardOptions, validateOptions } from "./config.ts";
import { envVar, textFileReader } from "./runtime.ts";

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

/**
 * The offset of the first JSON syntax error in `json` (JSON.parse says where only on V8; Bun's
 * JavaScriptCore does not), or -1 when it is valid. A small recursive-descent check.
 */
export function jsonErrorOffset(json: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = () => {
    while (i < json.length && " \t\n\r".includes(json[i]!)) i++;
  };
  const literal = (word: string) => (json.startsWith(word, i) ? (i += word.length) : fail());
  const string = () => {
    if (json[i] !== '"') fail();
    i++;
    while (i < json.length && json[i] !== '"') {
      if (json[i]! < " ") fail();
      i += json[i] === "\\" ? 2 : 1;
    }
    if (i >= json.length) fail();
    i++;
  };
  const value = (): void => {
    ws();
    const c = json[i];
    if (c === "{") {
      i++;
      ws();
      if (json[i] === "}") return void i++;
      for (;;) {
        ws();
        string();
        ws();
        if (json[i] !== ":") fail();
        i++;
        value();
        ws();
        if (json[i] === "}") return void i++;
        if (json[i] !== ",") fail();
        i++;
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (json[i] === "]") return void i++;
      for (;;) {
        value();
        ws();
        if (json[i] === "]") return void i++;
        if (json[i] !== ",") fail();
        i++;
      }
    }
    if (c === '"') return string();
    if (c === "t") return void literal("true");
    if (c === "f") return void literal("false");
    if (c === "n") return void literal("null");
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(json.slice(i));
    if (!m) fail();
    i += m![0].length;
  };
  try {
    value();
    ws();
    return i < json.length ? i : -1;
  } catch (offset) {
    return typeof offset === "number" ? Math.min(offset, json.length) : -1;
  }
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

/** Parses a config file's text; errors name the file, the key (or position) and what was expected. */
export function parseConfigText(text: string, file: string): GuardOptions {
  // Editors on Windows save UTF-8 with a byte order mark; it is no part of the JSON.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const json = stripJsonc(text);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    const at = jsonErrorOffset(json);
    const where = at >= 0 ? ` at ${lineColumn(text, at)}` : "";
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
    options.providers = options.providers.map((rule: unknown, index: number) => {
      if (rule === null || typeof rule !== "object") return rule; // validation names it
      const out = { ...rule } as Record<string, unknown>;
      for (const key of ["host", "path"]) {
        const v = out[key];
        const m = typeof v === "string" ? /^\/(.+)\/([a-z]*)$/.exec(v) : null;
        if (!m) continue;
        try {
          out[key] = new RegExp(m[1]!, m[2]);
        } catch (error) {
          // The engine's SyntaxError names neither the file nor the key.
          throw new TypeError(
            `Invalid aiguard option "providers[${index}].${key}" in ${file}: expected a valid ` +
              `regular expression, got ${JSON.stringify(v)} (${(error as Error).message}).`,
          );
        }
      }
      return out;
    });
  }
  return validateOptions(options, file);
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
  const read = textFileReader();
  if (!read) {
    if (explicit) throw new TypeError(`AIGUARD_CONFIG is set but this runtime has no file system.`);
    return {};
  }
  const dir = workDir();
  const file = explicit ?? (dir ? `${dir}/aiguard.jsonc` : null);
  if (!file) return {};
  let text: string;
  try {
    text = read(file);
  } catch (error) {
    const code = (error as { code?: string; name?: string }).code ??
      (error as { name?: string }).name;
    if (!explicit && (code === "ENOENT" || code === "NotFound" || code === "NotCapable")) return {};
    if (!explicit && code === "PermissionDenied") return {};
    throw new TypeError(`Cannot read aiguard config file ${file}: ${(error as Error).message}`);
  }
  return parseConfigText(text, file);
}
