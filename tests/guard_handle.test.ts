/**
 * A handle acts only on the guard it returned; disableGuard() is the process-wide switch; closing
 * the guard reaches the storage adapter.
 */
import { beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { disableGuard, enableGuard, type GuardRecord, type StorageAdapter } from "../mod.ts";
import { freshContext } from "./support/mock_ai_server.ts";
import { installNetwork } from "./support/fake_network.ts";

beforeEach(freshContext);

const AI = "https://api.openai.com/v1/chat/completions";

test("a stale handle touches nothing live: disable(), flush(), records() and stats()", async () => {
  const net = installNetwork();
  try {
    const a = enableGuard({ mode: "report", sinks: ["memory"] });
    await fetch(AI, { method: "POST", body: "{}" });
    assert.equal(a.records().length, 1);
    await disableGuard();
    const b = enableGuard({ mode: "report", sinks: ["memory"] });
    await a.disable(); // the old guard is gone: this must not end guard b
    await a.flush();
    await fetch(AI, { method: "POST", body: "{}" });
    assert.equal(b.records().length, 1, "guard b is still live");
    assert.equal(b.stats().calls, 1);
    assert.equal(a.records().length, 1, "a's records are its own guard's");
    assert.equal(a.stats().calls, 1);
    await b.disable();
    await fetch(AI, { method: "POST", body: "{}" });
    assert.equal(b.records().length, 1, "b.disable() ended guard b");
  } finally {
    await disableGuard();
    net.restore();
  }
});

test("reconfiguring keeps the guard: the first handle still ends it", async () => {
  const net = installNetwork();
  try {
    const a = enableGuard({ mode: "report", sinks: ["memory"] });
    const b = enableGuard({ mode: "warn", sinks: ["memory"], logger: { warn() {} } });
    assert.equal(b.mode, "warn");
    await fetch(AI, { method: "POST", body: "{}" });
    const [r] = a.records() as GuardRecord[];
    assert.equal(r?.action, "warned", "one guard, reconfigured");
    await a.disable();
    await fetch(AI, { method: "POST", body: "{}" });
    assert.equal(b.records().length, 1, "the guard is off");
  } finally {
    await disableGuard();
    net.restore();
  }
});

/** A storage adapter that notes each append (with its line count) and the close, in order. */
function probeStorage(events: string[], onClose = () => {}): StorageAdapter {
  return {
    name: "probe",
    append(lines) {
      events.push(`append ${lines.split("\n").filter(Boolean).length}`);
      return Promise.resolve();
    },
    close() {
      events.push("close");
      onClose();
      return Promise.resolve();
    },
  };
}

test("disabling the guard closes the storage adapter after writing what was queued", async () => {
  const net = installNetwork();
  const events: string[] = [];
  const storage = probeStorage(events);
  try {
    enableGuard({ mode: "report", sinks: ["file"], storage });
    await fetch(AI, { method: "POST", body: "{}" });
    await fetch(AI, { method: "POST", body: "{}" });
    await disableGuard();
    assert.deepEqual(events, ["append 2", "close"]);
  } finally {
    net.restore();
  }
});

test('enableGuard({ mode: "off" }) on a live guard turns it off: patches undone, what was queued written, then closed', async () => {
  const net = installNetwork();
  const events: string[] = [];
  let closed!: () => void;
  const done = new Promise<void>((resolve) => (closed = resolve));
  const storage = probeStorage(events, () => closed());
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const live = enableGuard({ mode: "report", sinks: ["file"], storage });
    await fetch(AI, { method: "POST", body: "{}" });
    const off = enableGuard({ mode: "off" });
    assert.equal(off.mode, "off");
    assert.equal(globalThis.fetch, net.fake, "every patch undone");
    await fetch(AI, { method: "POST", body: "{}" });
    assert.equal(live.stats().calls, 1, "a call after the switch is not seen");
    // The switch closes the old output in the background: wait for it, but not forever.
    const late = new Promise<void>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("the live guard's storage was never closed")),
        5_000,
      );
    });
    await Promise.race([done, late]);
    assert.deepEqual(events, ["append 1", "close"]);
  } finally {
    clearTimeout(timer);
    await disableGuard();
    net.restore();
  }
});
