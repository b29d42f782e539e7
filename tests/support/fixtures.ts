/** One version-1 `ai_call` record as a JSON string, with fields overridden as given. */
export function recordJson(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    v: 1,
    ts: "2026-11-23T10:00:00.000Z",
    event: "ai_call",
    attested: false,
    action: "reported",
    mode: "report",
    provider: "openai",
    operation: "chat",
    model: "gpt-4o",
    target: "openai.chat.completions.create",
    detector: "sdk",
    server: "api.openai.com",
    port: 443,
    call_site: "src/a.ts:10:5",
    stack: ["src/a.ts:10:5"],
    runtime: "node",
    service: null,
    pid: 1,
    attestation: null,
    guard_version: "0.1.0",
    ...overrides,
  });
}
