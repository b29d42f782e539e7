// @runtimes deno bun node
/**
 * PENDING (not run by scripts/run.mjs): a design question for the writer's lock
 * (src/storage/_report_lock.ts, `lock()`), decided with the writer's work still landing.
 * Run: ./node_modules/.bin/node --test --test-force-exit tests/attack_pending/lock_held_forever.pending.ts
 *
 * A live process that holds the report lock and never lets go — stopped (SIGSTOP, Ctrl-Z) or
 * paused at a debugger breakpoint while its batch was in flight — stalls every other writer of
 * that report for as long: `lock()` waits for a live holder without a bound. The daemon and every
 * other guarded app on the machine stop writing; their queues fill and drop records; only their
 * exit paths (2 s bound, then written without the lock) get anything out. (A guarded app whose work
 * is done does end: the guard's waits keep no process alive — tests/attack_exit_lock.test.ts.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeFsStorage } from "../../src/storage/node_fs.ts";
import { recordJson } from "../support/fixtures.ts";
import { stoppedHolder } from "../support/stopped_holder.ts";

test("a live holder that never releases the lock does not stall another writer for more than 10 s", async () => {
  const dir = await mkdtemp(join(tmpdir(), "aiguard-lock-held-"));
  const path = join(dir, "report.jsonl");
  const holder = await stoppedHolder(path);
  try {
    const storage = createNodeFsStorage({ path });
    const outcome = await Promise.race([
      storage.appendLines!([recordJson()]).then(() => "written", (e) => `failed: ${e}`),
      new Promise((resolve) => setTimeout(() => resolve("still waiting after 10 s"), 10_000)),
    ]);
    assert.notEqual(outcome, "still waiting after 10 s");
  } finally {
    holder.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});
