/**
 * Which classes extend which, over the classes read so far: where `this.m()` in a base class
 * whose `m` is abstract dispatches (`classMember` in `resolve.ts`). A subclass is placed under
 * its base once its `extends` clause resolves to a class; one whose base is imported from a
 * module not read yet is tried again once that module is.
 *
 * @module
 */
import type { ClassSummary, Value } from "./values.ts";

/** What an `extends` clause that may name a scanned class evaluates to (not `Error`, no SDK's). */
const SCANNED_BASE: ReadonlySet<Value["k"]> = new Set([
  "import",
  "class",
  "cell",
  "member",
  "call",
]);

/**
 * Whether a class's `extends` clause may name a class the scan reads (`extends Error`, a package's
 * class, an SDK client's cannot be the base class of an abstract dispatch).
 *
 * @example
 * ```ts
 * import { extendsScanned } from "./subclasses.ts";
 * const cls = { name: "E", superclass: { k: "unknown" } as const, methods: new Map(), fields: new Map(), statics: new Map() };
 * extendsScanned(cls); // false
 * ```
 */
export function extendsScanned(cls: ClassSummary): boolean {
  return cls.superclass !== null && SCANNED_BASE.has(cls.superclass.k);
}

/** The module an `extends` clause imports its base from (`Base`, `ns.Base`), if it does. */
function importedFrom(v: Value): string | null {
  let x = v;
  while (x.k === "member") x = x.object;
  return x.k === "import" ? x.module : null;
}

/** The classes that extend each class, as far as the classes added so far tell. */
export class Subclasses {
  private readonly byBase = new Map<ClassSummary, ClassSummary[]>();
  /** Added, not placed yet. */
  private added: ClassSummary[] = [];
  /** Classes whose base is imported from a module not read when they were placed, by module. */
  private readonly waiting = new Map<string, ClassSummary[]>();
  private generation = -1;
  private placing = false;
  private readonly superclassOf: (superclass: Value) => Value;
  private readonly isRead: (module: string) => boolean;
  private readonly current: () => number;

  /**
   * An index whose subclasses' `extends` clauses resolve with `superclassOf`; `isRead` tells
   * whether a module is read, `current` changes when another one is.
   */
  constructor(
    superclassOf: (superclass: Value) => Value,
    isRead: (module: string) => boolean = () => true,
    current: () => number = () => 0,
  ) {
    this.superclassOf = superclassOf;
    this.isRead = isRead;
    this.current = current;
  }

  /** Classes with an `extends` clause, from a module just read. */
  add(classes: Iterable<ClassSummary>): void {
    for (const cls of classes) if (extendsScanned(cls)) this.added.push(cls);
  }

  /**
   * The classes that extend `cls` directly.
   *
   * @example
   * ```ts
   * import { Subclasses } from "./subclasses.ts";
   * const base = { name: "Base", superclass: null, methods: new Map(), fields: new Map(), statics: new Map() };
   * const sub = { ...base, name: "Sub", superclass: { k: "class", cls: base } as const };
   * const index = new Subclasses((v) => v);
   * index.add([sub]);
   * index.of(base); // [sub]
   * ```
   */
  readonly of = (cls: ClassSummary): readonly ClassSummary[] => {
    this.place();
    return this.byBase.get(cls) ?? [];
  };

  /** Places the classes added since, and those waiting on a module read since. */
  private place(): void {
    const now = this.current();
    if (this.placing || (this.added.length === 0 && now === this.generation)) return;
    const todo = this.added;
    this.added = [];
    if (now !== this.generation) {
      this.generation = now;
      for (const [module, classes] of this.waiting) {
        if (!this.isRead(module)) continue;
        this.waiting.delete(module);
        todo.push(...classes);
      }
    }
    this.placing = true;
    try {
      for (const sub of todo) {
        const sup = this.superclassOf(sub.superclass!);
        let placed = false;
        for (const o of sup.k === "either" ? sup.options : [sup]) {
          if (o.k !== "class" || o.cls === sub) continue;
          const list = this.byBase.get(o.cls);
          if (list) list.push(sub);
          else this.byBase.set(o.cls, [sub]);
          placed = true;
        }
        const module = placed ? null : importedFrom(sub.superclass!);
        // A base in a module read already that is no class stays none.
        if (module === null || this.isRead(module)) continue;
        const list = this.waiting.get(module);
        if (list) list.push(sub);
        else this.waiting.set(module, [sub]);
      }
    } finally {
      this.placing = false;
    }
  }
}
