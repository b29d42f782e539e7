/**
 * Seals over the hash chain: with `AIGUARD_SIGNING_KEY` (an Ed25519 private key, PKCS#8 PEM) the
 * file storage appends, after every batch it writes, a chained line
 * `{"event":"seal","report":<id>,"upto":<seq>,"hash":<hex sha256 of line upto>,"sig":<base64
 * Ed25519 signature of "aiguard-seal:v1:<report>:<upto>:<hash>">,"key_id":<16 hex>}`. The signed
 * text binds the report and the position, not only the hash, so a seal cannot be moved to another
 * report or another place (as Certificate Transparency's signed tree head binds the log's size).
 * `aiguard verify --key PUB.pem` (SPKI PEM) checks them. Signing is node:crypto's (synchronous, so
 * an exit path can seal); the key never reaches a record, a log line or an error message.
 *
 * @module
 */
import { builtinModule } from "../runtime.ts";

/** Signs a chain position. */
export interface Sealer {
  /** First 16 hex characters of the SHA-256 of the raw 32-byte public key. */
  readonly keyId: string;
  /** The seal line (without `seq`/`prev`, which the chain adds) for the line `upto` of `report`. */
  seal(upto: number, hash: string, report: string): string;
}

/**
 * The text a seal signs: it names the report, the sealed line's seq and that line's hash.
 *
 * @example
 * ```ts
 * import { sealMessage } from "./_seal.ts";
 * sealMessage("0123456789abcdef0123456789abcdef", 7, "ab…"); // "aiguard-seal:v1:0123…:7:ab…"
 * ```
 */
export function sealMessage(report: string, upto: number, hash: string): string {
  return `aiguard-seal:v1:${report}:${upto}:${hash}`;
}

interface KeyObjectLike {
  asymmetricKeyType?: string;
  export(options: { format: "der"; type: "spki" }): Uint8Array;
}

interface NodeCryptoSigning {
  createPrivateKey(pem: string): KeyObjectLike;
  createPublicKey(key: KeyObjectLike): KeyObjectLike;
  sign(algorithm: null, data: Uint8Array, key: KeyObjectLike): Uint8Array;
  createHash(algorithm: string): { update(data: Uint8Array): { digest(e: "hex"): string } };
}

function pemBody(pem: string, label: string): Uint8Array<ArrayBuffer> {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]+?)-----END ${label}-----`).exec(pem);
  if (!m) throw new Error(`not a ${label} PEM`);
  const bin = atob(m[1]!.replace(/\s+/g, ""));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function base64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

async function sha256BytesAsync(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Loads the signer from a PKCS#8 PEM's text, synchronously (an exit path may need it first).
 * Errors say what is wrong with the key, never what is in it.
 */
export function sealerFromPemSync(pem: string, where: string): Sealer {
  const c = builtinModule<NodeCryptoSigning>("node:crypto");
  if (!c) throw new Error("Seals need node:crypto (Node, Deno, Bun).");
  let key: KeyObjectLike;
  let keyId: string;
  try {
    key = c.createPrivateKey(pem);
    if (key.asymmetricKeyType !== "ed25519") throw new Error("not Ed25519");
    // The SPKI DER of an Ed25519 key ends in the raw 32-byte public key.
    const raw = c.createPublicKey(key).export({ format: "der", type: "spki" }).slice(-32);
    keyId = c.createHash("sha256").update(raw).digest("hex").slice(0, 16);
  } catch {
    throw new Error(
      `The signing key at ${where} is not an Ed25519 private key in PKCS#8 PEM ` +
        `(-----BEGIN PRIVATE KEY-----).`,
    );
  }
  const encoder = new TextEncoder();
  return {
    keyId,
    seal(upto, hash, report) {
      const sig = c.sign(null, encoder.encode(sealMessage(report, upto, hash)), key);
      return JSON.stringify({
        event: "seal",
        report,
        upto,
        hash,
        sig: base64(sig),
        key_id: keyId,
        ts: new Date().toISOString(),
      });
    },
  };
}

/** Loads the signer from a PKCS#8 PEM's text (see {@link sealerFromPemSync}). */
export function sealerFromPem(pem: string, where: string): Promise<Sealer> {
  try {
    return Promise.resolve(sealerFromPemSync(pem, where));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Checks seals with a public key (SPKI PEM). */
export interface SealChecker {
  readonly keyId: string;
  /** Whether `sig` (base64) signs {@link sealMessage}`(report, upto, hash)`. */
  check(report: string, upto: number, hash: string, sig: string): Promise<boolean>;
}

/** Loads the checker from an SPKI PEM's text. */
export async function checkerFromPem(pem: string, where: string): Promise<SealChecker> {
  let key: CryptoKey;
  let raw: Uint8Array;
  try {
    const der = pemBody(pem, "PUBLIC KEY");
    key = await crypto.subtle.importKey("spki", der, { name: "Ed25519" }, true, ["verify"]);
    raw = new Uint8Array(await crypto.subtle.exportKey("raw", key));
  } catch {
    throw new Error(`The key at ${where} is not an Ed25519 public key in SPKI PEM.`);
  }
  const keyId = (await sha256BytesAsync(new Uint8Array(raw))).slice(0, 16);
  return {
    keyId,
    async check(report, upto, hash, sig) {
      try {
        const bytes = Uint8Array.from(atob(sig), (c) => c.charCodeAt(0));
        const message = new TextEncoder().encode(sealMessage(report, upto, hash));
        return await crypto.subtle.verify("Ed25519", key, bytes, message);
      } catch {
        return false;
      }
    },
  };
}
