// Node: the preload entry enables the guard before this module runs:
//   AIGUARD_MODE=report node --import @aiguard/attest/auto app.mjs
import OpenAI from "openai";
import { attest, AttestationError } from "@aiguard/attest";

const openai = new OpenAI({
  apiKey: process.env.OPENAI_API_KEY ?? "sk-example",
  baseURL: process.env.OPENAI_BASE_URL,
});
const ask = (q) =>
  openai.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: q }],
  });

const reviewed = attest(ask, { id: "node-example" });
console.log("attested:", (await reviewed("hello")).choices[0]?.message.content);
try {
  console.log("unattested:", (await ask("hello")).choices[0]?.message.content);
} catch (error) {
  if (!(error instanceof AttestationError)) throw error;
  console.log("blocked:", error.message);
}
