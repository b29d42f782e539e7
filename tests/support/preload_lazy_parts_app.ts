// Run under tests/preload_builtins.test.ts's resolve spy and the guard's preload: prints the
// package's modules resolved at start, after loading an SDK, and after one unattested AI call.
const g = globalThis as { resolvedUrls?: string[] };
const own = () =>
  (g.resolvedUrls ?? []).filter((u) => u.includes("/src/")).map((u) =>
    u.replace(/.*\/src\//, "src/")
  );
const atStart = own();
await import("openai");
const afterSdk = own();
const port = (globalThis as { Deno?: { env: { get(k: string): string } } }).Deno?.env.get(
  "AIGUARD_TEST_PORT",
) ?? process.env.AIGUARD_TEST_PORT;
await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: "POST", body: "{}" })
  .catch(() => {});
console.log(JSON.stringify({ atStart, afterSdk, afterCall: own() }));
