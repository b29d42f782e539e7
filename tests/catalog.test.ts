// @runtimes deno bun node
/**
 * The catalog is the one source of SDK facts: what it says is consistent, and the scan's
 * low-confidence reading of an unresolved receiver comes from it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CATALOG, FUNCTION_PACKAGES, RUNTIME_PACKAGES } from "../src/catalog.ts";
import { distinctiveSite } from "../src/scan/call_kinds.ts";

test("every distinctive method path is one of its entry's methods", () => {
  const listed = CATALOG.flatMap((e) => (e.distinctive ?? []).map((path) => [e.package, path]));
  assert.ok(listed.length >= 5, String(listed));
  for (const [pkg, path] of listed) {
    const entry = CATALOG.find((e) => e.package === pkg)!;
    assert.ok(Object.hasOwn(entry.methods, path!), `${pkg}: ${path}`);
  }
});

test("the scan reads an unresolved receiver's distinctive call as the catalog says, and only those", () => {
  const read = (path: string) => {
    const site = distinctiveSite(path);
    return site && [site.provider, site.library, site.target, site.operation, site.confidence];
  };
  assert.deepEqual(read("this.llm.chat.completions.create"), [
    "openai",
    "openai",
    "openai.chat.completions.create",
    "chat",
    "low",
  ]);
  assert.deepEqual(read("client.messages.create"), [
    "anthropic",
    "anthropic",
    "anthropic.messages.create",
    "chat",
    "low",
  ]);
  assert.deepEqual(read("ai.models.generateContent"), [
    "gcp.gemini",
    "google_genai",
    "google_genai.models.generateContent",
    "generate_content",
    "low",
  ]);
  // Catalog methods that are not distinctive (Mistral's chat.complete, Ollama's chat) are not.
  assert.equal(read("client.chat.complete"), null);
  assert.equal(read("client.chat"), null);
});

test("every package the runtime handles is patched by class or rebound by function, never both", () => {
  const runtime = CATALOG.filter((e) => !e.scanOnly).map((e) => e.package);
  assert.deepEqual([...RUNTIME_PACKAGES, ...FUNCTION_PACKAGES].sort(), [...runtime].sort());
  assert.equal(RUNTIME_PACKAGES.filter((p) => FUNCTION_PACKAGES.includes(p)).length, 0);
  assert.ok(FUNCTION_PACKAGES.includes("ai") && !RUNTIME_PACKAGES.includes("ai"));
});
