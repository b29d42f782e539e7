/**
 * cohere-ai: compiled to generator-based `__awaiter`, so the application frame is gone after the
 * first `yield`. The calls are recorded at the entry of the v1 (`CohereClient`) and v2
 * (`V2Client`, what `CohereClientV2` binds) methods, where the frame is still on the stack.
 *
 * @module
 */
import { sdkOf } from "../../catalog.ts";
import type { GuardCore } from "../layer.ts";
import type { Patcher } from "../patcher.ts";
import { splitUrl } from "../providers.ts";
import { type Fn, modelArg, recordingHook } from "./hooks.ts";
import { throwaway } from "./stainless.ts";

/** The client methods that are AI calls, from the catalog (the v1 and v2 classes share them). */
const METHODS = Object.fromEntries(
  Object.entries(sdkOf("cohere-ai")!.methods).filter(([path]) => !path.includes(".")),
);

const DEFAULT_URL = "https://api.cohere.com";

function serverOf(self: Record<string, unknown>): { server: string | null; port: number | null } {
  const options = self._options as { baseUrl?: unknown; environment?: unknown } | undefined;
  const url = typeof options?.baseUrl === "string"
    ? options.baseUrl
    : typeof options?.environment === "string"
    ? options.environment
    : DEFAULT_URL;
  const parts = splitUrl(url);
  return { server: parts?.hostname ?? null, port: parts?.port ?? null };
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
            provider: "cohere",
            operation: operation ?? null,
            model: modelArg(args),
            target: `cohere.${api}.${method}`,
            detector: "sdk",
            ...serverOf(self),
          }),
          false,
          true,
        ),
    );
  }
}

/** Whether a class is one of cohere-ai's clients. */
export function isCohereClient(Client: Fn): boolean {
  return /^Cohere(?:Client|ClientV2)$/.test(Client.name);
}

/** Patches the resource classes behind `CohereClient` / `CohereClientV2`. */
export function patchCohere(core: GuardCore, patcher: Patcher, Client: Fn): boolean {
  const probe = throwaway(Client as unknown as new (o: object) => object, { token: "probe" }) as
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
}
