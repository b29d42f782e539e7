/**
 * Owns every property the guard replaces, so that disabling restores the exact original
 * descriptors (the same function objects) and enabling twice never patches twice.
 */
export class Patcher {
  #patches: Array<{ target: object; key: PropertyKey; original: PropertyDescriptor | undefined }> =
    [];
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
    this.#patches.push({ target, key, original });
    let keys = this.#patched.get(target);
    if (!keys) this.#patched.set(target, keys = new Set());
    keys.add(key);
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
    return this.define(target, key, {
      value: make(original.value as F),
      writable: original.writable ?? true,
      enumerable: original.enumerable ?? false,
    });
  }

  /** Puts every original descriptor back, newest first. */
  restore(): void {
    for (const { target, key, original } of this.#patches.reverse()) {
      if (original) Object.defineProperty(target, key, original);
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
