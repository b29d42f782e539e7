/**
 * The `aiguard` command line: the command table, help, and the dispatch. Each command lives in its
 * own file behind the `Command` interface (`command.ts`).
 *
 * @module
 */
import process from "node:process";
import { type CliIo, type Command, CommandFailure, parseFlags, UsageError } from "./command.ts";
import { checkCommand, reportCommand } from "./report_commands.ts";
import { daemonCommand } from "./daemon_command.ts";
import { tailCommand } from "./tail_command.ts";
import { exportCommand } from "./export_command.ts";
import { scanCommand } from "./scan_command.ts";
import { coverageCommand } from "./coverage_command.ts";
import { initCommand } from "./init_command.ts";
import { verifyCommand } from "./verify_command.ts";

export type { CliIo } from "./command.ts";

const COMMANDS: readonly Command[] = [
  reportCommand,
  checkCommand,
  daemonCommand,
  tailCommand,
  exportCommand,
  scanCommand,
  coverageCommand,
  initCommand,
  verifyCommand,
];

const MAIN_HELP = `aiguard — find AI calls that are not wrapped with attest()

Usage: aiguard <command> [flags]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(8)} ${c.summary}`).join("\n")}

Run aiguard <command> --help for its flags.`;

/** Runs one command line; resolves to the exit code. */
export async function main(
  argv: string[],
  io: CliIo = {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
  },
  signal?: AbortSignal,
): Promise<number> {
  const [name, ...rest] = argv;
  let command: Command | undefined;
  try {
    if (name === undefined || name === "help" || name === "--help" || name === "-h") {
      io.out(MAIN_HELP + "\n");
      return 0;
    }
    command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command ${name}`, "main");
    const { flags, positional } = parseFlags(command.name, rest, command.flags);
    if (flags.help) {
      io.out(command.usage + "\n");
      return 0;
    }
    return await command.run({ flags, positional, io, ...(signal ? { signal } : {}) });
  } catch (error) {
    if (error instanceof CommandFailure) {
      io.err(`aiguard ${error.command}: ${error.message}\n`);
      return 2;
    }
    if (error instanceof UsageError) {
      const hint = error.command === "main" ? "aiguard --help" : `aiguard ${error.command} --help`;
      io.err(`aiguard: ${error.message} (see ${hint})\n`);
      return 2;
    }
    // Exit 1 means only "unattested calls found" or "broken": anything unforeseen is 2, one line.
    const message = error instanceof Error ? error.message : String(error);
    io.err(`aiguard ${command?.name ?? name}: ${message.split("\n")[0]}\n`);
    return 2;
  }
}
