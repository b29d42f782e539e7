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
type Hook = () => unknown | Promise<unknown>;
const hooks = {
  before: [] as Hook[],
  after: [] as Hook[],
  beforeEach: [] as Hook[],
  afterEach: [] as Hook[],
};
export const before = (fn: Hook): void => void hooks.before.push(fn);
export const after = (fn: Hook): void => void hooks.after.push(fn);
export const beforeEach = (fn: Hook): void => void hooks.beforeEach.push(fn);
export const afterEach = (fn: Hook): void => void hooks.afterEach.push(fn);

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
  for (const hook of hooks.before) await hook();
  for (const c of cases) {
    if (filter && !c.name.includes(filter)) continue;
    if (c.skip) {
      results.push({ name: c.name, ok: true, skipped: true, ms: 0 });
      continue;
    }
    const start = Date.now();
    try {
      for (const hook of hooks.beforeEach) await hook();
      await c.fn({ name: c.name });
      for (const hook of hooks.afterEach) await hook();
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
  for (const hook of hooks.after) await hook();
  return results;
}
