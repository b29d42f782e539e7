/**
 * Whether a module's export can take an AI call somewhere else (`carriesCalls`): the scan reads
 * the files importing a module only when one of its exports can.
 *
 * @module
 */
import { type ResolveContext, resolveValue, withSelf } from "./resolve.ts";
import { templateOf } from "./requests.ts";
import type { FnSummary, Value } from "./values.ts";

/** How deep {@link carriesCalls} looks into objects, classes and what functions return. */
const CARRY_DEPTH = 4;

/**
 * Whether a module's export can take an AI call somewhere else: a request function or a function
 * that passes its URL on to one, an SDK client, class or function, an HTTP client, or a class,
 * instance or object holding one. A module none of whose exports can is no reason to read the
 * files importing it (`scan.ts`): whatever they call of it sends nothing to a provider.
 *
 * @example
 * ```ts
 * import { carriesCalls } from "./carries_calls.ts";
 * import { resolveContext } from "./resolve.ts";
 * carriesCalls({ k: "global", name: "fetch" }, resolveContext()); // true
 * carriesCalls({ k: "str", text: "https://example.com" }, resolveContext()); // false
 * ```
 */
export function carriesCalls(value: Value, ctx: ResolveContext): boolean {
  return carries(resolveValue(value, ctx), ctx, 0, new Set());
}

function carries(v: Value, ctx: ResolveContext, depth: number, seen: Set<object>): boolean {
  if (depth > CARRY_DEPTH) return false;
  switch (v.k) {
    case "either":
      // The options of one value: no hop of their own.
      return v.options.some((o) => carries(o, ctx, depth, seen));
    case "sdk-module":
    case "sdk-class":
    case "sdk-client":
    case "sdk-function":
    case "sdk-command-class":
    case "sdk-command":
    case "http":
    case "wrapped":
      return true;
    case "global":
      return v.name === "fetch" || v.name === "WebSocket";
    case "fn":
      return withSelf(ctx, v.self, () => fnCarries(v.fn, ctx, depth, seen));
    case "class":
    case "instance":
    case "this": {
      if (seen.has(v.cls)) return false;
      seen.add(v.cls);
      const cls = v.cls;
      return withSelf(ctx, cls, () => {
        for (const method of cls.methods.values()) {
          if (fnCarries(method, ctx, depth, seen)) return true;
        }
        for (const cells of [cls.fields, cls.statics]) {
          for (const cell of cells.values()) {
            if (carries(resolveValue({ k: "cell", cell }, ctx), ctx, depth + 1, seen)) return true;
          }
        }
        return cls.superclass !== null &&
          carries(resolveValue(cls.superclass, ctx), ctx, depth + 1, seen);
      });
    }
    case "alias":
      return carries(resolveValue(v.value, ctx), ctx, depth + 1, seen);
    case "obj": {
      for (const p of v.props.values()) {
        if (carries(resolveValue(p, ctx), ctx, depth + 1, seen)) return true;
      }
      return (v.spreads ?? []).some((s) => carries(resolveValue(s, ctx), ctx, depth + 1, seen));
    }
    default:
      return false;
  }
}

function fnCarries(fn: FnSummary, ctx: ResolveContext, depth: number, seen: Set<object>): boolean {
  if (seen.has(fn)) return false;
  seen.add(fn);
  if (templateOf(fn, ctx).length > 0) return true;
  return fn.returns.some((r) => carries(resolveValue(r, ctx), ctx, depth + 1, seen));
}
