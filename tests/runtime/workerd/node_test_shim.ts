/**
 * A small stand-in for `node:test` inside workerd, which has no test runner: the shared test files
 * register their cases here and the worker runs them one by one when asked.
 */
type TestFn = (t: { name: string }) => unknown | Promise<unknown>;
interface Case {
  name: string;
  fn: TestFn;
  skip: boolean;
}

const cases: Case[] = [];

export function test(name: string, optionsOrFn: TestFn | { skip?: boolean }, maybeFn?: TestFn) {
  const fn = typeof optionsOrFn === "function" ? optionsOrFn : maybeFn!;
  const skip = typeof optionsOrFn === "object" && optionsOrFn !== null && !!optionsOrFn.skip;
  cases.push({ name, fn, skip });
}
export const it = test;
export default test;

export interface CaseResult {
  name: string;
  ok: boolean;
  skipped: boolean;
  error?: string;
  ms: number;
}

/** Runs every registered case in order; a case that throws or rejects fails, the rest still run. */
export async function runRegistered(filter?: string): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of cases) {
    if (filter && !c.name.includes(filter)) continue;
    if (c.skip) {
      results.push({ name: c.name, ok: true, skipped: true, ms: 0 });
      continue;
    }
    const start = Date.now();
    try {
      await c.fn({ name: c.name });
      results.push({ name: c.name, ok: true, skipped: false, ms: Date.now() - start });
    } catch (error) {
      const text = error instanceof Error
        ? `${error.message}\n${error.stack ?? ""}`
        : String(error);
      results.push({
        name: c.name,
        ok: false,
        skipped: false,
        error: text,
        ms: Date.now() - start,
      });
    }
  }
  return results;
}
