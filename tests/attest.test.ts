import { test } from "node:test";
import assert from "node:assert/strict";
import { attest, isAttested, wrap } from "../mod.ts";
import { currentAttestation } from "../src/attest.ts";

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

test("attest() keeps the flag across await, setTimeout and queueMicrotask", async () => {
  const seen: boolean[] = [];
  await attest(async () => {
    seen.push(isAttested());
    await tick();
    seen.push(isAttested());
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        seen.push(isAttested());
        resolve();
      }, 2)
    );
    await new Promise<void>((resolve) =>
      queueMicrotask(() => {
        seen.push(isAttested());
        resolve();
      })
    );
  })();
  assert.deepEqual(seen, [true, true, true, true]);
  assert.equal(isAttested(), false);
});

test("attest() keeps the flag through promise chains and Promise.all fan-out", async () => {
  const flags = await attest(() =>
    Promise.resolve()
      .then(() => isAttested())
      .then(async (first) => [
        first,
        ...(await Promise.all([1, 2, 3].map(async () => {
          await tick();
          return isAttested();
        }))),
      ])
  )();
  assert.deepEqual(flags, [true, true, true, true]);
});

test("the flag is absent outside the scope, also in work started before it", async () => {
  let outside: boolean | undefined;
  const pending = tick().then(() => (outside = isAttested()));
  await attest(async () => {
    await pending;
  })();
  assert.equal(outside, false);
  assert.equal(isAttested(), false);
});

test("attest() keeps the flag in sync generators while they are iterated", () => {
  const gen = attest(function* () {
    yield isAttested();
    yield isAttested();
  });
  const iterator = gen();
  assert.equal(isAttested(), false);
  assert.deepEqual([...iterator], [true, true]);
});

test("attest() keeps the flag in async generators while they are iterated", async () => {
  const gen = attest(async function* () {
    yield isAttested();
    await tick();
    yield isAttested();
  });
  const seen: boolean[] = [];
  for await (const flag of gen()) {
    seen.push(flag);
    assert.equal(isAttested(), false);
  }
  assert.deepEqual(seen, [true, true]);
});

test("10,000 concurrent tasks, half attested, see only their own flag", async () => {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  let crossTalk = 0;
  const task = async (expected: boolean) => {
    for (let i = 0; i < 3; i++) {
      if (random() < 0.5) await Promise.resolve();
      else await new Promise<void>((resolve) => setTimeout(resolve, Math.floor(random() * 3)));
      if (isAttested() !== expected) crossTalk++;
    }
  };
  const attestedTask = attest(() => task(true));
  await Promise.all(
    Array.from({ length: 10_000 }, (_, i) => i % 2 === 0 ? attestedTask() : task(false)),
  );
  assert.equal(crossTalk, 0);
});

test("attest() returns the wrapped function's value and rethrows the same error object", async () => {
  assert.equal(attest((a: number, b: number) => a + b)(2, 3), 5);
  const error = new Error("boom");
  assert.throws(() =>
    attest(() => {
      throw error;
    })(), (thrown) => thrown === error);
  await assert.rejects(
    attest(async () => {
      await tick();
      throw error;
    })(),
    (thrown) => thrown === error,
  );
});

test("attest() keeps a sync function sync, and this, name and length", () => {
  const obj = {
    base: 10,
    add: attest(function add(this: { base: number }, n: number, _unused?: number) {
      return this.base + n;
    }),
  };
  const result = obj.add(5);
  assert.equal(result, 15);
  assert.equal(typeof result, "number");
  assert.equal(obj.add.name, "add");
  assert.equal(obj.add.length, 2);
});

test("nested attest() scopes keep the innermost id and restore the outer one", async () => {
  const seen: (string | null | undefined)[] = [];
  await attest(async () => {
    seen.push(currentAttestation()?.id);
    await attest(async () => {
      await tick();
      seen.push(currentAttestation()?.id);
      seen.push(currentAttestation()?.reason);
    }, { id: "inner", reason: "R-2" })();
    seen.push(currentAttestation()?.id);
  }, { id: "outer" })();
  assert.deepEqual(seen, ["outer", "inner", "R-2", "outer"]);
});

test("attest() as a factory wraps plain functions too", () => {
  const f = attest({ id: "factory" })(() => currentAttestation()?.id);
  assert.equal(f(), "factory");
});

test("attest() rejects options of the wrong type with a clear error", () => {
  assert.throws(
    () => attest({ id: 42 as unknown as string }),
    /attest\(\) option "id" must be a string/,
  );
});

class Counter {
  #count = 0;
  label = "counter";
  nested = { inner: { check: () => isAttested() } };
  increment(): number {
    this.#count++;
    return this.#count;
  }
  get count(): number {
    return this.#count;
  }
  flag(): boolean {
    return isAttested();
  }
  async later(): Promise<boolean> {
    await tick();
    return isAttested();
  }
}

test("wrap() runs methods attested and keeps private fields working", async () => {
  const counter = new Counter();
  const wrapped = wrap(counter, { id: "counter" });
  assert.equal(wrapped.increment(), 1);
  assert.equal(wrapped.increment(), 2);
  assert.equal(wrapped.count, 2);
  assert.equal(counter.count, 2);
  assert.equal(wrapped.flag(), true);
  assert.equal(await wrapped.later(), true);
  assert.equal(counter.flag(), false);
});

test("wrap() covers nested objects and reads plain properties through", () => {
  const wrapped = wrap(new Counter());
  assert.equal(wrapped.label, "counter");
  assert.equal(wrapped.nested.inner.check(), true);
  assert.equal(wrapped.nested, wrapped.nested);
  assert.equal(wrapped.increment, wrapped.increment);
});

test("wrap() leaves frozen properties readable", () => {
  const inner = { f: () => isAttested() };
  const target = Object.freeze({ inner });
  const wrapped = wrap(target);
  assert.equal(wrapped.inner, inner);
});
