/**
 * Seals over the hash chain: with `AIGUARD_SIGNING_KEY` (the path of an Ed25519 private key,
 * PKCS#8 PEM) the file storage appends, after every batch it writes, a chained line
 * `{"event":"seal","upto":<seq>,"hash":<hex sha256 of line upto>,"sig":<base64 Ed25519 signature
 * of the hash's hex text>,"key_id":<16 hex>}`. `aiguard verify --key PUB.pem` (SPKI PEM) checks
 * them. WebCrypto on every runtime; the key never reaches a record, a log line or an error message.
 *
 * @module
 */
/** Signs a chain position. */
export interface Sealer {
  /** First 16 hex characters of the SHA-256 of the raw 32-byte public key. */
  readonly keyId: string;
  /** The seal line (without `seq`/`prev`, which the chain adds) for the line `upto`. */
  seal(upto: number, hash: string): Promise<string>;
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

function fromBase64Url(text: string): Uint8Array {
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function sha256BytesAsync(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Loads the signer from a PKCS#8 PEM's text. Errors say what is wrong with the key, never what is
 * in it.
 */
export async function sealerFromPem(pem: string, where: string): Promise<Sealer> {
  let key: CryptoKey;
  let raw: Uint8Array;
  try {
    const der = pemBody(pem, "PRIVATE KEY");
    key = await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, true, ["sign"]);
    const jwk = await crypto.subtle.exportKey("jwk", key);
    raw = fromBase64Url(jwk.x ?? "");
    if (raw.length !== 32) throw new Error("no public key");
  } catch {
    throw new Error(
      `The signing key at ${where} is not an Ed25519 private key in PKCS#8 PEM ` +
        `(-----BEGIN PRIVATE KEY-----).`,
    );
  }
  const keyId = (await sha256BytesAsync(new Uint8Array(raw))).slice(0, 16);
  return {
    keyId,
    async seal(upto, hash) {
      const sig = new Uint8Array(
        await crypto.subtle.sign("Ed25519", key, new TextEncoder().encode(hash)),
      );
      return JSON.stringify({
        event: "seal",
        upto,
        hash,
        sig: base64(sig),
        key_id: keyId,
        ts: new Date().toISOString(),
      });
    },
  };
}

/** Checks seals with a public key (SPKI PEM). */
export interface SealChecker {
  readonly keyId: string;
  /** Whether `sig` (base64) signs `hash` (hex text). */
  check(hash: string, sig: string): Promise<boolean>;
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
    async check(hash, sig) {
      try {
        const bytes = Uint8Array.from(atob(sig), (c) => c.charCodeAt(0));
        return await crypto.subtle.verify("Ed25519", key, bytes, new TextEncoder().encode(hash));
      } catch {
        return false;
      }
    },
  };
}
