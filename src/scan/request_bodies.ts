/**
 * Request bodies: what the body a call sends says about it, as written at the call. A body built
 * there (`JSON.stringify({ model, messages })`) makes a wrapper the site of its own request; a
 * model request's keys make a request to a configured URL an AI call.
 *
 * @module
 */
import { optionOf, type ResolveContext, resolveValue } from "./resolve.ts";
import type { Value } from "./values.ts";

/**
 * Whether the body of a call's request (fetch's `body`, axios' `data`, a wrapper's options) is
 * an object built at the call, given the call's arguments.
 *
 * @example
 * ```ts
 * import { buildsBody } from "./request_bodies.ts";
 * import { resolveContext } from "./resolve.ts";
 * import type { Value } from "./values.ts";
 * const body: Value = { k: "obj", props: new Map([["model", { k: "str", text: "m" }]]) };
 * const init: Value = { k: "obj", props: new Map([["body", body]]) };
 * buildsBody([{ k: "unknown" }, init], resolveContext()); // true
 * ```
 */
export function buildsBody(args: Value[], ctx: ResolveContext): boolean {
  return args.slice(0, 2).some((arg) => bodyBuilt(resolveValue(arg, ctx), ctx, 0));
}

function bodyBuilt(init: Value, ctx: ResolveContext, depth: number): boolean {
  const o = optionOf(init, "obj");
  if (!o || depth > 3) return false;
  for (const key of ["body", "data", "json"]) {
    const b = o.props.get(key);
    if (b) return built(b, 0);
  }
  // `{ ...init, agent }`: the body is the spread object's.
  return (o.spreads ?? []).some((x) => bodyBuilt(resolveValue(x, ctx), ctx, depth + 1));
}

/** Whether a value, as written, is an object or array literal (`JSON.stringify({ model })`). */
function built(v: Value, depth: number): boolean {
  if (depth > 4) return false;
  switch (v.k) {
    case "obj":
    case "array":
      return true;
    case "cell":
      return v.cell.values.some((x) => built(x, depth + 1));
    case "either":
      return v.options.some((o) => built(o, depth + 1));
    case "call":
      return v.args.some((a) => built(a, depth + 1));
    default:
      return false;
  }
}

/** Option names a model request carries beside its input. */
const MODEL_OPTIONS = [
  "model",
  "stream",
  "temperature",
  "max_tokens",
  "max_completion_tokens",
  "top_p",
  "n_predict",
];

/**
 * The operation of an options object whose body is a model request's, if it is one.
 *
 * @example
 * ```ts
 * import { modelRequestOf } from "./request_bodies.ts";
 * import { resolveContext } from "./resolve.ts";
 * import type { Value } from "./values.ts";
 * const body: Value = {
 *   k: "obj",
 *   props: new Map<string, Value>([["model", { k: "str", text: "m" }], ["messages", { k: "unknown" }]]),
 * };
 * modelRequestOf({ k: "obj", props: new Map([["body", body]]) }, resolveContext()); // "chat"
 * ```
 */
export function modelRequestOf(init: Value, ctx: ResolveContext): string | null {
  const o = optionOf(init, "obj");
  if (!o) return null;
  for (const key of ["body", "data", "json"]) {
    const b = o.props.get(key);
    if (b) return modelBodyOf(b, ctx);
  }
  return null;
}

/**
 * The operation of a body, as written at the call, that is a model request's (`axios.post(url,
 * { model, messages })`), if it is one.
 *
 * @example
 * ```ts
 * import { modelBodyOf } from "./request_bodies.ts";
 * import { resolveContext } from "./resolve.ts";
 * import type { Value } from "./values.ts";
 * const body: Value = {
 *   k: "obj",
 *   props: new Map<string, Value>([["prompt", { k: "unknown" }], ["max_tokens", { k: "unknown" }]]),
 * };
 * modelBodyOf(body, resolveContext()); // "text_completion"
 * ```
 */
export function modelBodyOf(body: Value, ctx: ResolveContext): string | null {
  const keys = new Set<string>();
  bodyKeys(body, ctx, keys, 0);
  const option = MODEL_OPTIONS.some((k) => keys.has(k));
  if (keys.has("messages") && option) return "chat";
  if (keys.has("prompt") && option) return "text_completion";
  if (keys.has("inputs") && keys.has("parameters")) return "text_completion";
  return null;
}

/** The property names of a body built at the call (`JSON.stringify({ ...base, messages })`). */
function bodyKeys(v: Value, ctx: ResolveContext, keys: Set<string>, depth: number): void {
  if (depth > 4) return;
  switch (v.k) {
    case "obj":
      for (const key of v.props.keys()) keys.add(key);
      for (const spread of v.spreads ?? []) {
        bodyKeys(resolveValue(spread, ctx), ctx, keys, depth + 1);
      }
      return;
    case "cell":
      for (const x of v.cell.values) bodyKeys(x, ctx, keys, depth + 1);
      // `body["messages"] = messages` after the body was made
      for (const key of v.cell.members?.keys() ?? []) keys.add(key);
      return;
    case "call": {
      // `JSON.stringify(body)`
      if (v.args[0]) bodyKeys(v.args[0], ctx, keys, depth + 1);
      else {
        // `await this.baseBody()`: what a function of the app returns
        const made = resolveValue(v, ctx);
        if (made.k === "obj") bodyKeys(made, ctx, keys, depth + 1);
      }
      return;
    }
    default:
      return;
  }
}
