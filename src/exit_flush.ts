/**
 * Pending records are written on every way out of the process: a normal end, `process.exit()`,
 * `Deno.exit()`, an uncaught exception, an unhandled rejection, SIGTERM and SIGINT. What each
 * runtime fires on each of them was measured (Node 24, Deno 2.9, Bun 1.4):
 *
 * | way out                      | Node, Bun          | Deno                          |
 * | ---------------------------- | ------------------ | ----------------------------- |
 * | normal end                   | `beforeExit`, `exit` | `beforeunload`, `unload`    |
 * | `process.exit()`             | `exit`             | `unload`                      |
 * | `Deno.exit()`                | —                  | `unload`                      |
 * | uncaught exception           | `exit`             | `error` event only            |
 * | unhandled rejection, top-level await | `exit`     | `unhandledrejection` event only |
 * | SIGTERM, SIGINT              | nothing (killed)   | nothing (killed)              |
 *
 * Only listeners that change nothing are added: no `uncaughtException` or `unhandledRejection`
 * listener (on Node either would swallow the error), no `preventDefault()`. A signal listener does
 * replace the runtime's default (exit by that signal), so once it has written, and when the app
 * has no listener of its own for that signal, it removes itself and raises the signal again: the
 * process ends as it would without the guard (the parent sees the signal, the shell 130 or 143).
 * When the app has its own listener, the app decides what the signal does, and sees the listeners
 * it would see without the guard (the guard's steps out of the list while the app's run: a
 * library that raises the signal again only when all listeners are its own, as signal-exit does,
 * still ends the process). A signal the app sends itself while only the guard listens ends it
 * inside `kill`, as without the guard.
 *
 * @module
 */
import { type ExitOutput, registry } from "./registry.ts";
import { textFileReader } from "./runtime.ts";

/** The signals whose default action (ending the process) skips every exit event. */
const SIGNALS = ["SIGTERM", "SIGINT"] as const;
type ExitSignal = typeof SIGNALS[number];

interface NodeProcess {
  pid: number;
  on(event: string, fn: () => void): unknown;
  prependListener?(event: string, fn: () => void): unknown;
  removeListener(event: string, fn: () => void): unknown;
  listenerCount(event: string): number;
  listeners?(event: string): unknown[];
  kill(pid: number, signal?: string | number): unknown;
}

interface DenoSignals {
  pid: number;
  addSignalListener(signal: string, fn: () => void): void;
  removeSignalListener(signal: string, fn: () => void): void;
  kill(pid: number, signal?: string | number): void;
}

interface EventHost {
  addEventListener(type: string, fn: () => void): void;
}

/**
 * Has `output`'s pending records written on every way out of the process until the returned
 * function is called (once the output is closed). The exit listeners are installed once per
 * process, whichever copy of the package asks first: two sets would each take the other's signal
 * listener for the app's, and neither would end the process.
 *
 * @example
 * ```ts
 * import { flushOnExit } from "./exit_flush.ts";
 *
 * const output = { flush: () => Promise.resolve(), flushSync() {} };
 * const forget = flushOnExit(output);
 * // ... once the output is closed:
 * forget();
 * ```
 */
export function flushOnExit(output: ExitOutput): () => void {
  const shared = registry();
  let outputs = shared.exitOutputs;
  if (outputs === undefined) {
    outputs = shared.exitOutputs = new Set();
    installListeners(outputs);
  }
  outputs.add(output);
  return () => outputs.delete(output);
}

