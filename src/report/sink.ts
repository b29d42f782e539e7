import type { AnyRecord } from "./record.ts";

/**
 * A sink is a function that takes each record. It may return a promise; `flush()` waits for it.
 * It must not hold on to the record after returning (the guard reuses nothing, but may freeze it).
 */
export type Sink = (record: AnyRecord) => void | Promise<void>;

/** Ends the span of one call when its response headers arrive (or at once when blocked). */
export type Settle = (error?: unknown) => void;

/** What the chain does with records: the guard only ever talks to this. */
export interface RecordOutput {
  /** Sends a record down; may return a `Settle` that ends the call's span. Never throws. */
  emit(record: AnyRecord): Settle | null;
  /** Resolves when everything emitted so far is durable. */
  flush(): Promise<void>;
  /** Flushes, then releases files, sockets and timers. */
  close(): Promise<void>;
  /**
   * Writes everything pending synchronously, for exit paths where no promise will settle
   * (`process.exit()`, an uncaught exception, a signal). Never throws.
   */
  flushSync?(): void;
}
