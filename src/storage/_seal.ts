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
import type { SigningKey } from "./_signing_key.ts";

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

/**
 * The sealer over a key loaded by `loadSigningKey()` (`_signing_key.ts`, the one key loader).
 *
 * @example
 * ```ts
 * import { sealerFromKey } from "./_seal.ts";
 * import { loadSigningKey } from "./_signing_key.ts";
 *
 * const sealer = sealerFromKey(loadSigningKey("./key.pem"));
 * sealer.seal(7, "ab".repeat(32), "0123456789abcdef0123456789abcdef");
 * ```
 */
export function sealerFromKey(key: SigningKey): Sealer {
  return {
    keyId: key.keyId,
    seal(upto, hash, report) {
      return JSON.stringify({
        event: "seal",
        report,
        upto,
        hash,
        sig: key.sign(sealMessage(report, upto, hash)),
        key_id: key.keyId,
        ts: new Date().toISOString(),
      });
    },
  };
}
