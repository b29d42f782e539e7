/**
 * Call kinds: whether a call is an AI call site, and which. A call is a site when an SDK method
 * is called on a value that resolves to a client or model (or an SDK function is called), or
 * when a request function (the global `fetch`, an HTTP client, or a function that passes its URL
 * on to one) receives a URL known to reach a provider host or an AI path.
 *
 * @module
 */
import { CATALOG, clientProvider, methodsOf, type SdkEntry } from "../catalog.ts";
import { modelBodyOf, modelRequestOf } from "./request_bodies.ts";
import { pathFromParams, type Request, requestOf } from "./requests.ts";
import { optionOf, type ResolveContext, resolveValue } from "./resolve.ts";
import type { SiteFacts } from "./site_facts.ts";
import { classifyUrl, singleSlashes } from "./url_kinds.ts";
import {
  type FnSummary,
  PARAM_MARK,
  UNKNOWN,
  type UrlText,
  type Value,
  withParamMarks,
} from "./values.ts";

/** The catalog's distinctive method paths, each with the SDK it is read as, in catalog order. */
const DISTINCTIVE: ReadonlyArray<readonly [path: string, entry: SdkEntry]> = CATALOG.flatMap((
  entry,
) => (entry.distinctive ?? []).map((path) => [path, entry] as const));

/**
 * The method paths {@link distinctiveSite} reports: a file naming none of them (and no SDK or
 * request function) cannot hold such a site.
 *
 * @example
 * ```ts
 * import { DISTINCTIVE_PATHS } from "./call_kinds.ts";
 * DISTINCTIVE_PATHS.includes("messages.create"); // true
 * ```
 */
export const DISTINCTIVE_PATHS: readonly string[] = DISTINCTIVE.map(([path]) => path);

/**
 * A method path that only an SDK has, called on a receiver nobody declares: a low-confidence site.
 *
 * @example
 * ```ts
 * import { distinctiveSite } from "./call_kinds.ts";
 * distinctiveSite("client.chat.completions.create")?.target; // "openai.chat.completions.create"
 * ```
 */
export function distinctiveSite(path: string): SiteFacts | null {
  for (const [distinctive, entry] of DISTINCTIVE) {
    // Whole names only: `openaiMessages.create` is no `messages.create`.
    if (path === distinctive || path.endsWith(`.${distinctive}`)) {
      return {
        provider: entry.provider,
        library: entry.library,
        target: `${entry.library}.${distinctive}`,
        operation: entry.methods[distinctive] ?? null,
        confidence: "low",
      };
    }
  }
  return null;
}

/**
 * What a call is, given its callee and arguments (symbolic), or `null` when it is no site.
 *
 * @example
 * ```ts
 * import { classifyCall } from "./call_kinds.ts";
 * import { resolveContext } from "./resolve.ts";
 * classifyCall({ k: "global", name: "fetch" }, [{ k: "str", text: "https://api.openai.com/v1/embeddings" }], resolveContext())?.target;
 * // "fetch GET api.openai.com/v1/embeddings"
 * ```
 */
export function classifyCall(
  callee: Value,
  args: Value[],
  ctx: ResolveContext,
  inFn: FnSummary | null = null,
): SiteFacts | null {
  const c = resolveValue(callee, ctx);
  const facts = kindOf(c, args, ctx, undefined) ?? boundMethodHandedOn(args, ctx) ??
    commandSent(callee, args, ctx);
  if (facts?.configured) {
    // A URL the enclosing function is given is its callers' to say, not a configured base.
    delete facts.configured;
    for (let fn = inFn; fn; fn = fn.parent) {
      const request = withParamMarks(fn, () => requestOf(c, args, ctx, 0));
      if (request?.urls.some((u) => u.text.includes(PARAM_MARK))) return null;
    }
  }
  if (facts && !isSdkSite(c)) {
    // A request whose path the enclosing function's parameters give: where the scanned code calls
    // that function, its callers are the sites (the scan drops this one then).
    for (let fn = inFn; fn; fn = fn.parent) {
      if (pathFromParams({ callee: c, args, inferred: false }, fn, ctx, args)) {
        facts.pathFrom = fn;
        break;
      }
    }
  }
  return facts;
}

