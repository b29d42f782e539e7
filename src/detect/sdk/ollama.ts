/**
 * ollama: `chat`, `generate` and `embed` on the client class record the call at their entry.
 *
 * @module
 */
import { ownerOf } from "../patcher.ts";
import { serverOf } from "../providers.ts";
import { type Fn, modelArg, recordingHook } from "./hooks.ts";
import { catalogEntry, methodsUnder, type SdkFamily } from "./family.ts";

const OLLAMA = catalogEntry("ollama");
const METHODS = methodsUnder(OLLAMA, "");

/**
 * ollama's client classes (`Ollama`, and the class of its default export), known by their methods:
 * `pull` beside `chat` and `generate`.
 */
export const ollamaFamily: SdkFamily = {
  name: "ollama",
  matches(Client) {
    const proto = Client.prototype as object | undefined;
    return !!proto && ownerOf(proto, "pull") !== null && ownerOf(proto, "chat") !== null &&
      ownerOf(proto, "generate") !== null;
  },
  patch(core, patcher, Client) {
    for (const [method, operation] of Object.entries(METHODS)) {
      const owner = ownerOf(Client.prototype as object, method);
      if (!owner) continue;
      patcher.wrapMethod<Fn>(
        owner,
        method,
        (original) =>
          recordingHook(core, original, (self, args) => ({
            provider: OLLAMA.provider,
            operation,
            model: modelArg(args),
            target: `${OLLAMA.library}.${method}`,
            detector: "sdk",
            ...serverOf((self.config as { host?: unknown } | undefined)?.host),
          }), true),
      );
    }
    return true;
  },
};
