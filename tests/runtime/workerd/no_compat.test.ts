// Runs in workerd WITHOUT nodejs_compat: no process, no AsyncLocalStorage. The core must load and
// keep synchronous scopes on the shim.
import { test } from "node:test";
import { attest, isAttested } from "../../../mod.ts";
import { contextKind } from "../../../src/context.ts";

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

test("without nodejs_compat the core loads and falls back to the shim", () => {
  check(typeof (globalThis as { process?: unknown }).process === "undefined", "process exists");
  check(contextKind() === "shim", `context is ${contextKind()}`);
});

test("without nodejs_compat synchronous attest() scopes work and warn once", () => {
  const warnings: unknown[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args[0]);
  try {
    const f = attest(() => isAttested());
    check(f() === true, "not attested inside");
    check(f() === true, "not attested inside (second call)");
    check(isAttested() === false, "attested outside");
    check(warnings.length === 1, `expected one warning, got ${warnings.length}`);
  } finally {
    console.warn = original;
  }
});
