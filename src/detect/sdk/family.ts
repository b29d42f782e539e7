/**
 * What every SDK family is to the SDK layer: a name, a test that recognises its client classes and
 * a patch for them. The families' facts (packages, client class names, providers, methods) are read
 * from the catalog (`src/catalog.ts`); a family states only how its SDK is built.
 *
 * @module
 */
import { clientProvider, type SdkEntry, sdkOf } from "../../catalog.ts";
import type { GuardCore } from "../layer.ts";
import type { Patcher } from "../patcher.ts";
import type { Fn } from "./hooks.ts";

/**
 * One family of AI SDK clients that share a construction (Stainless's `methodRequest`, Smithy's
 * `send`, …). The SDK layer asks each family of `FAMILIES` in turn and patches a class with the
 * first that matches.
 *
 * @example A family for a hypothetical SDK whose clients have `complete()`
 * ```ts
 * import type { SdkFamily } from "./family.ts";
 * const acme: SdkFamily = {
 *   name: "acme",
 *   matches: (Client) => typeof Client.prototype?.complete === "function",
 *   patch: () => true,
 * };
 * ```
 */
export interface SdkFamily {
  /** A short name for messages and tests, e.g. `stainless`. */
  readonly name: string;
  /** Whether `Client` (a class, with a prototype) is one of this family's. Never throws. */
  matches(Client: Fn): boolean;
  /**
   * Patches `Client`'s methods through `patcher`; `false` when the class could not be patched (its
   * probe client could not be built), so the class does not count as recognised.
   */
  patch(core: GuardCore, patcher: Patcher, Client: Fn): boolean;
}

/**
 * The catalog entry of a package the runtime patches: a family is written for its entry, so a
 * missing one is a programming error, thrown when the family loads.
 */
export function catalogEntry(packageName: string): SdkEntry {
  const entry = sdkOf(packageName);
  if (entry === undefined || entry.package !== packageName) {
    throw new Error(`aiguard: no catalog entry for ${packageName}`);
  }
  return entry;
}

/** A client class as the catalog names it: its entry, and the exported class name it derives from. */
export interface CatalogClient {
  readonly entry: SdkEntry;
  /** The exported class on `Client`'s chain that the entry lists (`AzureOpenAI`, `Mistral`). */
  readonly className: string;
}

/**
 * The first class on `Client`'s prototype chain (itself, then what it extends) that one of
 * `entries` lists among its clients, so an application's subclass is named as its SDK's class.
 *
 * @example
 * ```ts
 * import { catalogClient, catalogEntry } from "./family.ts";
 * class Mistral {}
 * class MyMistral extends Mistral {}
 * catalogClient([catalogEntry("@mistralai/mistralai")], MyMistral)?.className; // "Mistral"
 * ```
 */
export function catalogClient(entries: readonly SdkEntry[], Client: Fn): CatalogClient | null {
  for (
    let ctor: unknown = Client;
    typeof ctor === "function" && ctor !== Function.prototype;
    ctor = Object.getPrototypeOf(ctor)
  ) {
    const name = (ctor as { name?: unknown }).name;
    if (typeof name !== "string" || name === "" || name === "default") continue;
    for (const entry of entries) {
      if (Object.prototype.hasOwnProperty.call(entry.clients, name)) {
        return { entry, className: name };
      }
    }
  }
  return null;
}

/** The provider of a catalog client: the class's own (`AzureOpenAI`) or its package's. */
export function providerOf(client: CatalogClient): string {
  return clientProvider(client.entry, client.className);
}

/**
 * The catalog's method paths under one resource (`chat` of `chat.complete`), as method → operation;
 * `""` gives the client's own methods (paths without a dot).
 */
export function methodsUnder(
  entry: SdkEntry,
  resource: string,
): Readonly<Record<string, string | null>> {
  const prefix = resource === "" ? "" : `${resource}.`;
  const out: Record<string, string | null> = {};
  for (const [path, operation] of Object.entries(entry.methods)) {
    if (!path.startsWith(prefix)) continue;
    const method = path.slice(prefix.length);
    if (!method.includes(".")) out[method] = operation;
  }
  return out;
}

/**
 * A client built only to reach its resource classes; it never sends anything. `null` when the
 * constructor throws (an SDK version that wants other options).
 */
export function probeClient(Client: Fn, options: object): object | null {
  try {
    return new (Client as unknown as new (options: object) => object)({
      apiKey: "aiguard-probe",
      dangerouslyAllowBrowser: true,
      endpoint: "https://aiguard.invalid",
      apiVersion: "2024-10-21",
      ...options,
    });
  } catch {
    return null;
  }
}
