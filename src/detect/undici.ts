/**
 * Node only: a diagnostics_channel backstop for AI requests that bypass the patched fetch (a client
 * that captured fetch before the guard, the undici package). It can report and warn, not block.
 *
 * @module
 */
import { currentFrame } from "../context.ts";
import { activeRules, guardActive, guardCall } from "../guard.ts";
import { runtimeKey } from "../runtime.ts";
import { matchUrl } from "./providers.ts";

interface DiagnosticsChannel {
  subscribe(name: string, fn: (message: unknown) => void): void;
  unsubscribe(name: string, fn: (message: unknown) => void): void;
}

const CHANNEL = "undici:request:create";

/** Subscribes on Node; returns the unsubscriber, or `null` elsewhere. */
export function installUndiciLayer(): (() => void) | null {
  if (runtimeKey() !== "node") return null;
  const proc = (globalThis as { process?: { getBuiltinModule?: (n: string) => unknown } }).process;
  const dc = proc?.getBuiltinModule?.("node:diagnostics_channel") as DiagnosticsChannel | undefined;
  if (!dc) return null;
  const onCreate = (message: unknown) => {
    if (!guardActive()) return;
    const frame = currentFrame();
    if (frame?.call?.recorded) return; // the fetch or SDK layer saw it
    const request =
      (message as { request?: { origin?: unknown; path?: unknown; method?: unknown } })
        .request;
    if (typeof request?.origin !== "string" || typeof request.path !== "string") return;
    const match = matchUrl(request.origin + request.path, activeRules());
    if (!match) return;
    try {
      guardCall(
        {
          provider: match.provider,
          operation: match.operation,
          model: null,
          target: `undici ${
            String(request.method ?? "GET").toUpperCase()
          } ${match.server}${match.path}`,
          detector: "undici",
          server: match.server,
          port: match.port,
        },
        frame,
        undefined,
        false,
      )?.settle?.();
    } catch {
      // Never throw inside a diagnostics_channel subscriber: it would crash the process.
    }
  };
  dc.subscribe(CHANNEL, onCreate);
  return () => dc.unsubscribe(CHANNEL, onCreate);
}
