// One reviewed call, one not: the lint rule reports the second (line 18).
import OpenAI from "openai";
import { attest } from "@aiguard/attest";

const openai = new OpenAI();

export const summarize = attest(
  (text: string) =>
    openai.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: text }],
    }),
  { id: "summarize-v1" },
);

export function brainstorm(topic: string) {
  // Not reviewed yet: aiguard/no-unattested-ai-call
  return openai.chat.completions.create({
    model: "gpt-4o",
    messages: [{ role: "user", content: topic }],
  });
}
