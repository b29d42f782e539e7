/**
 * The one loader of the report's signing key (`AIGUARD_SIGNING_KEY`), used by the file writer, the
 * daemon and the CLI, and the one definition of what a seal signs.
 *
 * The variable holds an Ed25519 private key in PKCS#8 PEM: the PEM text itself (how CI secrets
 * arrive) or the path of a file holding it. No error, warning, stack or `cause` this module makes
 * contains key material or the variable's value when it is PEM text: every message is built from
 * fixed words, the file's path (only when the value is plainly a path) and the kind of problem.
 *
 * @module
 */
import { builtinModule } from "../runtime.ts";

/** A loaded signing key: signs seal messages (`sealMessage` in `_seal.ts`); its key id is public. */
export interface SigningKey {
  /** First 16 hex characters of the SHA-256 of the raw 32-byte public key. */
  readonly keyId: string;
  /** The base64 Ed25519 signature of a text's UTF-8 bytes, synchronously (exit paths seal too). */
  sign(text: string): string;
}

/** A signing key that cannot be loaded. Its message never holds key material. */
export class SigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SigningKeyError";
  }
}

const EXPECTED = "an Ed25519 private key in PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)";

/** Whether the variable's value is PEM text rather than a path. */
export function isPemText(value: string): boolean {
  return value.includes("-----") || value.includes("\n");
}

/**
 * How a message names where the key came from. A path is shown only when it cannot be key
 * material: base64 and hex have no `.`, and a path to a key file nearly always has one.
 */
function source(value: string): string {
  if (isPemText(value)) return "AIGUARD_SIGNING_KEY (PEM text)";
  return /\./.test(value) && value.length <= 4096
    ? `the signing key file ${value} (AIGUARD_SIGNING_KEY)`
    : "the signing key file named by AIGUARD_SIGNING_KEY";
}

