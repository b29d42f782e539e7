/**
 * Bun auto-installs a package it is asked to resolve where no `node_modules` directory is in the
 * working directory or above. The preload resolves the SDK entries it may patch at start: from such
 * a directory it must not make Bun fetch them. The registry here is a local server that counts
 * what it is asked for.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
let registry: Server;
const asked: string[] = [];
let dir: string;

before(async () => {
  registry = createServer((request, response) => {
    asked.push(request.url ?? "");
    response.writeHead(404).end();
  });
  await new Promise<void>((listening) => registry.listen(0, "127.0.0.1", listening));
  dir = await mkdtemp(join(tmpdir(), "aiguard-autoinstall-"));
});
after(async () => {
  await new Promise((closed) => registry.close(closed));
  await rm(dir, { recursive: true, force: true });
});

test("bun --preload from a directory without node_modules asks the registry for nothing", async () => {
  await writeFile(join(dir, "app.mjs"), 'console.log("app ran");\n');
  const { port } = registry.address() as AddressInfo;
  const { stdout } = await run(process.execPath, ["--preload", resolve("auto.ts"), "app.mjs"], {
    cwd: dir,
    env: {
      ...process.env,
      HOME: dir,
      BUN_INSTALL_CACHE_DIR: join(dir, "cache"),
      BUN_CONFIG_REGISTRY: `http://127.0.0.1:${port}/`,
      NPM_CONFIG_REGISTRY: `http://127.0.0.1:${port}/`,
      AIGUARD_MODE: "report",
      AIGUARD_REPORT_PATH: join(dir, "r.jsonl"),
      AIGUARD_SOCKET: join(dir, "none.sock"),
    },
  });
  assert.match(stdout, /app ran/);
  assert.deepEqual(asked, []);
});
