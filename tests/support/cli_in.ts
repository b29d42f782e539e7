/** Runs the `aiguard` CLI in a folder, as a user there would; collects what it prints. */
import { main } from "../../cli.ts";

export async function cliIn(
  dir: string,
  ...argv: string[]
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
    return { code, out, err };
  } finally {
    process.chdir(cwd);
  }
}