/**
 * An SDK method bound to its client and handed to a caller that calls it (`caller.call(opts,
 * client.chatCompletion.bind(client), args)`, a retry or queue helper): the call handing it on is
 * the site, at low confidence (the call itself is made inside the helper).
 */
function boundMethodHandedOn(args: Value[], ctx: ResolveContext): SiteFacts | null {
  for (const a of args.slice(0, 3)) {
    if (a.k !== "call" || a.callee.k !== "member" || a.callee.name !== "bind") continue;
    const method = resolveValue(a.callee.object, ctx);
    for (const m of method.k === "either" ? method.options : [method]) {
      if (m.k !== "sdk-client" || m.path.length === 0) continue;
      const facts = kindOf(m, [], ctx, undefined);
      if (facts) return { ...facts, confidence: "low" };
    }
  }
  return null;
}

/**
 * An SDK's command sent by a client the scan cannot resolve (`client.send(new ConverseCommand(…))`
 * with the client from a getter, a cache or the caller): only that SDK's clients send its commands,
 * so the call is the site, at low confidence (the client is inferred).
 */
function commandSent(callee: Value, args: Value[], ctx: ResolveContext): SiteFacts | null {
  if (callee.k !== "member" || callee.name !== "send" || args[0] === undefined) return null;
  const command = optionOf(resolveValue(args[0], ctx), "sdk-command");
  return command ? commandSite(command, command.entry.provider, "low") : null;
}

/** The site a catalog command makes when sent (`bedrock.converse`), or `null` for another one. */
function commandSite(
  command: Extract<Value, { k: "sdk-command" }>,
  provider: string,
  confidence: SiteFacts["confidence"],
): SiteFacts | null {
  const known = command.entry.commands?.[command.name];
  if (!known) return null;
  return {
    provider,
    library: command.entry.library,
    target: `${command.entry.library}.${known[0]}`,
    operation: known[1],
    confidence,
  };
}

function isSdkSite(c: Value): boolean {
  return c.k === "sdk-client" || c.k === "sdk-function" || c.k === "wrapped" ||
    (c.k === "either" && c.options.some(isSdkSite));
}

function kindOf(
  c: Value,
  args: Value[],
  ctx: ResolveContext,
  wrappedId: string | null | undefined,
): SiteFacts | null {
  switch (c.k) {
    case "either": {
      for (const option of c.options) {
        const found = kindOf(option, args, ctx, wrappedId);
        if (found) return found;
      }
      return null;
    }
    case "wrapped":
      return kindOf(c.inner, args, ctx, c.id);
    case "sdk-function": {
      const operation = c.entry.functions?.[c.name];
      if (operation === undefined) return null;
      return withWrap({
        provider: c.entry.provider,
        library: c.entry.library,
        target: `${c.entry.library}.${c.name}`,
        operation,
        confidence: "high",
      }, wrappedId);
    }
    case "sdk-client": {
      const facts = sdkMethod(c, args, ctx);
      // A client a function of another module returns (a factory): inferred, not seen.
      if (facts && ctx.crossed && ctx.calledThrough) facts.confidence = "low";
      return withWrap(facts, wrappedId);
    }
    default: {
      const request = requestOf(c, args, ctx, 0);
      if (!request) return null;
      const facts = classifyUrl(request.urls, request.method, request.via) ??
        configuredBaseSite(c, request, args, ctx) ?? anthropicHeadersSite(request, args, ctx);
      if (!facts) return null;
      if (facts.provider === "openai_compatible" && ownRoute(args[0])) return null;
      if (request.inferred || ctx.crossed) facts.confidence = "low";
      if (request.through) facts.through = request.through;
      return withWrap(facts, wrappedId);
    }
  }
}

/**
 * Whether a call's URL is an `/api/…` path the code writes whole (`fetch("/api/chat")`, or a
 * constant holding it): no base, so the page's own origin, the app's own route (Next.js,
 * Express), whose handler makes the model call if it does. The AI path it may spell (`/api/chat`
 * is Ollama's) is on another host. Only a literal (or a template literal) counts: a URL folded to
 * such a text may have lost a base the scan could not read (`this.host` set to `""`, then to what
 * a helper returns).
 */
