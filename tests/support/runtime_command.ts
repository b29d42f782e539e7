/** The command that runs a TypeScript file on the runtime running this test. */
export function runtimeCommand(script: string, args: string[]): [string, string[]] {
  const g = globalThis as { Deno?: { execPath(): string }; Bun?: unknown };
  if (g.Deno) return [g.Deno.execPath(), ["run", "-A", script, ...args]];
  return [process.execPath, [script, ...args]];
}
