// @runtimes deno bun node
/**
 * The signing key is never printed (issue 22.2): `AIGUARD_SIGNING_KEY` holds the PEM text or a
 * path; every bad key is refused with a message that says what is wrong and never what is in it —
 * not in the message, the stack, a `cause`, nor what the runtime prints for an uncaught error.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSigningKey, loadVerifyKey, SigningKeyError } from "../src/storage/_signing_key.ts";
import { sealMessage } from "../src/storage/_seal.ts";
import { keyPair, pem } from "./support/keys.ts";
import { runtimeCommand } from "./support/runtime_command.ts";

const LOADER = fileURLToPath(new URL("./support/load_signing_key.ts", import.meta.url));

let dir: string;
let good: Awaited<ReturnType<typeof keyPair>>;
/** Bad keys by name: the variable's value, and the secret bytes none of the output may hold. */
const bad: Array<{ name: string; value: string; secret: string; expected: RegExp }> = [];

function bodyOf(pemText: string): string {
  return pemText.split("\n").filter((l) => l && !l.startsWith("-----")).join("");
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "aiguard-key-"));
  good = await keyPair(dir, "good");
  const body = bodyOf(good.privatePem);
  const rsa = await crypto.subtle.generateKey(
    {
      name: "RSA-PSS",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const rsaPem = pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", rsa.privateKey));
  const rsaPkcs1 = rsaPem.replace(/PRIVATE KEY/g, "RSA PRIVATE KEY");
  const truncated = good.privatePem.slice(0, Math.floor(good.privatePem.length / 2));
  const typo = good.privatePem.replace("BEGIN PRIVATE KEY", "BEGIN PRIVTE KEY");
  const typoBody = good.privatePem.replace(body.slice(10, 14), "!!!!");
  const garbage = "this is no key at all: c2VjcmV0LWtleS1tYXRlcmlhbC1oZXJl\n";
  const texts: Array<[string, string, string, RegExp]> = [
    [
      "garbage",
      garbage,
      "c2VjcmV0LWtleS1tYXRlcmlhbC1oZXJl",
      /has no -----BEGIN PRIVATE KEY----- line/,
    ],
    [
      "truncated",
      truncated,
      bodyOf(truncated),
      /END PRIVATE KEY----- line is missing \(truncated\?\)/,
    ],
    ["RSA (PKCS#8)", rsaPem, bodyOf(rsaPem), /not an Ed25519 PKCS#8 key \(another algorithm/],
    ["RSA (PKCS#1)", rsaPkcs1, bodyOf(rsaPkcs1), /it is a rsa private key/],
    ["public key", good.publicPem, bodyOf(good.publicPem), /it is a public key/],
    [
      "PEM with a typo in the label",
      typo,
      body,
      /its PEM block is not a PRIVATE KEY block|has no -----BEGIN PRIVATE KEY/,
    ],
    ["PEM with a typo in the body", typoBody, body.slice(20, 60), /its body is not base64/],
  ];
  for (const [name, text, secret, expected] of texts) {
    bad.push({ name: `${name} as PEM text`, value: text, secret, expected });
    const path = join(dir, `${name.replace(/\W+/g, "-")}.pem`);
    await writeFile(path, text, { mode: 0o600 });
    bad.push({ name: `${name} in a file`, value: path, secret, expected });
  }
  const folder = join(dir, "a-directory.pem");
  await mkdir(folder);
  bad.push({
    name: "directory",
    value: folder,
    secret: body,
    expected: /cannot be read: it is a directory/,
  });
  bad.push({
    name: "missing file",
    value: join(dir, "missing.pem"),
    secret: body,
    expected: /cannot be read: no such file/,
  });
  // The body alone, no PEM lines (a secret pasted wrong): taken as a path, and never shown.
  bad.push({
    name: "bare base64 body",
    value: body,
    secret: body,
    expected: /^the signing key file named by AIGUARD_SIGNING_KEY cannot be read: no such file\.$/,
  });
});
after(() => rm(dir, { recursive: true, force: true }));

/** Pieces of `secret` long enough that finding one means key material leaked. */
function pieces(secret: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 12 <= secret.length; i += 6) out.push(secret.slice(i, i + 12));
  return out;
}

function assertClean(text: string, secret: string, what: string) {
  for (const piece of pieces(secret)) {
    assert.ok(!text.includes(piece), `${what}: key bytes "${piece}" in:\n${text}`);
  }
  assert.ok(!text.includes("-----BEGIN PRIVATE KEY-----\n"), `${what}: PEM text printed`);
}

test("the PEM text and a path both load, to the same key id; seals verify with the public key", async () => {
  const fromText = loadSigningKey(good.privatePem);
  const fromPath = loadSigningKey(good.privatePath);
  assert.equal(fromText.keyId, fromPath.keyId);
  assert.match(fromText.keyId, /^[0-9a-f]{16}$/);
  const message = sealMessage("0123456789abcdef0123456789abcdef", 7, "ab".repeat(32));
  const sig = fromText.sign(message);
  const pub = await loadVerifyKey(good.publicPem, "pub.pem");
  assert.equal(pub.keyId, fromText.keyId);
  assert.equal(await pub.verify(message, sig), true);
  assert.equal(
    await pub.verify(message.replace(":7:", ":8:"), sig),
    false,
    "bound to the position",
  );
});

test("every bad key is refused naming the problem; no message, stack or cause holds key material", () => {
  assert.ok(bad.length >= 17);
  for (const { name, value, secret, expected } of bad) {
    let error: unknown = null;
    try {
      loadSigningKey(value);
    } catch (thrown) {
      error = thrown;
    }
    assert.ok(error instanceof SigningKeyError, `${name}: ${error}`);
    assert.match(error.message, expected, name);
    assert.equal(error.cause, undefined, `${name}: no cause`);
    const shown = `${error.message}\n${error.stack}\n${JSON.stringify(error)}\n${String(error)}`;
    assertClean(shown, secret, name);
    if (value.includes("\n")) {
      assert.ok(!shown.includes(value.slice(0, 40)), `${name}: value shown`);
    }
  }
});

test("a bad key in a child process: what the runtime prints for the uncaught error holds no key", async () => {
  for (const { name, value, secret } of bad) {
    const [cmd, args] = runtimeCommand(LOADER, []);
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(cmd, args, {
        env: { ...process.env, AIGUARD_SIGNING_KEY: value, NO_COLOR: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout!.on("data", (c) => (out += c));
      child.stderr!.on("data", (c) => (out += c));
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    });
    assert.notEqual(code, 0, `${name}: fails`);
    assert.match(out, /SigningKeyError/, name);
    assertClean(out, secret, `${name} (child output)`);
  }
});
