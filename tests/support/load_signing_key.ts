// Loads AIGUARD_SIGNING_KEY with the one loader and lets a failure go uncaught, so the runtime
// prints the error, its stack and any cause the way it does for an app.
import { loadSigningKey } from "../../src/storage/_signing_key.ts";

const env = (name: string) =>
  (globalThis as { Deno?: { env: { get(n: string): string | undefined } } }).Deno?.env.get(name) ??
    (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[name];

const key = loadSigningKey(env("AIGUARD_SIGNING_KEY") ?? "");
console.log(`loaded key ${key.keyId}`);
