/**
 * Bindings and scopes of one walk: what each name stands for (a {@link Value}), the function a
 * scope belongs to (parameters, returns, attestation) and the class `this` is.
 *
 * @module
 */
import { type Cell, CELL_LIMIT, type ClassSummary, type FnSummary, type Value } from "./values.ts";

/** One lexical scope. */
export class Scope {
  /** What each name declared here stands for. */
  readonly names = new Map<string, Value>();
  /** The enclosing scope. */
  readonly parent: Scope | null;
  /** The innermost function the scope is in (`null` at module level). */
  readonly fn: FnSummary | null;
  /** The class `this` refers to, if any. */
  readonly self: ClassSummary | null;

  /** A scope inside `parent`, in function `fn`, with `this` an instance of `self`. */
  constructor(parent: Scope | null, fn: FnSummary | null, self: ClassSummary | null) {
    this.parent = parent;
    this.fn = fn;
    this.self = self;
  }

  /** What a name stands for here, or `undefined` when nothing declares it. */
  lookup(name: string): Value | undefined {
    const found = this.names.get(name);
    if (found !== undefined) return found;
    for (let s = this.parent; s; s = s.parent) {
      const outer = s.names.get(name);
      if (outer !== undefined) return outer;
    }
    return undefined;
  }

  /** Declares a variable (a cell) here, once; its values come from its declarator and assignments. */
  declareCell(name: string): Cell {
    const found = this.names.get(name);
    if (found?.k === "cell") return found.cell;
    const cell: Cell = { values: [] };
    this.names.set(name, { k: "cell", cell });
    return cell;
  }
}

/**
 * Adds a value to a cell (a variable or field assigned more than once), up to a limit.
 *
 * @example
 * ```ts
 * import { assign } from "./scopes.ts";
 * const cell = { values: [] };
 * assign(cell, { k: "str", text: "https://api.openai.com" });
 * ```
 */
export function assign(cell: Cell, value: Value): void {
  if (value.k === "unknown" && cell.values.length > 0) return;
  if (cell.values.length < CELL_LIMIT) cell.values.push(value);
}
