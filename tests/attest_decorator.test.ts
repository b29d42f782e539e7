import { test } from "node:test";
import assert from "node:assert/strict";
import { attest, isAttested } from "../mod.ts";
import { currentAttestation } from "../src/attest.ts";

class Service {
  #secret = 7;

  @attest({ id: "sync-method" })
  syncCall(n: number): number {
    assert.equal(isAttested(), true);
    return n + this.#secret;
  }

  @attest({ id: "async-method" })
  async asyncCall(): Promise<string | null | undefined> {
    await new Promise((resolve) => setTimeout(resolve, 1));
    return currentAttestation()?.id;
  }

  @attest({ id: "static-method" })
  static staticCall(): string | null | undefined {
    return currentAttestation()?.id;
  }

  plain(): boolean {
    return isAttested();
  }

  @attest({ id: "calls-plain" })
  callsPlain(): boolean {
    return this.plain();
  }
}

test("@attest() decorates sync instance methods and keeps this", () => {
  const result = new Service().syncCall(1);
  assert.equal(result, 8);
  assert.equal(typeof result, "number");
});

test("@attest() decorates async instance methods", async () => {
  assert.equal(await new Service().asyncCall(), "async-method");
});

test("@attest() decorates static methods", () => {
  assert.equal(Service.staticCall(), "static-method");
});

test("undecorated methods stay unattested, right after and while decorated ones run", async () => {
  const service = new Service();
  // The probe can see a scope: called from a decorated method, it is attested.
  assert.equal(service.callsPlain(), true);
  assert.equal(service.plain(), false, "after a decorated method returned");
  service.syncCall(1);
  assert.equal(service.plain(), false, "after a decorated sync method returned");
  const pending = service.asyncCall();
  assert.equal(service.plain(), false, "while a decorated async method is pending");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(service.plain(), false, "during its await");
  assert.equal(await pending, "async-method");
  assert.equal(service.plain(), false, "after it settled");
  Service.staticCall();
  assert.equal(service.plain(), false, "after a decorated static method");
});