function ownRoute(url: Value | undefined): boolean {
  const literal = url?.k === "cell" && url.cell.values.length === 1 ? url.cell.values[0] : url;
  // A template literal written here counts as its first part (`/api/chat?id=${id}`).
  const start = literal?.k === "concat" ? literal.parts[0] : literal;
  return start?.k === "str" && start.text.startsWith("/api/");
}

function withWrap(facts: SiteFacts | null, wrappedId: string | null | undefined) {
  if (facts && wrappedId !== undefined) facts.wrappedId = wrappedId;
  return facts;
}

function sdkMethod(
  c: Extract<Value, { k: "sdk-client" }>,
  args: Value[],
  ctx: ResolveContext,
): SiteFacts | null {
  const entry = c.entry;
  const key = c.path.join(".");
  const label = entry.clients[c.name] ?? entry.factories?.[c.name] ?? entry.library;
  const provider = clientProvider(entry, c.name);
  if (entry.commands && key === "send") {
    const command = optionOf(args[0] ? resolveValue(args[0], ctx) : UNKNOWN, "sdk-command");
    return command && command.entry === entry ? commandSite(command, provider, "high") : null;
  }
  const methods = methodsOf(entry, c.name);
  if (!Object.prototype.hasOwnProperty.call(methods, key)) return null;
  const target = entry.framework ? `${entry.library}.${label}.${key}` : `${label}.${key}`;
  return {
    provider,
    library: entry.library,
    target,
    operation: methods[key] ?? null,
    confidence: entry.generic?.includes(c.name) ? "low" : "high",
  };
}

/**
 * A request to a URL the code is configured with (`this.fetch(this.apiBase, …)`, `fetch(url)`
 * with the URL from request settings) whose body, built at the call, is a model request's:
 * `messages` or `prompt` with a model, sampling or streaming option, or Hugging Face's `inputs`
 * with `parameters`. A low-confidence site of an OpenAI-compatible or self-hosted server; a URL
 * with any known text (the app's own `/api/chat`, another host) is none.
 */
function configuredBaseSite(
  c: Value,
  request: Request,
  args: Value[],
  ctx: ResolveContext,
): SiteFacts | null {
  if (!request.urls.length || !request.urls.every((u) => u.text.startsWith("*"))) return null;
  if (request.urls.some((u) => u.text !== "*" && !u.text.startsWith("*/"))) return null;
  // `axios.post(url, body)`: the second argument is the body itself.
  const bodyArg = c.k === "http" && c.lib.config && /^(?:post|put|patch)$/.test(c.method ?? "");
  for (const arg of args.slice(0, 2)) {
    const operation = bodyArg && arg === args[1]
      ? modelBodyOf(arg, ctx)
      : modelRequestOf(resolveValue(arg, ctx), ctx);
    if (operation) {
      return {
        provider: "openai_compatible",
        library: request.via,
        operation,
        confidence: "low",
        target: `${request.via} ${request.method} *`,
        configured: true,
      };
    }
  }
  return null;
}

/** The header every request to Anthropic's API carries (the API refuses one without it). */
const ANTHROPIC_VERSION = "anthropic-version";

/**
 * A request to `/messages` (`/v1/messages`) under a base from elsewhere that carries Anthropic's
 * `anthropic-version` header, in an argument of the call (`send(url, { "anthropic-version": … },
 * payload)`) or its `headers`: Anthropic's Messages API behind a configured base (low). Without
 * the header, `/messages` is any app's.
 */
function anthropicHeadersSite(
  request: Request,
  args: Value[],
  ctx: ResolveContext,
): SiteFacts | null {
  const path = (u: UrlText) => singleSlashes(u.text.split("?")[0]!);
  if (!request.urls.some((u) => /^\*\/(?:v1\/)?messages$/.test(path(u)))) return null;
  const holds = (v: Value | undefined) => {
    const o = v ? optionOf(resolveValue(v, ctx), "obj") : undefined;
    return o !== undefined && o.props.has(ANTHROPIC_VERSION);
  };
  for (const arg of args.slice(0, 4)) {
    const o = optionOf(resolveValue(arg, ctx), "obj");
    if (!o || !(o.props.has(ANTHROPIC_VERSION) || holds(o.props.get("headers")))) continue;
    return {
      provider: "anthropic",
      library: request.via,
      operation: "chat",
      confidence: "low",
      target: `${request.via} ${request.method} /messages`,
    };
  }
  return null;
}
