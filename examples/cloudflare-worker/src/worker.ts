// A Cloudflare Worker with the guard in report mode (or block, from the MODE variable).
// In your worker: import { attest, AttestationError, enableGuard } from "@aiguard/attest";
import { attest, AttestationError, enableGuard, type Guard, type GuardMode } from "../../../mod.ts";

interface Env {
  MODE?: GuardMode;
  OPENAI_API_KEY?: string;
}

let guard: Guard | undefined;

function chat(env: Env): Promise<Response> {
  return fetch("https://api.openai.com/v1/chat/completions", {
    method: "POST",
    headers: {
      authorization: `Bearer ${env.OPENAI_API_KEY ?? ""}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
  });
}

// The reviewed code path.
const reviewedChat = attest(chat, { id: "worker-chat", reason: "REVIEW-7" });

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    // Records go to the console (Workers Logs) as one JSON line each, and to the memory ring.
    guard ??= enableGuard({ mode: env.MODE ?? "report", sinks: ["console"] });
    const { pathname } = new URL(request.url);
    if (pathname === "/records") return Response.json(guard.records());
    try {
      const upstream = pathname === "/reviewed" ? await reviewedChat(env) : await chat(env);
      return new Response(upstream.body, { status: upstream.status });
    } catch (error) {
      if (error instanceof AttestationError) {
        return Response.json({ blocked: error.message }, { status: 451 });
      }
      throw error;
    } finally {
      // Records are written after the response is sent, without losing any.
      ctx.waitUntil(guard.flush());
    }
  },
};

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}
