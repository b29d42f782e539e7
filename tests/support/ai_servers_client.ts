/**
 * Starts `ai_servers.ts` in a Node child process and follows what it received. Works from Deno,
 * Bun and Node alike (node:child_process).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface Seen {
  protocol: string;
  method: string;
  path: string;
}

export interface AiServers {
  /** `http://127.0.0.1:port` of the HTTP/1.1 (and WebSocket) server. */
  http1: string;
  /** `http://127.0.0.1:port` of the h2c server. */
  http2: string;
  /** What the servers received so far. */
  seen: Seen[];
  /** Waits until a request for `path` was received (or fails after `ms`). */
  waitFor(path: string, ms?: number): Promise<Seen>;
  close(): Promise<void>;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Starts the servers; resolves once they listen. */
export function startAiServers(): Promise<AiServers> {
  const child = spawn(here("../../node_modules/.bin/node"), [here("./ai_servers.ts")], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, NODE_NO_WARNINGS: "1" },
  });
  const seen: Seen[] = [];
  const waiters = new Set<() => void>();
  return new Promise((resolve, reject) => {
    let buffered = "";
    child.on("error", reject);
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf("\n")) !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const message = JSON.parse(line) as {
          ports?: { http1: number; http2: number };
          seen?: Seen;
        };
        if (message.seen) {
          seen.push(message.seen);
          for (const wake of waiters) wake();
        } else if (message.ports) {
          const { http1, http2 } = message.ports;
          resolve({
            http1: `http://127.0.0.1:${http1}`,
            http2: `http://127.0.0.1:${http2}`,
            seen,
            waitFor(path, ms = 5_000) {
              return new Promise((done, fail) => {
                const check = () => {
                  const found = seen.find((s) => s.path === path);
                  if (!found) return;
                  waiters.delete(check);
                  clearTimeout(timer);
                  done(found);
                };
                const timer = setTimeout(() => {
                  waiters.delete(check);
                  fail(new Error(`the servers received no request for ${path}`));
                }, ms);
                waiters.add(check);
                check();
              });
            },
            close: () =>
              new Promise<void>((r) => {
                child.once("exit", () => r());
                child.stdin!.end();
              }),
          });
        }
      }
    });
  });
}
