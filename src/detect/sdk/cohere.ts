/**
 * cohere-ai: compiled to generator-based `__awaiter`, so the application frame is gone after the
 * first `yield`. The calls are recorded at the entry of the v1 (`CohereClient`) and v2
 * (`V2Client`, what `CohereClientV2` binds) methods, where the frame is still on the stack.
 *
 * @module
 */
import { serverOf } from "../providers.ts";
import { type Fn, modelArg, recordingHook } from "./hooks.ts";
import {
  catalogClient,
  catalogEntry,
  methodsUnder,
  probeClient,
  type SdkFamily,
} from "./family.ts";
import type { GuardCore } from "../layer.ts";
import type { Patcher } from "../patcher.ts";

const COHERE = catalogEntry("cohere-ai");
/** The client methods that are AI calls (the v1 and v2 classes share them). */
const METHODS = methodsUnder(COHERE, "");

const DEFAULT_URL = "https://api.cohere.com";

function baseUrlOf(self: Record<string, unknown>): string {
  const options = self._options as { baseUrl?: unknown; environment?: unknown } | undefined;
  return typeof options?.baseUrl === "string"
    ? options.baseUrl
    : typeof options?.environment === "string"
    ? options.environment
    : DEFAULT_URL;
}

function patchResource(core: GuardCore, patcher: Patcher, proto: object, api: string): void {
  for (const [method, operation] of Object.entries(METHODS)) {
    if (!Object.prototype.hasOwnProperty.call(proto, method)) continue;
    patcher.wrapMethod<Fn>(
      proto,
      method,
      (original) =>
        recordingHook(
          core,
          original,
          (self, args) => ({
            provider: COHERE.provider,
            operation,
            model: modelArg(args),
            target: `${COHERE.library}.${api}.${method}`,
            detector: "sdk",
            ...serverOf(baseUrlOf(self)),
          }),
          false,
          true,
        ),
    );
  }
}

/** cohere-ai's `CohereClient` and `CohereClientV2`: the resource classes behind them are patched. */
export const cohereFamily: SdkFamily = {
  name: "cohere",
  matches: (Client) => catalogClient([COHERE], Client) !== null,
  patch(core, patcher, Client) {
    const probe = probeClient(Client, { token: "probe" }) as
      | { client?: object; clientV2?: object }
      | null;
    if (!probe) return false;
    if (probe.clientV2) {
      patchResource(core, patcher, Object.getPrototypeOf(probe.clientV2), "v2");
      if (probe.client) patchResource(core, patcher, Object.getPrototypeOf(probe.client), "v1");
    } else {
      patchResource(core, patcher, Client.prototype as object, "v1");
    }
    return true;
  },
};
