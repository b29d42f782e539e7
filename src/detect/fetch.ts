/**
 * The fetch layer: wraps `globalThis.fetch`. Non-AI requests cost one string scan and go straight
 * through; AI requests are decided before the original fetch is called. Where the runtime follows
 * redirects out of sight (Deno, Bun, workerd: Node's undici layer sees every hop), a response that
 * was redirected to an AI endpoint is recorded when its body is read: too late to block, not missed.
 *
 * @module
 */
import { runtimeKey } from "../runtime.ts";
import { startedBeforeApp } from "./builtin_reach.ts";
import { captureStack, type StackBoundary, TRANSPORT_CAPTURE_LIMIT } from "./call_site.ts";
import { decideRequest, type DetectorLayer, type GuardCore, runMarked } from "./layer.ts";
import { ownerOf, type Patcher } from "./patcher.ts";
import { modelFromPath, transportFacts } from "./providers.ts";

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

/**
 * The URL a Request is fetched at: Node and Deno read its own slot, Bun its `url` getter (which a
 * subclass may override), so the guard reads the one the runtime sends.
 */
let requestUrlReader: ((input: unknown) => unknown) | null = null;
/**
 * Built on first use, not at load: reading `globalThis.Request` makes Node load its whole fetch
 * implementation (undici; bench/NOTES.md), a cost the guard must not add to every start, `mode: "off"`
 * included.
 */
function requestUrlOf(input: unknown): unknown {
  if (requestUrlReader === null) {
    const R = (globalThis as { Request?: { prototype: object } }).Request;
    const slot = R ? Object.getOwnPropertyDescriptor(R.prototype, "url")?.get : undefined;
    const bun = runtimeKey() === "bun";
    requestUrlReader = !R || !slot
      ? () => undefined
      : (value: unknown): unknown =>
        value instanceof (R as never)
          ? (bun ? (value as Request).url : slot.call(value))
          : undefined;
  }
  return requestUrlReader(input);
}

/**
 * The URL a fetch of `input` goes to, and the input to send. Fetch reads a Request's URL and turns
 * anything else into a string (a `URL`, a `String`, any object with `toString`, even one with a
 * `url` field). That string is made once here and sent, so a `toString` or `href` that answers
 * differently the second time cannot send what was not judged.
 */
function requestUrl(input: unknown): { url: string; send: unknown } | null {
  if (input === null || (typeof input !== "object" && typeof input !== "function")) return null;
  try {
    const url = requestUrlOf(input);
    if (typeof url === "string") return { url, send: input };
    const text = String(input);
    return { url: text, send: text };
  } catch {
    return null; // fetch itself throws the same when it reads it
  }
}

function requestMethod(input: unknown, init: RequestInit | undefined): string {
  const method = init?.method ?? (input as { method?: unknown } | null)?.method;
  return typeof method === "string" ? method.toUpperCase() : "GET";
}

/** The ways a response's body is read: one of them runs before an AI answer is used. */
const BODY_READERS = ["arrayBuffer", "blob", "bytes", "formData", "json", "text"] as const;

/**
 * Where the runtime follows fetch's redirects with no hook between hops (Deno, Bun, workerd), a
 * response whose final URL is an AI endpoint is recorded when its body is first read: too late to
 * block, but not missed. Hooked on the body readers rather than on every fetch's promise, so
 * ordinary traffic pays nothing per request and one getter per body read. The reader runs in the
 * caller's async context: an attested caller stays attested.
 */
function watchRedirectedBodies(core: GuardCore, patcher: Patcher): void {
  const proto = (globalThis as { Response?: { prototype: object } }).Response?.prototype;
  if (proto === undefined) return;
  const recorded = new WeakSet<object>();
  const check = (response: Response, below: StackBoundary) => {
    try {
      if (!response.redirected || !core.active() || recorded.has(response)) return;
      recorded.add(response);
      const match = core.match(response.url);
      if (match === null) return;
      const frame = core.frame();
      if (frame?.call?.recorded) return;
      const marker = core.countAttested(frame) ?? core.decide(
        transportFacts(match, "fetch", "fetch (redirected)"),
        frame,
        () => captureStack(TRANSPORT_CAPTURE_LIMIT, below),
        false,
      );
      core.settle(marker);
    } catch {
      // A response the guard cannot read is the app's business only.
    }
  };
  for (const key of BODY_READERS) {
    const owner = ownerOf(proto, key);
    if (owner === null) continue;
    patcher.wrapMethod<(this: Response, ...args: unknown[]) => unknown>(owner, key, (original) => {
      const read = function (this: Response, ...args: unknown[]) {
        check(this, read);
        return original.apply(this, args);
      };
      Object.defineProperty(read, "name", { value: original.name, configurable: true });
      return read;
    });
  }
  // Streamed answers are read through `body` (not hookable on Bun, where it is not configurable).
  const owner = ownerOf(proto, "body");
  const body = owner && Object.getOwnPropertyDescriptor(owner, "body");
  if (owner && typeof body?.get === "function") {
    const get = body.get;
    patcher.define(owner, "body", {
      get: function bodyOf(this: Response) {
        check(this, bodyOf);
        return get.call(this);
      },
      enumerable: body.enumerable ?? false,
    });
  }
}

/** Wraps `globalThis.fetch`; its undo puts the original back unless the app replaced ours since. */
export const fetchLayer: DetectorLayer = {
  name: "fetch",
  install(core, patcher) {
    // Node's fetch is undici, whose channel shows every redirect hop to the undici layer. Reading
    // Deno's Response loads it (~3 ms): under the preload, where no fetch predates the guard's,
    // the body readers are hooked on the first fetch.
    let watchBodies: (() => void) | null = runtimeKey() === "node"
      ? null
      : () => watchRedirectedBodies(core, patcher);
    if (watchBodies !== null && !startedBeforeApp()) {
      watchBodies();
      watchBodies = null;
    }
    const g = globalThis as { fetch?: typeof fetch };
    const original = g.fetch;
    if (typeof original !== "function") return;
    const guarded = function fetch(
      input: RequestInfo | URL,
      init?: RequestInit,
    ): Promise<Response> {
      if (!core.active()) return original(input, init);
      if (watchBodies !== null) {
        const watch = watchBodies;
        watchBodies = null;
        watch();
      }
      // A string (nearly every call) is judged and sent as it is, with no object made for it.
      let url: string | null = null;
      if (typeof input === "string") url = input;
      else {
        const sent = requestUrl(input);
        if (sent !== null) {
          url = sent.url;
          input = sent.send as RequestInfo | URL;
        }
      }
      const match = url === null ? null : core.match(url);
      if (match === null) return original(input, init);
      const frame = core.frame();
      let marker;
      try {
        marker = decideRequest(
          core,
          frame,
          () =>
            transportFacts(
              match,
              "fetch",
              `fetch ${requestMethod(input, init)}`,
              modelFromBody(init?.body) ?? modelFromPath(match.path),
            ),
          guarded,
        );
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
      watchBodies = null; // the patcher is restored: a fetch of ours still held must not patch
      if (g.fetch === guarded) g.fetch = original;
    };
  },
};
