/**
 * The record output: the sinks named in options, or the `auto` chain
 * (OpenTelemetry span → daemon socket → background queue into the runtime's storage).
 *
 * @module
 */
import type { ResolvedOptions } from "../config.ts";
import type { MemoryRing } from "../storage/memory.ts";
import { type AnyRecord, encodeLine, type ProcessFacts } from "./record.ts";
import type { RecordOutput, Settle, Sink } from "./sink.ts";

/** What the guard hands the output besides options. */
export interface OutputContext {
  ring: MemoryRing;
  proc: ProcessFacts;
  onDrop(count: number): void;
  onFailure(name: string, error: unknown): void;
}

/** A step of the output: each sink kind implements this. */
export interface OutputStep {
  readonly name: string;
  emit(record: AnyRecord): Settle | null | void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

function functionStep(sink: Sink, index: number, ctx: OutputContext): OutputStep {
  const pending = new Set<Promise<void>>();
  const name = `custom sink #${index + 1}${sink.name ? ` (${sink.name})` : ""}`;
  return {
    name,
    emit(record) {
      try {
        const result = sink(record);
        if (result && typeof (result as Promise<void>).then === "function") {
          const p = (result as Promise<void>).catch((error) => ctx.onFailure(name, error))
            .finally(() => pending.delete(p));
          pending.add(p);
        }
      } catch (error) {
        ctx.onFailure(name, error);
      }
    },
    flush: async () => {
      await Promise.all([...pending]);
    },
    close: async () => {
      await Promise.all([...pending]);
    },
  };
}

function consoleStep(ctx: OutputContext): OutputStep {
  return {
    name: "console",
    emit(record) {
      try {
        console.log(encodeLine(record).trimEnd());
      } catch (error) {
        ctx.onFailure("console", error);
      }
    },
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/** The memory ring is always fed by the guard; the `memory` sink only names it explicitly. */
function memoryStep(): OutputStep {
  return {
    name: "memory",
    emit() {},
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/** Builds the output for the resolved options. */
export function createOutput(options: ResolvedOptions, ctx: OutputContext): RecordOutput {
  const steps: OutputStep[] = [];
  const list = options.sinks === "auto" ? ["memory" as const] : options.sinks;
  list.forEach((sink, index) => {
    if (typeof sink === "function") steps.push(functionStep(sink, index, ctx));
    else if (sink === "console") steps.push(consoleStep(ctx));
    else if (sink === "memory") steps.push(memoryStep());
    else throw new TypeError(`The ${sink} sink is not available yet.`);
  });
  return {
    emit(record) {
      let settle: Settle | null = null;
      for (const step of steps) {
        try {
          settle = step.emit(record) ?? settle;
        } catch (error) {
          ctx.onFailure(step.name, error);
        }
      }
      return settle;
    },
    flush: async () => {
      await Promise.all(steps.map((s) => s.flush().catch((e) => ctx.onFailure(s.name, e))));
    },
    close: async () => {
      await Promise.all(steps.map((s) => s.close().catch((e) => ctx.onFailure(s.name, e))));
    },
  };
}
