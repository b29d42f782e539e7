/**
 * The scan corpus as the lint front-ends see it: one file at a time. Per file, the unattested
 * sites `aiguard scan` reports when it is given that file alone (line:column), for comparing the
 * three front-ends: a lint rule sees no other module, so what another file gives is left out.
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { scan } from "../../src/scan/scan.ts";

export const CORPUS: string = new URL("../fixtures/scan/", import.meta.url).pathname;

/** Files no parser reads. */
const BROKEN = new Set(["broken.ts"]);

export interface CorpusFile {
  name: string;
  path: string;
  source: string;
  /** `line:column` of each unattested site the scan reports, in order. */
  expected: string[];
}

/** The corpus files and, for each, the scan's unattested sites. */
export async function lintCorpus(): Promise<CorpusFile[]> {
  const files: CorpusFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "generated") await walk(path);
      } else if (/\.[cm]?[jt]sx?$/.test(entry.name)) {
        const name = relative(CORPUS, path);
        if (BROKEN.has(name)) continue;
        const alone = await scan({ cwd: CORPUS, paths: [name] });
        files.push({
          name,
          path,
          source: await readFile(path, "utf8"),
          expected: alone.sites.filter((s) => !s.attested).map((s) => `${s.line}:${s.column}`),
        });
      }
    }
  };
  await walk(CORPUS);
  return files.sort((a, b) => a.name.localeCompare(b.name));
}

/** `line:column` (1-based) of an offset. */
export function lineColumn(source: string, offset: number): string {
  const before = source.slice(0, offset);
  const line = before.split("\n").length;
  return `${line}:${offset - before.lastIndexOf("\n")}`;
}
