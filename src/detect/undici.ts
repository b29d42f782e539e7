/**
 * The undici layer: the `undici:request:create` diagnostics channel, published by Node's own fetch
 * and by the `undici` package wherever it runs (Node, Deno). It sees what the fetch wrapper cannot:
 * a `fetch` captured before the guard, `undici.request()`/`stream()`/`fetch()`, custom dispatchers.
 * The channel fires synchronously when the request is created, before it is sent: block mode never
 * throws there (that would crash the process) but sets the request's error, which undici raises
 * when the request starts, before anything is written.
 *
 * @module
 */
import { builtinModule } from "../runtime.ts";
import { decideRequest, type DetectorLayer } from "./layer.ts";
import { isOrdinaryOrigin, isOrdinaryPath, transportFacts } from "./providers.ts";

interface DiagnosticsChannel {
  subscribe(name: string, fn: (message: unknown) => void): void;
  unsubscribe(name: string, fn: (message: unknown) => void): void;
}

interface UndiciRequest {
  origin?: unknown;
  path?: unknown;
  method?: unknown;
  upgrade?: unknown;
  error?: unknown;
}

const CHANNEL = "undici:request:create";

/** Subscribes where the runtime has diagnostics channels; Bun's undici publishes nothing. */
export const undiciLayer: DetectorLayer = {
  name: "undici",
  install(core) {
    const dc = builtinModule<DiagnosticsChannel>("node:diagnostics_channel");
    if (!dc) return;
    const onCreate = (message: unknown) => {
      try {
        if (!core.active()) return;
        const request = (message as { request?: UndiciRequest }).request;
        if (typeof request?.origin !== "string" || typeof request.path !== "string") return;
        // Ordinary traffic leaves here, before the context is read.
        if (
          core.rules().length === 0 && isOrdinaryOrigin(request.origin) &&
          isOrdinaryPath(request.path)
        ) return;
        // A request an upper layer (the fetch wrapper, an SDK entry) already decided runs as it
        // is: known before its URL is matched again, which every such AI call would pay.
        const frame = core.frame();
        if (frame?.call?.recorded) return;
        const match = core.match(request.origin + request.path);
        if (!match) return;
        const method = String(request.method ?? "GET").toUpperCase();
        const websocket = String(request.upgrade).toLowerCase() === "websocket";
        try {
          const marker = decideRequest(
            core,
            frame,
            () =>
              websocket
                ? transportFacts(match, "websocket", "websocket")
                : transportFacts(match, "undici", `undici ${method}`),
            onCreate,
          );
          // No response event reaches here: a span ends at once.
          if (marker) core.settle(marker);
        } catch (error) {
          // Block mode: undici aborts a request whose error is set before it starts.
          request.error = error;
        }
      } catch {
        // Never throw inside a diagnostics_channel subscriber: it would crash the process.
      }
    };
    try {
      dc.subscribe(CHANNEL, onCreate);
    } catch {
      return;
    }
    return () => dc.unsubscribe(CHANNEL, onCreate);
  },
};