function installListeners(outputs: Set<ExitOutput>): void {
  const writeSync = () => {
    for (const output of outputs) {
      try {
        output.flushSync?.();
      } catch {
        // The output says its own failures; an exit path must not throw.
      }
    }
  };
  // A normal end still lets the asynchronous writer do it (it batches and pipelines).
  const writeAsync = () => {
    for (const output of outputs) output.flush().catch(() => {});
  };
  const g = globalThis as {
    Deno?: DenoSignals;
    process?: NodeProcess;
  } & Partial<EventHost>;
  if (g.Deno !== undefined && typeof g.addEventListener === "function") {
    g.addEventListener("beforeunload", writeAsync);
    g.addEventListener("unload", writeSync);
    g.addEventListener("error", writeSync);
    g.addEventListener("unhandledrejection", writeSync);
    installDenoSignals(g.Deno, g.process, writeSync);
  } else if (typeof g.process?.on === "function") {
    const proc = g.process;
    proc.on("beforeExit", writeAsync);
    proc.on("exit", writeSync);
    const ignored = ignoredSignals();
    const ours = new Map<ExitSignal, () => void>();
    // First in the list: the records are written before any listener of the app's can end it.
    const attach = (signal: ExitSignal) =>
      (proc.prependListener ?? proc.on).call(proc, signal, ours.get(signal)!);
    for (const signal of SIGNALS) {
      // An ignored signal ends nothing, and a listener would end the ignoring.
      if (ignored.has(signal)) continue;
      const onSignal = () => {
        writeSync();
        proc.removeListener(signal, onSignal);
        if (proc.listenerCount(signal) === 0) {
          proc.kill(proc.pid, signal);
          return;
        }
        // Another listener is the app's: it decides what the signal does, seeing the listeners
        // it would see without the guard. Libraries end the process by raising the signal again
        // only when theirs are the only ones (signal-exit, under execa and many CLIs, compares
        // `process.listeners(signal)` with its own count): the guard's is out of the list for
        // this signal's listeners (the runtime calls a copy of the list), and back after them.
        queueMicrotask(() => {
          if (!proc.listeners?.(signal).includes(onSignal)) attach(signal);
        });
      };
      ours.set(signal, onSignal);
      attach(signal);
    }
    endOwnSignalsByDefault(proc, {
      pid: proc.pid,
      alone(signal) {
        const listeners = proc.listeners?.(signal);
        return ours.has(signal) && listeners?.length === 1 && listeners[0] === ours.get(signal);
      },
      detach: (signal) => proc.removeListener(signal, ours.get(signal)!),
      attach,
    }, writeSync);
  }
}

/** How the guard's own signal listeners are seen and moved, per runtime. */
interface OwnSignals {
  pid: number;
  /** Whether the guard's listener is there and no other. */
  alone(signal: ExitSignal): boolean;
  detach(signal: ExitSignal): void;
  attach(signal: ExitSignal): void;
}

/**
 * A signal the app sends itself while only the guard listens must end it inside `kill`, as the
 * runtime's default action does. A listener instead defers it to the event loop: the code after
 * the call runs, and a process with nothing else to wait for ends with code 0 before the signal
 * is read (openai-node's ecosystem CLI, whose interrupt handler removes itself and raises the
 * signal again to end by it, did so in every run). So a `kill` of this process (its pid, or 0:
 * its group) by such a signal writes what is pending, takes the guard's listener away (the
 * default action is back) and sends it; should the process live on (the signal blocked), the
 * listener comes back.
 */
function endOwnSignalsByDefault(
  host: { kill(pid: number, signal?: string | number): unknown },
  own: OwnSignals,
  writeSync: () => void,
): void {
  const was = Object.getOwnPropertyDescriptor(host, "kill");
  if (was?.get) {
    // Deno's `Deno.kill` is a lazy getter: its first read loads Deno's process API (milliseconds
    // at start). The wrapper is made on the app's first read instead, the property's shape kept.
    const get = was.get;
    let current: unknown;
    let read = false;
    try {
      Object.defineProperty(host, "kill", {
        get() {
          if (!read) {
            read = true;
            const send: unknown = get.call(host);
            current = typeof send === "function"
              ? killWrapper(
                send as (pid: number, signal?: string | number) => unknown,
                own,
                writeSync,
              )
              : send;
          }
          return current;
        },
        set(value: unknown) {
          read = true;
          current = value;
        },
        enumerable: was.enumerable ?? true,
        configurable: true,
      });
    } catch {
      // A frozen object: a signal sent to itself is then read from the event loop.
    }
    return;
  }
  const send = host.kill;
  if (typeof send !== "function") return;
  try {
    Object.defineProperty(host, "kill", {
      value: killWrapper(send, own, writeSync),
      writable: was?.writable ?? true,
      enumerable: was?.enumerable ?? true,
      configurable: true,
    });
  } catch {
    // A frozen object: a signal sent to itself is then read from the event loop.
  }
}

/** `kill` as {@link endOwnSignalsByDefault} describes it, around the runtime's own `send`. */
function killWrapper(
  send: (pid: number, signal?: string | number) => unknown,
  own: OwnSignals,
  writeSync: () => void,
): (pid: number, signal?: string | number) => unknown {
  const byNumber = new Map(
    Object.entries(SIGNAL_NUMBERS).map(([name, n]) => [n, name as ExitSignal]),
  );
  const named = (signal: string | number | undefined): ExitSignal | undefined => {
    const name = signal === undefined
      ? "SIGTERM"
      : typeof signal === "number"
      ? byNumber.get(signal)
      : signal;
    return (SIGNALS as readonly string[]).includes(name ?? "") ? name as ExitSignal : undefined;
  };
  const wrapped = function kill(this: unknown, pid: number, signal?: string | number): unknown {
    // The call is passed on exactly as made: how many arguments included.
    const args = [...arguments] as [number, (string | number)?];
    const name = named(signal);
    if (name === undefined || (pid !== own.pid && pid !== 0) || !own.alone(name)) {
      return send.apply(this, args);
    }
    writeSync();
    own.detach(name);
    try {
      return send.apply(this, args);
    } finally {
      own.attach(name);
    }
  };
  // The same arity as the runtime's own (Deno's is 1, Node's 2): an app may read it.
  Object.defineProperty(wrapped, "length", { value: send.length });
  return wrapped;
}

