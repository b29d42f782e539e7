/**
 * Electron's bridge from the page to the main process, as the scan follows it. A desktop app's
 * page cannot reach the network through Node: its preload script hands it an API
 * (`contextBridge.exposeInMainWorld("api", { request: (o) => ipcRenderer.invoke("request", o) })`)
 * that the page calls as `window.api.request(…)`, and the main process answers the channel
 * (`ipcMain.handle("request", (event, o) => fetch(o.url, …))`). Across the scanned files:
 *
 * - `window.NAME` / `globalThis.NAME` / `self.NAME` is the API exposed under `NAME`;
 * - `ipcRenderer.invoke(CHANNEL, ...args)` calls the handler `ipcMain.handle(CHANNEL, …)` gives,
 *   `ipcRenderer.send` / `sendSync` the listeners of `ipcMain.on` / `once`, with `args` in
 *   place of the handler's parameters after its `event` (the channel a literal, or a constant
 *   the scan folds).
 *
 * Each file's exposures and handlers (`bridgeEntries`) are kept by the scan as the exports of one
 * module of its own, {@link BRIDGE_MODULE}; what goes through them is inferred across modules and
 * processes (`crossed`: low confidence).
 *
 * @module
 */
import { type ResolveContext, resolveValue } from "./resolve.ts";
import type { ModuleExports } from "./walk.ts";
import { type SymbolicCall, UNKNOWN, type Value } from "./values.ts";

/** The module id under which the scan keeps every file's exposures and IPC handlers. */
export const BRIDGE_MODULE = "(electron bridge)";

/** What `electron` exports that the scan follows, as globals of their own. */
const PREFIX = "(electron).";
/** The objects of `electron` the scan follows, and their methods: what each registers or sends. */
const METHODS: Readonly<Record<string, readonly string[]>> = {
  contextBridge: ["exposeInMainWorld"],
  ipcRenderer: ["invoke", "send", "sendSync"],
  ipcMain: ["handle", "handleOnce", "on", "once"],
};
const OBJECTS: readonly string[] = Object.keys(METHODS);
const PACKAGES = new Set(["electron", "electron/main", "electron/renderer", "electron/common"]);
/** The key of the handlers a renderer's send reaches: `invoke` → `handle`, `send` → `on`. */
const TABLE: Readonly<Record<string, string>> = {
  "ipcRenderer.invoke": "ipc:handle",
  "ipcRenderer.send": "ipc:on",
  "ipcRenderer.sendSync": "ipc:on",
  "ipcMain.handle": "ipc:handle",
  "ipcMain.handleOnce": "ipc:handle",
  "ipcMain.on": "ipc:on",
  "ipcMain.once": "ipc:on",
};
/** Method names of the calls {@link bridgeEntries} keeps (a cheap look before resolving). */
const REGISTERS = new Set(Object.values(METHODS).flat());

/**
 * Whether a source text may register something on the bridge (an exposed API, an IPC handler):
 * such a file is parsed whatever else it names (`relevance.ts`).
 */
export function registersBridge(source: string): boolean {
  return source.includes("exposeInMainWorld") || source.includes("ipcMain");
}

/** What an import of `electron` names (`null`: not `electron`). */
export function electronBinding(specifier: string, imported: string): Value | null {
  if (!PACKAGES.has(specifier)) return null;
  if (imported === "*" || imported === "default") {
    const props = new Map<string, Value>();
    for (const name of OBJECTS) props.set(name, { k: "global", name: PREFIX + name });
    return { k: "obj", props };
  }
  return OBJECTS.includes(imported) ? { k: "global", name: PREFIX + imported } : UNKNOWN;
}

/** `object.name` of an `electron` global (`ipcRenderer.invoke`); `null`: not one. */
export function electronMember(object: string, name: string): Value | null {
  if (!object.startsWith(PREFIX)) return null;
  const own = object.slice(PREFIX.length);
  return METHODS[own]?.includes(name) ? { k: "global", name: `${object}.${name}` } : UNKNOWN;
}

/** The text a resolved value is, when it is one literal. */
function textOf(v: Value, ctx: ResolveContext): string | null {
  const r = resolveValue(v, ctx);
  return r.k === "str" ? r.text : null;
}

/**
 * What one file registers on the bridge: `["window:NAME", api]` for each exposure,
 * `["ipc:handle" | "ipc:on", { channel, handler }]` for each IPC handler (the channel folded
 * later, with every module known), and `["ipc:send", channel]` for each renderer send (only so
 * that a module holding the channel is read: {@link channelModules}). `ctx` is the file's own.
 *
 * @example
 * ```ts ignore
 * const entries = bridgeEntries(walk.records, resolveContext());
 * ```
 */
export function bridgeEntries(
  records: readonly SymbolicCall[],
  ctx: ResolveContext,
): Array<[string, Value]> {
  const out: Array<[string, Value]> = [];
  for (const r of records) {
    if (r.callee.k !== "member" || !REGISTERS.has(r.callee.name) || r.args.length < 1) continue;
    const callee = resolveValue(r.callee, ctx);
    if (callee.k !== "global" || !callee.name.startsWith(PREFIX)) continue;
    const what = callee.name.slice(PREFIX.length);
    if (what === "contextBridge.exposeInMainWorld" && r.args[1]) {
      const name = textOf(r.args[0]!, ctx);
      if (name !== null) out.push([`window:${name}`, r.args[1]!]);
      continue;
    }
    const table = TABLE[what];
    if (table === undefined) continue;
    if (what.startsWith("ipcRenderer.")) {
      // Only its channel: a constant another module holds is read before the scan folds it.
      out.push(["ipc:send", r.args[0]!]);
      continue;
    }
    if (!r.args[1]) continue;
    const entry = new Map<string, Value>([["channel", r.args[0]!], ["handler", r.args[1]]]);
    out.push([table, { k: "obj", props: entry }]);
  }
  return out;
}

