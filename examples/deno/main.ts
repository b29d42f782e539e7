// Deno: the guard is enabled by the preload entry before this module runs:
//   AIGUARD_MODE=report deno run -A --preload ../../auto.ts main.ts
// (from JSR: deno run -A --preload jsr:@aiguard/attest/auto main.ts)
import OpenAI from "openai";
import { attest, AttestationError } from "../../mod.ts";

const openai = new OpenAI({
  apiKey: Deno.env.get("OPENAI_API_KEY") ?? "sk-example",
  baseURL: Deno.env.get("OPENAI_BASE_URL"),
});
const ask = (q: string) =>
  openai.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: q }],
  });

const reviewed = attest(ask, { id: "deno-example" });
console.log("attested:", (await reviewed("hello")).choices[0]?.message.content);
try {
  console.log("unattested:", (await ask("hello")).choices[0]?.message.content);
} catch (error) {
  if (!(error instanceof AttestationError)) throw error;
  console.log("blocked:", error.message);
}
