/**
 * The EventSource layer: the global `EventSource` (Deno; Node behind a flag) opens its
 * server-sent-events stream with the runtime's own fetch machinery, below the fetch wrapper. Its
 * constructor is replaced by a Proxy that decides before the stream is requested, as the
 * WebSocket layer does.
 *
 * @module
 */
import type { CallFacts } from "../report/record.ts";
import { decideRequest, type DetectorLayer, runMarked } from "./layer.ts";
import { type ProviderMatch, transportFacts } from "./providers.ts";

function describe(match: ProviderMatch): CallFacts {
  return transportFacts(match, "fetch", "eventsource GET");
}

/**
 * Wraps `globalThis.EventSource` where there is one (on Deno's lazy global, at the app's first read);
 * the patcher puts the original back.
 */
export const eventSourceLayer: DetectorLayer = {
  name: "eventsource",
  install(core, patcher) {
    type Constructor = new (...args: unknown[]) => object;
    patcher.wrapValue<Constructor>(globalThis, "EventSource", (Original) => {
      const Guarded: Constructor = new Proxy(Original, {
        construct: function construct(target, args, newTarget): object {
          const self = newTarget === Guarded ? target : newTarget;
          const spec = args[0];
          const url = !core.active()
            ? null
            : typeof spec === "string"
            ? spec
            : spec instanceof URL
            ? spec.href
            : null;
          const match = url === null ? null : core.match(url);
          if (match === null) return Reflect.construct(target, args, self);
          const frame = core.frame();
          const marker = decideRequest(core, frame, () => describe(match), construct);
          if (marker === null) return Reflect.construct(target, args, self);
          core.settle(marker); // the stream stays open as long as the app wants
          return runMarked(core, frame, marker, () => Reflect.construct(target, args, self));
        },
      });
      return Guarded;
    });
  },
};
