/**
 * The fetch layer: wraps `globalThis.fetch`. Non-AI requests cost one string scan and go straight
 * through; AI requests are decided before the original fetch is called. Where the runtime follows
 * redirects out of sight (Deno, Bun, workerd: Node's undici layer sees every hop), a response that
 * was redirected to an AI endpoint is recorded when it arrives: too late to block, but not missed.
 *
 * @module
 */
import { runtimeKey } from "../runtime.ts";
import { decideRequest, type DetectorLayer, type GuardCore, runMarked } from "./layer.ts";
import { modelFromPath } from "./providers.ts";

const MODEL_IN_BODY = /"model"\s*:\s*"((?:[^"\\]|\\.){1,256})"/;
const MODEL_SCAN_LIMIT = 64 * 1024;

/** The model named in a JSON request body, read only when the body is a string (never consumed). */
export function modelFromBody(body: unknown): string | null {
  if (typeof body !== "string") return null;
  const m = MODEL_IN_BODY.exec(
    body.length > MODEL_SCAN_LIMIT ? body.slice(0, MODEL_SCAN_LIMIT) : body,
  );
  if (!m) return null;
  try {
    return JSON.parse(`"${m[1]}"`) as string;
  } catch {
    return null;
  }
}

function requestUrl(input: unknown): string | null {
  if (typeof input === "string") return input;
  if (input instanceof URL) return input.href;
  const url = (input as { url?: unknown } | null)?.url;
  return typeof url === "string" ? url : null;
}

function requestMethod(input: unknown, init: RequestInit | undefined): string {
  const method = init?.method ?? (input as { method?: unknown } | null)?.method;
  return typeof method === "string" ? method.toUpperCase() : "GET";
}

function followsRedirects(input: unknown, init: RequestInit | undefined): boolean {
  const redirect = init?.redirect ?? (input as { redirect?: unknown } | null)?.redirect;
  return redirect === undefined || redirect === "follow";
}

/**
 * Records a response the runtime reached through redirects when its final URL is an AI endpoint.
 * Runs in the caller's async context (a promise reaction), so an attested caller stays attested.
 */
function recordRedirected(
  core: GuardCore,
  pending: Promise<Response>,
  input: unknown,
  init: RequestInit | undefined,
): void {
  pending.then((response) => {
    try {
      if (!response.redirected || !core.active()) return;
      const match = core.match(response.url);
      if (match === null) return;
      const frame = core.frame();
      if (frame?.call?.recorded) return;
      const marker = core.quiet(frame) ?? core.decide(
        {
          provider: match.provider,
          operation: match.operation,
          model: modelFromPath(match.path),
          target: `fetch ${requestMethod(input, init)} ${match.server}${match.path}`,
          detector: "fetch",
          server: match.server,
          port: match.port,
        },
        frame,
        () => undefined,
        false,
      );
      core.settle(marker);
    } catch {
      // A response the guard cannot read is the app's business only.
    }
  }, () => {});
}

/** Wraps `globalThis.fetch`; its undo puts the original back unless the app replaced ours since. */
export const fetchLayer: DetectorLayer = {
  name: "fetch",
  install(core) {
    const g = globalThis as { fetch?: typeof fetch };
    const original = g.fetch;
    if (typeof original !== "function") return;
    // Node's fetch is undici, whose channel shows every redirect hop to the undici layer; the
    // other runtimes follow redirects inside fetch with no hook between hops.
    const watchRedirects = runtimeKey() !== "node";
    const guarded = function fetch(
      input: RequestInfo | URL,
      init?: RequestInit,
    ): Promise<Response> {
      if (!core.active()) return original(input, init);
      const url = requestUrl(input);
      const match = url === null ? null : core.match(url);
      if (match === null) {
        const pending = original(input, init);
        if (watchRedirects && followsRedirects(input, init)) {
          recordRedirected(core, pending, input, init);
        }
        return pending;
      }
      const frame = core.frame();
      let marker;
      try {
        marker = decideRequest(core, frame, () => ({
          provider: match.provider,
          operation: match.operation,
          model: modelFromBody(init?.body) ?? modelFromPath(match.path),
          target: `fetch ${requestMethod(input, init)} ${match.server}${match.path}`,
          detector: "fetch",
          server: match.server,
          port: match.port,
        }), guarded);
      } catch (error) {
        return Promise.reject(error);
      }
      // Decided above (an SDK hook): only end its span when headers arrive.
      marker ??= frame!.call!;
      const pending = runMarked(core, frame, marker, () => original(input, init));
      core.settleWhen(pending, marker);
      return pending;
    };
    // Keep runtime extras such as Bun's fetch.preconnect.
    for (const key of Reflect.ownKeys(original)) {
      if (key === "length" || key === "name" || key === "prototype") continue;
      const descriptor = Object.getOwnPropertyDescriptor(original, key);
      if (descriptor) Object.defineProperty(guarded, key, descriptor);
    }
    g.fetch = guarded as typeof fetch;
    // Not through the patcher: a fetch the app installed over ours since stays in place.
    return () => {
      if (g.fetch === guarded) g.fetch = original;
    };
  },
};
