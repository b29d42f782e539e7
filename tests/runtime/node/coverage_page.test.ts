/**
 * The coverage page in a real headless Chromium (Debian's `chromium`, driven by puppeteer-core):
 * it renders, the numbers on the page match the JSON, and no request leaves the page.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { access, cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";
import { main } from "../../../cli.ts";
import { recordJson } from "../../support/fixtures.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const available = await access(CHROMIUM).then(() => true, () => false);
// CI installs Debian's chromium (.ci/run) and sets AIGUARD_REQUIRE_CHROMIUM: there it must run.
const skip = !available && !process.env.AIGUARD_REQUIRE_CHROMIUM
  ? `no Chromium at ${CHROMIUM} (apt-get install chromium)`
  : false;

const CORPUS = new URL("../../fixtures/scan/", import.meta.url).pathname;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "aiguard-page-"));
  await cp(CORPUS, dir, { recursive: true });
  const now = new Date().toISOString();
  await writeFile(
    join(dir, "guard_log.jsonl"),
    [
      recordJson({ ts: now, call_site: "imports.ts:15:9" }),
      recordJson({ ts: now, call_site: "sdks.ts:14:9", provider: "anthropic" }),
      recordJson({ ts: now, call_site: "plugins/dynamic.ts:3:5" }),
    ].join("\n") + "\n",
  );
});
after(() => rm(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<string> {
  let out = "";
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const code = await main(argv, { out: (t) => (out += t), err: () => {} });
    assert.equal(code, 0);
    return out;
  } finally {
    process.chdir(cwd);
  }
}

test("the coverage page renders in Chromium, its numbers match the JSON, nothing is fetched", {
  skip,
}, async () => {
  const json = JSON.parse(await cli("coverage", "--file", "guard_log.jsonl", "--format", "json"));
  const page = join(dir, "coverage.html");
  await cli("coverage", "--file", "guard_log.jsonl", "--format", "html", "--out", page);
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${join(dir, "profile")}`,
    ],
  });
  try {
    const tab = await browser.newPage();
    const requests: string[] = [];
    tab.on("request", (request) => requests.push(request.url()));
    await tab.goto(pathToFileURL(page).href, { waitUntil: "load" });
    const shown = await tab.evaluate(() => {
      const counts: Record<string, number> = {};
      for (const el of document.querySelectorAll("[data-count]")) {
        counts[el.getAttribute("data-count")!] = Number(el.textContent);
      }
      return {
        title: document.title,
        total: Number(document.querySelector("[data-total]")!.textContent),
        percent: Number(document.querySelector("[data-percent]")!.textContent),
        counts,
        rows: document.querySelectorAll("tr.site").length,
        bars: document.querySelectorAll("svg rect").length,
        files: [...document.querySelectorAll("tbody[data-file]")].map((t) =>
          t.getAttribute("data-file")
        ),
      };
    });
    assert.equal(shown.title, "AI-call coverage");
    assert.equal(shown.total, json.sites.length);
    assert.deepEqual(shown.counts, json.summary);
    assert.equal(shown.percent, Math.round((json.summary.attested / json.sites.length) * 100));
    assert.equal(shown.rows, json.sites.length);
    assert.equal(shown.bars, 4);
    assert.deepEqual(shown.files, [...new Set(json.sites.map((s: { file: string }) => s.file))]);
    // The page itself is the one request: no script, style, font or image from anywhere.
    assert.deepEqual(requests, [pathToFileURL(page).href]);
    await tab.screenshot({
      path: join(process.cwd(), ".tmp", "coverage-page.png"),
      fullPage: false,
    });
  } finally {
    await browser.close();
  }
});
