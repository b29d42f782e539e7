/**
 * @mistralai/mistralai: resource classes (`chat`, `fim`, `agents`, `embeddings`) reached through a
 * probe client; each method the catalog names records the call at its entry.
 *
 * @module
 */
import { ownerOf } from "../patcher.ts";
import { serverOf } from "../providers.ts";
import { type Fn, modelArg, recordingHook } from "./hooks.ts";
import {
  catalogClient,
  catalogEntry,
  methodsUnder,
  probeClient,
  type SdkFamily,
} from "./family.ts";

const MISTRAL = catalogEntry("@mistralai/mistralai");
/** The resources the catalog names methods of (`chat` of `chat.complete`). */
const RESOURCES = [...new Set(Object.keys(MISTRAL.methods).map((path) => path.split(".")[0]!))];

/**
 * `Mistral` (and classes that extend it), or a client of the same construction: its own
 * `_createRequest` and a `chat` resource.
 */
export const mistralFamily: SdkFamily = {
  name: "mistral",
  matches(Client) {
    const proto = Client.prototype as object | undefined;
    return !!proto && (catalogClient([MISTRAL], Client) !== null ||
      (ownerOf(proto, "_createRequest") !== null && "chat" in proto));
  },
  patch(core, patcher, Client) {
    const probe = probeClient(Client, {}) as Record<string, unknown> | null;
    if (!probe) return false;
    for (const resource of RESOURCES) {
      const proto = probe[resource] ? Object.getPrototypeOf(probe[resource]) : null;
      if (!proto) continue;
      for (const [method, operation] of Object.entries(methodsUnder(MISTRAL, resource))) {
        patcher.wrapMethod<Fn>(
          proto,
          method,
          (original) =>
            recordingHook(core, original, (self, args) => ({
              provider: MISTRAL.provider,
              operation,
              model: modelArg(args),
              target: `${MISTRAL.library}.${resource}.${method}`,
              detector: "sdk",
              ...serverOf((self as { _baseURL?: unknown })._baseURL),
            }), true),
        );
      }
    }
    return true;
  },
};
