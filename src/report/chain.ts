/**
 * The record output: the sinks named in options, or the `auto` chain
 * (OpenTelemetry span → daemon socket → background queue into the runtime's storage).
 *
 * @module
 */
import type { ResolvedOptions, StorageAdapter } from "../config.ts";
import { envVar, runtimeKey } from "../runtime.ts";
import { createConsoleStorage } from "../storage/console.ts";
import { DaemonClient } from "./daemon_client.ts";
import { emitSpan } from "./otel.ts";
import { RecordQueue } from "./queue.ts";
import { type AnyRecord, encodeJson, type ProcessFacts } from "./record.ts";
import type { RecordOutput, Settle, Sink } from "./sink.ts";

/** What the guard hands the output besides options. */
export interface OutputContext {
  /** Facts fixed for the process. */
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
        console.log(encodeJson(record));
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

function otelStep(): OutputStep {
  return {
    name: "otel",
    emit: (record) => emitSpan(record),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/**
 * The runtime's storage for the `file` sink: a Bun file writer on Bun, Deno KV on Deno Deploy,
 * node:fs on Node and Deno, the console on edge runtimes (the memory ring is always fed).
 */
export function defaultStorage(options: ResolvedOptions): StorageAdapter {
  if (options.storage) return options.storage;
  const signingKey = envVar("AIGUARD_SIGNING_KEY");
  const file = {
    path: options.reportPath,
    maxBytes: options.maxBytes,
    backups: options.backups,
    ...(signingKey ? { signingKey } : {}),
  };
  const nodeFs = () =>
    lazyStorage(
      "node-fs",
      async () => (await import("../storage/node_fs.ts")).createNodeFsStorage(file),
    );
  switch (runtimeKey()) {
    case "bun":
      return lazyStorage(
        "bun-file",
        async () => (await import("../storage/bun_file.ts")).createBunFileStorage(file),
      );
    case "deno":
      return envVar("DENO_DEPLOYMENT_ID")
        ? lazyStorage(
          "deno-kv",
          async () => (await import("../storage/deno_kv.ts")).createDenoKvStorage(),
        )
        : nodeFs();
    case "node":
      return nodeFs();
    default:
      return createConsoleStorage();
  }
}

/**
 * A storage adapter loaded on its first write: the file adapters stay out of the core until a
 * record actually has to be written (edge bundles and cold imports never pay for them).
 */
function lazyStorage(name: string, load: () => Promise<StorageAdapter>): StorageAdapter {
  let adapter: Promise<StorageAdapter> | null = null;
  return {
    name,
    append: async (lines) => (await (adapter ??= load())).append(lines),
    close: async () => {
      if (adapter) await (await adapter).close?.();
    },
  };
}

/** Builds the output for the resolved options. */
export function createOutput(options: ResolvedOptions, ctx: OutputContext): RecordOutput {
  let queue: RecordQueue | null = null;
  const fileQueue = (): RecordQueue =>
    queue ??= new RecordQueue(defaultStorage(options), {
      proc: ctx.proc,
      onDrop: ctx.onDrop,
      onFailure: (error) => ctx.onFailure("file", error),
      fallback: options.storage ? undefined : () => createConsoleStorage(),
      onFallback: (error) =>
        ctx.onFailure("file (no write permission; records now go to the console)", error),
    });
  let daemon: DaemonClient | null = null;
  const daemonClient = (): DaemonClient =>
    daemon ??= new DaemonClient(
      options.socketPath,
      (records) => records.forEach((r) => fileQueue().push(r)),
    );
  const flushShared = async () => {
    await daemon?.flush();
    await queue?.flush();
  };

  if (options.sinks === "auto") {
    // One record, one place: span if a real provider is registered, else daemon, else file.
    return {
      emit(record) {
        try {
          const settle = emitSpan(record);
          if (settle) return settle;
        } catch (error) {
          ctx.onFailure("otel", error);
        }
        if (!daemonClient().offer(record)) fileQueue().push(record);
        return null;
      },
      flush: () => flushShared().catch((e) => ctx.onFailure("file", e)),
      close: async () => {
        await daemon?.close().catch((e) => ctx.onFailure("daemon", e));
        await queue?.close().catch((e) => ctx.onFailure("file", e));
      },
    };
  }

  const steps: OutputStep[] = [];
  options.sinks.forEach((sink, index) => {
    if (typeof sink === "function") steps.push(functionStep(sink, index, ctx));
    else if (sink === "console") steps.push(consoleStep(ctx));
    else if (sink === "memory") steps.push(memoryStep());
    else if (sink === "otel") steps.push(otelStep());
    else if (sink === "file") {
      steps.push({
        name: "file",
        emit: (record) => fileQueue().push(record),
        flush: () => fileQueue().flush(),
        close: () => queue?.close() ?? Promise.resolve(),
      });
    } else if (sink === "daemon") {
      steps.push({
        name: "daemon",
        emit: (record) => {
          if (!daemonClient().offer(record)) fileQueue().push(record);
        },
        flush: flushShared,
        close: async () => {
          await daemon?.close();
          await queue?.close();
        },
      });
    }
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
