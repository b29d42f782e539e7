/** Ed25519 key pairs for seal tests, as PEM text and files. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

/** PEM text of DER bytes under a label. */
export function pem(label: string, der: ArrayBuffer): string {
  const b64 = btoa(String.fromCharCode(...new Uint8Array(der)));
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
}

/** A fresh Ed25519 key pair written to `dir` as `<name>.key.pem` (0600) and `<name>.pub.pem`. */
export async function keyPair(dir: string, name: string): Promise<{
  privatePem: string;
  publicPem: string;
  privatePath: string;
  publicPath: string;
}> {
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const privatePem = pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const publicPem = pem("PUBLIC KEY", await crypto.subtle.exportKey("spki", keys.publicKey));
  const privatePath = join(dir, `${name}.key.pem`);
  const publicPath = join(dir, `${name}.pub.pem`);
  await writeFile(privatePath, privatePem, { mode: 0o600 });
  await writeFile(publicPath, publicPem);
  return { privatePem, publicPem, privatePath, publicPath };
}
