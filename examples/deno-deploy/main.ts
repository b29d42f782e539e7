// Deno Deploy: report mode storing records in Deno KV (the file system is read-only there).
// Locally: deno run -A --unstable-kv main.ts; get records back: aiguard export --kv <path>.
// In your app: import { attest, enableGuard } from "jsr:@aiguard/attest";
//              import { createDenoKvStorage } from "jsr:@aiguard/attest/storage/deno-kv";
import { attest, enableGuard } from "../../mod.ts";
import { createDenoKvStorage } from "../../src/storage/deno_kv.ts";

const baseUrl = Deno.env.get("OPENAI_BASE_URL") ?? "https://api.openai.com/v1";
// On Deno Deploy leave AIGUARD_KV_PATH unset: Deno.openKv() opens the project's store.
const storage = createDenoKvStorage({ path: Deno.env.get("AIGUARD_KV_PATH") });
const guard = enableGuard({ mode: "report", sinks: ["file"], storage });

function chat(): Promise<Response> {
  return fetch(`${baseUrl}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${Deno.env.get("OPENAI_API_KEY") ?? ""}` },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
  });
}
const reviewedChat = attest(chat, { id: "deploy-chat" });

/** `/` makes an unattested call (one KV record), `/reviewed` an attested one (none). */
export async function handler(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  const upstream = pathname === "/reviewed" ? await reviewedChat() : await chat();
  const body = await upstream.text();
  await guard.flush(); // the isolate may go away after the response: write records first
  return new Response(body, { status: upstream.status });
}

if (import.meta.main) {
  Deno.serve({ port: Number(Deno.env.get("PORT") ?? 8000) }, handler);
}
