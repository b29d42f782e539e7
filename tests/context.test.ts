import { test } from "node:test";
import assert from "node:assert/strict";
import {
  contextKind,
  type Frame,
  resolveContextStorage,
  setContextStorage,
  SyncContextStorage,
} from "../src/context.ts";
import { attest, isAttested } from "../mod.ts";

test("the context resolves to a real AsyncLocalStorage on this runtime", () => {
  assert.notEqual(contextKind(), "shim");
});

test("the shim keeps synchronous scopes and warns once", () => {
  const warnings: string[] = [];
  const { storage, kind } = resolveContextStorage({ warn: (m) => warnings.push(m) });
  assert.equal(kind, "shim");
  setContextStorage(storage);
  try {
    const inside = attest(() => isAttested());
    assert.equal(inside(), true);
    assert.equal(inside(), true);
    assert.equal(isAttested(), false);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /no AsyncLocalStorage/);
  } finally {
    setContextStorage(null);
  }
});

test("an injected store wins over every other source", () => {
  const injected = new SyncContextStorage<Frame>();
  const { storage, kind } = resolveContextStorage({
    injected,
    globalAls: class {},
    builtin: () => ({ AsyncLocalStorage: class {} }),
  });
  assert.equal(kind, "injected");
  assert.equal(storage, injected);
});

test("a global AsyncLocalStorage comes before node:async_hooks", () => {
  class GlobalAls {
    run<R>(_s: unknown, fn: () => R): R {
      return fn();
    }
    getStore(): undefined {
      return undefined;
    }
  }
  const { kind } = resolveContextStorage({
    globalAls: GlobalAls,
    builtin: () => ({ AsyncLocalStorage: class {} }),
  });
  assert.equal(kind, "global");
  const fromBuiltin = resolveContextStorage({
    builtin: (name) => name === "node:async_hooks" ? { AsyncLocalStorage: GlobalAls } : undefined,
  });
  assert.equal(fromBuiltin.kind, "node:async_hooks");
});
