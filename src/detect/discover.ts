/**
 * Auto-discovery for the server-runtime preload (`@aiguard/attest/auto`): imports the supported AI
 * SDKs that resolve from the app. Kept out of the core on purpose: its specifiers are not literals,
 * which edge bundlers (miniflare, webpack, Vite, Deno Deploy) refuse or warn about.
 *
 * @module
 */
import { RUNTIME_PACKAGES } from "../catalog.ts";
import { runtimeKey } from "../runtime.ts";

/** The packages discovery looks for; `ws` only on Bun, where it is built in (no HTTP hook sees it). */
export function discoverablePackages(): string[] {
  const packages = [...RUNTIME_PACKAGES];
  if (runtimeKey() === "bun") packages.push("ws");
  return packages;
}

/** Imports the SDK packages that resolve from here; silently skips those that do not. */
export async function discoverClients(
  packages: readonly string[] = discoverablePackages(),
): Promise<unknown[]> {
  const found: unknown[] = [];
  await Promise.all(packages.map(async (name) => {
    try {
      const specifier = name; // a variable, so bundlers leave the optional import alone
      found.push(await import(specifier));
    } catch {
      // not installed: nothing to patch
    }
  }));
  return found;
}