const STATUS = "/proc/self/status";

/** Signal numbers (Linux) of the signals handled here. */
const SIGNAL_NUMBERS: Record<ExitSignal, number> = { SIGINT: 2, SIGTERM: 15 };

/**
 * The signals this process ignores (`SigIgn` in `/proc/self/status`, Linux). A process started in
 * the background by a non-interactive shell inherits SIGINT ignored; Bun keeps that (Node resets it,
 * Deno did either in our runs), and removing a listener restores the default, not the ignoring:
 * such a signal gets no listener. Where nothing can be read, every signal gets one.
 */
function ignoredSignals(): Set<ExitSignal> {
  const ignored = new Set<ExitSignal>();
  try {
    const deno = (globalThis as {
      Deno?: { permissions?: { querySync?(d: { name: string; path: string }): { state: string } } };
    }).Deno;
    // Deno would prompt for a read it was not granted: ask first, never prompt.
    const query = deno?.permissions?.querySync?.({ name: "read", path: STATUS });
    if (deno !== undefined && query?.state !== "granted") return ignored;
    const mask = /^SigIgn:\s*([0-9a-f]+)$/m.exec(textFileReader()?.(STATUS) ?? "");
    if (mask) {
      const bits = BigInt(`0x${mask[1]}`);
      for (const signal of SIGNALS) {
        if ((bits >> BigInt(SIGNAL_NUMBERS[signal] - 1)) & 1n) ignored.add(signal);
      }
    }
  } catch {
    // not Linux, or no permission to read it
  }
  return ignored;
}

/**
 * Deno's signal listeners: `Deno.addSignalListener` keeps no count the guard could read, so the
 * app's are counted as they are added (the wrapper passes every call through unchanged), and
 * `process.on(signal)` listeners through `process.listenerCount`.
 */
function installDenoSignals(
  deno: DenoSignals,
  proc: NodeProcess | undefined,
  writeSync: () => void,
): void {
  const appListeners = new Map<string, Set<unknown>>();
  const add = deno.addSignalListener;
  const remove = deno.removeSignalListener;
  try {
    Object.defineProperty(deno, "addSignalListener", {
      value: function addSignalListener(signal: string, fn: () => void): void {
        add.call(deno, signal, fn);
        let set = appListeners.get(signal);
        if (!set) appListeners.set(signal, set = new Set());
        set.add(fn);
      },
      writable: true,
      configurable: true,
    });
    Object.defineProperty(deno, "removeSignalListener", {
      value: function removeSignalListener(signal: string, fn: () => void): void {
        remove.call(deno, signal, fn);
        appListeners.get(signal)?.delete(fn);
      },
      writable: true,
      configurable: true,
    });
  } catch {
    // A frozen Deno namespace: the app's own Deno listeners cannot be seen, process.on ones can.
  }
  const appHasListener = (signal: ExitSignal) =>
    (appListeners.get(signal)?.size ?? 0) > 0 || (proc?.listenerCount?.(signal) ?? 0) > 0;
  const ignored = ignoredSignals();
  const ours = new Map<ExitSignal, () => void>();
  // Deno keeps no count of listeners to read: which of the guard's are there is kept here.
  const attached = new Set<ExitSignal>();
  for (const signal of SIGNALS) {
    if (ignored.has(signal)) continue;
    const onSignal = () => {
      writeSync();
      if (appHasListener(signal)) return;
      remove.call(deno, signal, onSignal);
      attached.delete(signal);
      deno.kill(deno.pid, signal);
    };
    try {
      add.call(deno, signal, onSignal);
      ours.set(signal, onSignal);
      attached.add(signal);
    } catch {
      // A signal this platform does not have (SIGTERM on Windows).
    }
  }
  const own: OwnSignals = {
    pid: deno.pid,
    alone: (signal) => attached.has(signal) && !appHasListener(signal),
    detach(signal) {
      remove.call(deno, signal, ours.get(signal)!);
      attached.delete(signal);
    },
    attach(signal) {
      add.call(deno, signal, ours.get(signal)!);
      attached.add(signal);
    },
  };
  // Deno's `process.kill` does not go through `Deno.kill`: both are the app's ways to send one.
  endOwnSignalsByDefault(deno, own, writeSync);
  if (proc !== undefined) endOwnSignalsByDefault(proc, own, writeSync);
}
