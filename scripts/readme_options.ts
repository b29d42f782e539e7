/**
 * Writes the README's options list from the one options table (`OPTIONS` in src/config.ts):
 * `deno run -A scripts/readme_options.ts`. tests/config.test.ts fails while they differ.
 */
import { readFile, writeFile } from "node:fs/promises";
import { optionsMarkdown } from "../src/config.ts";

const README = new URL("../README.md", import.meta.url);
const text = await readFile(README, "utf8");
const next = text.replace(
  /(<!-- options:start -->\n)[\s\S]*?(\n<!-- options:end -->)/,
  `$1\n${optionsMarkdown()}\n$2`,
);
await writeFile(README, next);
console.log(next === text ? "README options: already current" : "README options: written");
