/**
 * What a block-mode attack test checks against the loopback servers (`ai_servers_client.ts`): a
 * barrier request that arrives after anything sent before it, and whether an error is (or wraps)
 * the guard's `AttestationError`.
 */
import http from "node:http";
import { AttestationError } from "../../mod.ts";
import type { AiServers } from "./ai_servers_client.ts";

/** A request the servers see after anything sent before it. */
export async function barrier(servers: AiServers): Promise<void> {
  const path = `/barrier/${Math.random().toString(36).slice(2)}`;
  await new Promise<void>((resolve, reject) => {
    http.get(`${servers.http1}${path}`, (res) => {
      res.resume();
      res.on("end", resolve);
    }).on("error", reject);
  });
  await servers.waitFor(path);
}

/** `AttestationError`, or an error whose `cause` is one (Node's fetch: "fetch failed"). */
export function isAttestationError(error: unknown): boolean {
  return error instanceof AttestationError ||
    (error as { cause?: unknown } | null)?.cause instanceof AttestationError;
}