/** Adds a file's {@link bridgeEntries} to the scan's {@link BRIDGE_MODULE} exports. */
export function addBridgeEntries(
  exportsOf: Map<string, ModuleExports>,
  entries: ReadonlyArray<[string, Value]>,
): void {
  if (entries.length === 0) return;
  let exports = exportsOf.get(BRIDGE_MODULE);
  if (!exports) {
    exports = { names: new Map(), star: [] };
    exportsOf.set(BRIDGE_MODULE, exports);
  }
  for (const [key, value] of entries) {
    const known = exports.names.get(key);
    if (known?.k === "array") known.items.push(value);
    else exports.names.set(key, { k: "array", items: [value] });
  }
}

/** The names a scan's bridge exposes on the page's global object. */
export function exposedNames(exportsOf: Map<string, ModuleExports>): string[] {
  const names = exportsOf.get(BRIDGE_MODULE)?.names.keys() ?? [];
  return [...names].filter((k) => k.startsWith("window:")).map((k) => k.slice(7));
}

/**
 * The scanned modules the IPC channels of the scan's bridge name (`CHANNELS.request` imported
 * from a constants module): read before the channels are folded, as nothing else pulls them in.
 */
export function channelModules(exportsOf: Map<string, ModuleExports>): string[] {
  const names = exportsOf.get(BRIDGE_MODULE)?.names;
  const out: string[] = [];
  const visit = (v: Value | undefined, depth: number): void => {
    if (!v || depth > 4) return;
    if (v.k === "import" && !out.includes(v.module)) out.push(v.module);
    else if (v.k === "member") visit(v.object, depth + 1);
    else if (v.k === "cell") { for (const x of v.cell.values) visit(x, depth + 1); }
  };
  for (const key of ["ipc:send", "ipc:handle", "ipc:on"]) {
    const list = names?.get(key);
    if (list?.k !== "array") continue;
    for (const item of list.items) visit(item.k === "obj" ? item.props.get("channel") : item, 0);
  }
  return out;
}

/** `window.NAME`, `globalThis.NAME` …: a page's use of one of `names` (a cheap look at text). */
export function readsGlobal(source: string, names: readonly string[]): boolean {
  const globals = /\b(?:window|globalThis|self)\s*(?:\?\.|\.)\s*([A-Za-z_$][\w$]*)/g;
  for (let m = globals.exec(source); m !== null; m = globals.exec(source)) {
    if (names.includes(m[1]!)) return true;
  }
  return false;
}

/**
 * `window.NAME` (`object` one of the page's global objects): the API a preload script exposes
 * under `NAME`, when the scanned files expose one; `null` when `object` is no global object.
 */
export function exposedApi(object: string, name: string, ctx: ResolveContext): Value | null {
  if (object !== "window" && object !== "globalThis" && object !== "self") return null;
  if (!ctx.exportOf) {
    // Known once every module is read.
    ctx.pending = true;
    return UNKNOWN;
  }
  const apis = ctx.exportOf(BRIDGE_MODULE, `window:${name}`);
  if (apis?.k !== "array") return UNKNOWN;
  ctx.crossed = true;
  const found: Value[] = apis.items.map((api) => resolveValue(api, ctx));
  return found.length === 1 ? found[0]! : { k: "either", options: found };
}

/**
 * The calls a renderer's `ipcRenderer.invoke(CHANNEL, ...args)` (`c`, resolved, with its `args`)
 * makes in the main process: each handler of `CHANNEL`, called with `args` after its `event`.
 * `null` when `c` sends nothing over IPC.
 *
 * @example
 * ```ts ignore
 * for (const { callee, args } of ipcTargets(c, args, ctx) ?? [{ callee: c, args }]) …
 * ```
 */
export function ipcTargets(
  c: Value,
  args: Value[],
  ctx: ResolveContext,
): Array<{ callee: Value; args: Value[] }> | null {
  if (c.k !== "global" || !c.name.startsWith(PREFIX)) return null;
  const table = TABLE[c.name.slice(PREFIX.length)];
  if (table === undefined || !c.name.startsWith(`${PREFIX}ipcRenderer.`)) return null;
  if (!ctx.exportOf) {
    ctx.pending = true;
    return [];
  }
  const channel = args[0] ? textOf(args[0], ctx) : null;
  const handlers = ctx.exportOf(BRIDGE_MODULE, table);
  if (channel === null || handlers?.k !== "array") return [];
  const out: Array<{ callee: Value; args: Value[] }> = [];
  for (const entry of handlers.items) {
    if (entry.k !== "obj") continue;
    if (textOf(entry.props.get("channel") ?? UNKNOWN, ctx) !== channel) continue;
    ctx.crossed = true;
    out.push({
      callee: resolveValue(entry.props.get("handler")!, ctx),
      args: [UNKNOWN, ...args.slice(1)],
    });
  }
  return out;
}
