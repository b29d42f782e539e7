/**
 * The record output: the sinks named in options, or the `auto` chain
 * (OpenTelemetry span → daemon socket → background queue into the runtime's storage).
 *
 * @module
 */
import type { ResolvedOptions, StorageAdapter } from "../config.ts";
import { envVar, requireOwnModule, runtimeKey } from "../runtime.ts";
import { createConsoleStorage } from "../storage/console.ts";
import { DaemonClient } from "./daemon_client.ts";
import { emitSpan } from "./otel.ts";
import { appendTo, RecordQueue } from "./queue.ts";
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
  /** Writes what this step holds synchronously (exit paths); may throw (the output catches). */
  flushSync?(): void;
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
    // The exit path writes what is pending: a stopped lock holder must not keep the app alive.
    keepAlive: false,
  };
  type NodeFs = typeof import("../storage/node_fs.ts");
  const nodeFs = () =>
    lazyStorage(
      "node-fs",
      async () => (await import("../storage/node_fs.ts")).createNodeFsStorage(file),
      () => requireOwnModule<NodeFs>("src/storage/node_fs").createNodeFsStorage(file),
    );
  switch (runtimeKey()) {
    case "bun": {
      type BunFile = typeof import("../storage/bun_file.ts");
      return lazyStorage(
        "bun-file",
        async () => (await import("../storage/bun_file.ts")).createBunFileStorage(file),
        () =>
          requireOwnModule<BunFile>("src/storage/bun_file").createBunFileStorage(
            file,
          ),
      );
    }
    case "deno":
      return envVar("DENO_DEPLOYMENT_ID")
        ? lazyStorage(
          "deno-kv",
          async () => (await import("../storage/deno_kv.ts")).createDenoKvStorage(),
          null,
        )
        : nodeFs();
    case "node":
      return nodeFs();
    default:
      return createConsoleStorage();
  }
}

/**
 * A storage adapter whose module is loaded at its creation (the queue creates it with its first
 * record), synchronously where the runtime can, else in the background: the file adapters stay
 * out of the core until a record actually has to be written (edge bundles and cold imports never
 * pay for them). It forwards `appendBatch` and `appendLines` (the queue's fast paths) and `appendLinesSync` (exit
 * paths; loading the module synchronously if the background load has not finished).
 */
function lazyStorage(
  name: string,
  load: () => Promise<StorageAdapter>,
  loadSync: (() => StorageAdapter) | null,
): StorageAdapter {
  let loaded: StorageAdapter | null = null;
  if (loadSync !== null) {
    // Loaded synchronously when it can be: Node cannot require() a module its import() is still
    // loading, so an exit in the first milliseconds (a blocked call, then process.exit) found the
    // background load half done and lost its records.
    try {
      loaded = loadSync();
    } catch {
      // loaded in the background below
    }
  }
  // A synchronous load that won the race (an exit path) stays the one adapter.
  const adapter = loaded !== null
    ? Promise.resolve(loaded)
    : load().then((ready) => (loaded ??= ready));
  adapter.catch(() => {}); // said by the first write that needs it
  return {
    name,
    append: async (lines) => (await adapter).append(lines),
    appendLines: async (lines, onWrite) => {
      const to = await adapter;
      return to.appendLines ? to.appendLines(lines, onWrite) : to.append(`${lines.join("\n")}\n`);
    },
    appendBatch: async (batch, onWrite) => appendTo(await adapter, batch, onWrite),
    appendLinesSync(lines) {
      if (loaded === null) {
        if (loadSync === null) throw new Error(`The ${name} storage cannot write synchronously.`);
        loaded = loadSync();
      }
      if (!loaded.appendLinesSync) {
        throw new Error(`The ${name} storage cannot write synchronously.`);
      }
      loaded.appendLinesSync(lines);
    },
    close: async () => {
      const to = await adapter.catch(() => null);
      await to?.close?.();
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
      // stderr, never stdout: the app's output stays the app's (report mode prints nothing).
      fallback: options.storage ? undefined : () => createConsoleStorage((l) => console.error(l)),
      onFallback: (error) =>
        ctx.onFailure("file (the report cannot be written; records now go to stderr)", error),
    });
  let daemon: DaemonClient | null = null;
  const daemonClient = (): DaemonClient =>
    daemon ??= new DaemonClient(
      options.socketPath,
      (records) => fileQueue().pushUndelivered(records),
    );
  // A record the daemon does not take (none listening, its queue full) goes to the file.
  const toDaemonElseFile = (record: AnyRecord) => {
    if (!daemonClient().offer(record)) fileQueue().push(record);
  };
  const flushShared = async () => {
    await daemon?.flush();
    await queue?.flush();
  };
  // What the daemon has not acknowledged goes to the file first, then the file queue's own.
  const flushSharedSync = () => {
    try {
      daemon?.flushSync();
    } catch (error) {
      ctx.onFailure("daemon", error);
    }
    try {
      queue?.flushSync();
    } catch (error) {
      ctx.onFailure("file", error);
    }
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
        toDaemonElseFile(record);
        return null;
      },
      flush: () => flushShared().catch((e) => ctx.onFailure("file", e)),
      flushSync: flushSharedSync,
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
        flushSync: () => queue?.flushSync(),
        close: () => queue?.close() ?? Promise.resolve(),
      });
    } else if (sink === "daemon") {
      steps.push({
        name: "daemon",
        emit: toDaemonElseFile,
        flush: flushShared,
        flushSync: flushSharedSync,
        close: async () => {
          await daemon?.close();
          await queue?.close();
        },
      });
    }
  });
  // The steps an exit flush writes (file, daemon) take each record first: a custom sink listed
  // before them that ends the process (process.exit) must not leave the record unqueued.
  const emitOrder = [...steps.filter((s) => s.flushSync), ...steps.filter((s) => !s.flushSync)];
  return {
    emit(record) {
      let settle: Settle | null = null;
      for (const step of emitOrder) {
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
    flushSync() {
      for (const step of steps) {
        try {
          step.flushSync?.();
        } catch (error) {
          ctx.onFailure(step.name, error);
        }
      }
    },
  };
}
