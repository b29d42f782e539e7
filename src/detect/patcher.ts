/**
 * Owns every property the guard replaces, so that disabling restores the exact original
 * descriptors (the same function objects) and enabling twice never patches twice.
 */
export class Patcher {
  #patches: Array<{
    target: object;
    key: PropertyKey;
    original: PropertyDescriptor | undefined;
    /** Set when the property could only be assigned (writable, not configurable: Bun's). */
    assigned?: unknown;
  }> = [];
  #patched = new WeakMap<object, Set<PropertyKey>>();

  /** Whether `key` of `target` is patched now. */
  has(target: object, key: PropertyKey): boolean {
    return this.#patched.get(target)?.has(key) ?? false;
  }

  /** Replaces the own property `key` of `target` with `descriptor`, once. */
  define(target: object, key: PropertyKey, descriptor: PropertyDescriptor): boolean {
    if (this.has(target, key)) return false;
    const original = Object.getOwnPropertyDescriptor(target, key);
    if (original && !original.configurable) return false;
    Object.defineProperty(target, key, { configurable: true, ...descriptor });
    this.#record(target, key, original);
    return true;
  }

  /** Wraps the method `key` found on `target` itself (not inherited). */
  wrapMethod<F extends (...args: never[]) => unknown>(
    target: object,
    key: PropertyKey,
    make: (original: F) => F,
  ): boolean {
    const original = Object.getOwnPropertyDescriptor(target, key);
    if (!original || typeof original.value !== "function" || this.has(target, key)) return false;
    if (!original.configurable) {
      // Writable but not configurable (Bun's builtins): assigned, and assigned back on restore.
      if (!original.writable) return false;
      const wrapped = make(original.value as F);
      (target as Record<PropertyKey, unknown>)[key] = wrapped;
      if ((target as Record<PropertyKey, unknown>)[key] !== wrapped) return false;
      this.#record(target, key, original, wrapped);
      return true;
    }
    return this.define(target, key, {
      value: make(original.value as F),
      writable: original.writable ?? true,
      enumerable: original.enumerable ?? false,
    });
  }

  /**
   * Replaces the class or function held by `key` of `target` with `wrap(original)`. Where the
   * runtime holds it behind a lazy getter (Deno's `WebSocket`, `EventSource`: the first read loads
   * its implementation), it is read and wrapped on the app's first read, not now; a value the app
   * assigns is kept as it is.
   */
  wrapValue<F extends object>(
    target: object,
    key: PropertyKey,
    wrap: (original: F) => unknown,
  ): boolean {
    if (this.has(target, key)) return false;
    const original = Object.getOwnPropertyDescriptor(target, key);
    if (original?.get === undefined) {
      // A data property, or one inherited (workerd's globals live on the global's prototype): an
      // own data property in front of it, deleted again on restore.
      const value = original ? original.value : (target as Record<PropertyKey, unknown>)[key];
      if (typeof value !== "function") return false;
      return this.define(target, key, {
        value: wrap(value as F),
        writable: original?.writable ?? true,
        enumerable: original?.enumerable ?? false,
      });
    }
    const read = original.get;
    let source: unknown;
    let wrapped: unknown;
    return this.define(target, key, {
      get(this: unknown) {
        const value = read.call(this);
        if (value !== source) {
          source = value;
          wrapped = typeof value === "function" ? wrap(value as F) : value;
        }
        return wrapped;
      },
      set(value: unknown) {
        Object.defineProperty(target, key, {
          value,
          writable: true,
          enumerable: original.enumerable ?? false,
          configurable: true,
        });
      },
      enumerable: original.enumerable ?? false,
    });
  }

  #record(
    target: object,
    key: PropertyKey,
    original: PropertyDescriptor | undefined,
    assigned?: unknown,
  ): void {
    this.#patches.push(
      assigned === undefined ? { target, key, original } : { target, key, original, assigned },
    );
    let keys = this.#patched.get(target);
    if (!keys) this.#patched.set(target, keys = new Set());
    keys.add(key);
  }

  /** Puts every original descriptor back, newest first. */
  restore(): void {
    for (const { target, key, original, assigned } of this.#patches.reverse()) {
      const t = target as Record<PropertyKey, unknown>;
      // An assigned patch is undone only while it is still ours: the app may have replaced it.
      if (assigned !== undefined) {
        if (t[key] === assigned) t[key] = original!.value;
      } else if (original) Object.defineProperty(target, key, original);
      else delete (target as Record<PropertyKey, unknown>)[key];
      this.#patched.get(target)?.delete(key);
    }
    this.#patches = [];
  }
}

/** Finds the object on `proto`'s chain that owns `key`, below Object.prototype. */
export function ownerOf(proto: object | null, key: PropertyKey): object | null {
  for (
    let p = proto;
    p && p !== Object.prototype && p !== Function.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    if (Object.prototype.hasOwnProperty.call(p, key)) return p;
  }
  return null;
}