function base64ToBytes(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

function bytesToBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** The DER body of the one `PRIVATE KEY` block, or what is wrong (no key material in it). */
function privateKeyDer(pem: string): Uint8Array<ArrayBuffer> | string {
  const begin = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem);
  if (!begin) return "it has no -----BEGIN PRIVATE KEY----- line";
  const label = begin[1]!;
  if (label === "PUBLIC KEY") {
    return "it is a public key: the writer needs the private key (verify takes the public one)";
  }
  if (
    label === "RSA PRIVATE KEY" || label === "EC PRIVATE KEY" || label === "ENCRYPTED PRIVATE KEY"
  ) {
    return `it is a ${label.toLowerCase()}, not ${EXPECTED}`;
  }
  if (label !== "PRIVATE KEY") return `its PEM block is not a PRIVATE KEY block`;
  const end = pem.indexOf("-----END PRIVATE KEY-----", begin.index);
  if (end === -1) return "its -----END PRIVATE KEY----- line is missing (truncated?)";
  const body = pem.slice(begin.index + begin[0].length, end).replace(/\s+/g, "");
  const der = base64ToBytes(body);
  if (der === null || der.length === 0) return "its body is not base64 (truncated or edited?)";
  return der;
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

interface KeyObjectLike {
  asymmetricKeyType?: string;
  export(options: { format: "der"; type: "spki" }): Uint8Array;
}

interface NodeCryptoSigning {
  createPrivateKey(key: { key: Uint8Array; format: "der"; type: "pkcs8" }): KeyObjectLike;
  createPublicKey(key: KeyObjectLike): KeyObjectLike;
  sign(algorithm: null, data: Uint8Array, key: KeyObjectLike): Uint8Array;
  createHash(algorithm: string): { update(data: Uint8Array): { digest(e: "hex"): string } };
}

interface NodeFsSync {
  openSync(path: string, flags: number): number;
  fstatSync(fd: number): { isFile(): boolean; isDirectory(): boolean; size: number };
  readSync(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): number;
  closeSync(fd: number): void;
  constants: { O_RDONLY: number; O_NONBLOCK: number };
}

/** Loads a key from PEM text; `where` names the source in errors. */
function keyFromPem(pem: string, where: string): SigningKey {
  const der = privateKeyDer(pem);
  if (typeof der === "string") {
    throw new SigningKeyError(`${where} is not ${EXPECTED}: ${der}.`);
  }
  const c = builtinModule<NodeCryptoSigning>("node:crypto");
  if (!c) throw new SigningKeyError("Seals need node:crypto (Node, Deno, Bun).");
  let key: KeyObjectLike;
  let keyId: string;
  try {
    key = c.createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    if (key.asymmetricKeyType !== "ed25519") throw 0;
    // The SPKI DER of an Ed25519 key ends in the raw 32-byte public key.
    const raw = c.createPublicKey(key).export({ format: "der", type: "spki" }).slice(-32);
    keyId = c.createHash("sha256").update(raw).digest("hex").slice(0, 16);
  } catch {
    // The runtime's own error may quote the DER; none of it goes on (not even as `cause`).
    throw new SigningKeyError(
      `${where} is not ${EXPECTED}: its body is not an Ed25519 PKCS#8 key (another algorithm, ` +
        "truncated or edited?).",
    );
  }
  const encoder = new TextEncoder();
  return {
    keyId,
    sign: (text) => bytesToBase64(c.sign(null, encoder.encode(text), key)),
  };
}

/** A key file's bytes: opened without blocking, and only when it is a regular file. */
function readKeyFile(fs: NodeFsSync, path: string, where: string): Uint8Array {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === "ENOENT"
      ? "no such file"
      : code === "EACCES" || code === "EPERM"
      ? "permission denied"
      : (code ?? "unreadable");
    throw new SigningKeyError(`${where} cannot be read: ${why}.`);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) {
      throw new SigningKeyError(`${where} cannot be read: it is a directory.`);
    }
    if (!stat.isFile()) {
      throw new SigningKeyError(`${where} cannot be read: it is not a regular file.`);
    }
    // A PEM key is a few hundred bytes: anything past 64 KiB is not one.
    const bytes = new Uint8Array(Math.min(stat.size, 64 * 1024));
    let at = 0;
    while (at < bytes.length) {
      const n = fs.readSync(fd, bytes, at, bytes.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return bytes.subarray(0, at);
  } catch (error) {
    if (error instanceof SigningKeyError) throw error;
    throw new SigningKeyError(
      `${where} cannot be read: ${(error as { code?: string }).code ?? "unreadable"}.`,
    );
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Loads the signing key from `AIGUARD_SIGNING_KEY`'s value: PEM text, or the path of a PEM file.
 * Synchronous, so an exit path can load and seal. Throws a {@link SigningKeyError} that says what
 * is wrong and never what is in the key.
 *
 * @example Sign a seal message
 * ```ts
 * import { loadSigningKey } from "./_signing_key.ts";
 * import { sealMessage } from "./_seal.ts";
 *
 * const value = Deno.env.get("AIGUARD_SIGNING_KEY");
 * if (value) {
 *   const key = loadSigningKey(value);
 *   const sig = key.sign(sealMessage("0123456789abcdef0123456789abcdef", 1, "ab".repeat(32)));
 * }
 * ```
 */
export function loadSigningKey(value: string): SigningKey {
  const where = source(value);
  if (isPemText(value)) return keyFromPem(value, where);
  const fs = builtinModule<NodeFsSync>("node:fs");
  if (!fs) throw new SigningKeyError(`${where} cannot be read: this runtime has no file system.`);
  const bytes = readKeyFile(fs, value, where);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new SigningKeyError(`${where} is not ${EXPECTED}: it is not text.`);
  }
  return keyFromPem(text, where);
}

/** A public key that checks seals (`aiguard verify --key`). */
export interface VerifyKey {
  /** First 16 hex characters of the SHA-256 of the raw 32-byte public key. */
  readonly keyId: string;
  /** Whether `sig` (base64) is this key's signature of `text`. */
  verify(text: string, sig: string): Promise<boolean>;
}

/**
 * Loads an Ed25519 public key from SPKI PEM text (`-----BEGIN PUBLIC KEY-----`); `where` names it
 * in errors.
 *
 * @example
 * ```ts
 * import { loadVerifyKey } from "./_signing_key.ts";
 * import { sealMessage } from "./_seal.ts";
 *
 * const key = await loadVerifyKey(await Deno.readTextFile("pub.pem"), "pub.pem");
 * const ok = await key.verify(sealMessage("0123456789abcdef0123456789abcdef", 1, "ab".repeat(32)), "c2ln");
 * ```
 */
export async function loadVerifyKey(pem: string, where: string): Promise<VerifyKey> {
  const m = /-----BEGIN PUBLIC KEY-----([\s\S]+?)-----END PUBLIC KEY-----/.exec(pem);
  const der = m ? base64ToBytes(m[1]!.replace(/\s+/g, "")) : null;
  let key: CryptoKey;
  let raw: Uint8Array<ArrayBuffer>;
  try {
    if (der === null) throw 0;
    key = await crypto.subtle.importKey("spki", der, { name: "Ed25519" }, true, ["verify"]);
    raw = new Uint8Array(await crypto.subtle.exportKey("raw", key));
  } catch {
    const hint = /PRIVATE KEY/.test(pem) ? " (this is a private key: give the public one)" : "";
    throw new SigningKeyError(
      `The key at ${where} is not an Ed25519 public key in SPKI PEM${hint}.`,
    );
  }
  const keyId = (await sha256Hex(raw)).slice(0, 16);
  return {
    keyId,
    async verify(text, sig) {
      const bytes = base64ToBytes(sig);
      if (bytes === null) return false;
      try {
        return await crypto.subtle.verify("Ed25519", key, bytes, new TextEncoder().encode(text));
      } catch {
        return false;
      }
    },
  };
}
