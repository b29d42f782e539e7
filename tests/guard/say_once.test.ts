/**
 * The guard's one "warn once": a call site's warning and a failed sink's notice are each said once
 * per guard, from one set, and a logger that throws never reaches the app.
 */
import { beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { enableGuard } from "../../mod.ts";
import { sayOnce } from "../../src/guard/say_once.ts";
import { freshContext } from "../support/mock_ai_server.ts";
import { installNetwork } from "../support/fake_network.ts";

beforeEach(freshContext);

test("sayOnce says a key the first time only, and swallows a throwing logger", () => {
  const said = new Set<string>();
  const heard: string[] = [];
  sayOnce(said, "a", () => heard.push("a1"));
  sayOnce(said, "a", () => heard.push("a2"));
  sayOnce(said, "b", () => heard.push("b1"));
  assert.deepEqual(heard, ["a1", "b1"]);
  assert.doesNotThrow(() =>
    sayOnce(said, "c", () => {
      throw new Error("logger down");
    })
  );
  // Said (and failed) once is enough: a broken logger is not called again for the same key.
  let calls = 0;
  sayOnce(said, "c", () => calls++);
  assert.equal(calls, 0);
});

test("warn mode: each call site is warned once and a failing onRecord is said once, side by side", async () => {
  const net = installNetwork();
  const warnings: string[] = [];
  const guard = enableGuard({
    mode: "warn",
    sinks: ["memory"],
    logger: { warn: (m: string) => void warnings.push(m) },
    onRecord() {
      throw new Error("callback down");
    },
  });
  const siteA = () => fetch("https://api.openai.com/v1/chat/completions", { method: "POST" });
  const siteB = () => fetch("https://api.openai.com/v1/chat/completions", { method: "POST" });
  try {
    for (let i = 0; i < 3; i++) await siteA();
    for (let i = 0; i < 2; i++) await siteB();
    assert.equal(net.seen.length, 5);
    assert.equal(warnings.filter((w) => /unattested/.test(w)).length, 2, warnings.join("\n"));
    assert.equal(warnings.filter((w) => /onRecord sink failed/.test(w)).length, 1);
    assert.equal(warnings.length, 3, warnings.join("\n"));
  } finally {
    await guard.disable();
    net.restore();
  }
});
