// deno-lint-ignore-file no-explicit-any
import { type Attestation, currentFrame, type Frame, runInFrame } from "./context.ts";

/** Options carried on the records and spans of calls made inside an attested scope. */
export interface AttestOptions {
  /** A stable identifier of the reviewed code path, e.g. `"summarize-v2"`. */
  id?: string;
  /** Why this path is approved, e.g. a review ticket. */
  reason?: string;
}

/** What `attest(options)` returns: a function wrapper that is also a TC39 method decorator. */
export type AttestDecorator = <F extends ((...args: any[]) => any)>(
  fn: F,
  context?: ClassMethodDecoratorContext,
) => F;

function toAttestation(options: AttestOptions | undefined): Attestation {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new TypeError("attest() takes a function or an options object { id?, reason? }.");
  }
  for (const key of ["id", "reason"] as const) {
    const value = options?.[key];
    if (value !== undefined && typeof value !== "string") {
      throw new TypeError(`attest() option "${key}" must be a string, got ${typeof value}.`);
    }
  }
  return { id: options?.id ?? null, reason: options?.reason ?? null };
}

// One frame per attestation for the common case (no SDK call in progress): no allocation per call.
const baseFrames = new WeakMap<Attestation, Frame>();

function frameFor(attestation: Attestation): Frame {
  const call = currentFrame()?.call ?? null;
  if (call !== null) return { attestation, call };
  let frame = baseFrames.get(attestation);
  if (!frame) baseFrames.set(attestation, frame = Object.freeze({ attestation, call: null }));
  return frame;
}

const GENERATOR_TAGS = new Set(["[object Generator]", "[object AsyncGenerator]"]);

/** Keeps a generator's body inside the scope each time it is resumed, not only when created. */
function scopeGenerator<G extends Generator | AsyncGenerator>(gen: G, attestation: Attestation): G {
  const step = (method: "next" | "return" | "throw") => (arg?: unknown) =>
    runInFrame(frameFor(attestation), () => (gen[method] as (a?: unknown) => unknown)(arg));
  const isAsync = Object.prototype.toString.call(gen) === "[object AsyncGenerator]";
  const wrapped = {
    next: step("next"),
    return: step("return"),
    throw: step("throw"),
    [isAsync ? Symbol.asyncIterator : Symbol.iterator]() {
      return wrapped;
    },
    [Symbol.toStringTag]: isAsync ? "AsyncGenerator" : "Generator",
  };
  return wrapped as unknown as G;
}

/** Runs `call` in the scope; a generator it returns stays in the scope while iterated. */
function scoped(attestation: Attestation, call: () => unknown): unknown {
  const result = runInFrame(frameFor(attestation), call);
  // Cheap test first: promises and plain values have no next().
  if (
    result !== null && typeof result === "object" &&
    typeof (result as { next?: unknown }).next === "function" &&
    GENERATOR_TAGS.has(Object.prototype.toString.call(result))
  ) {
    return scopeGenerator(result as Generator, attestation);
  }
  return result;
}

function wrapFunction<F extends ((...args: any[]) => any)>(fn: F, attestation: Attestation): F {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    return scoped(attestation, () => fn.apply(this, args));
  };
  Object.defineProperty(wrapped, "name", { value: fn.name, configurable: true });
  Object.defineProperty(wrapped, "length", { value: fn.length, configurable: true });
  return wrapped as F;
}

/**
 * Marks a function as a reviewed AI code path: every AI call it makes, synchronously or
 * asynchronously, counts as attested.
 *
 * @example Wrap a function
 * ```ts
 * import { attest, isAttested } from "@aiguard/attest";
 *
 * const summarize = attest(async (text: string) => {
 *   // calls to an AI provider made here are attested
 *   return isAttested() ? text.slice(0, 10) : "";
 * }, { id: "summarize", reason: "REVIEW-42" });
 * await summarize("a long text to summarize");
 * ```
 */
export function attest<F extends ((...args: any[]) => any)>(fn: F, options?: AttestOptions): F;
/**
 * Returns a wrapper factory that is also a TC39 method decorator.
 *
 * @example Decorate a method
 * ```ts
 * import { attest } from "@aiguard/attest";
 *
 * class Summarizer {
 *   @attest({ id: "summarizer" })
 *   async run(text: string): Promise<string> {
 *     return text.slice(0, 10);
 *   }
 * }
 * await new Summarizer().run("a long text");
 * ```
 */
export function attest(options?: AttestOptions): AttestDecorator;
export function attest(
  fnOrOptions?: ((...args: any[]) => any) | AttestOptions,
  options?: AttestOptions,
): ((...args: any[]) => any) | AttestDecorator {
  if (typeof fnOrOptions === "function") return wrapFunction(fnOrOptions, toAttestation(options));
  const attestation = toAttestation(fnOrOptions);
  return <F extends ((...args: any[]) => any)>(fn: F, context?: ClassMethodDecoratorContext): F => {
    if (typeof fn !== "function") {
      throw new TypeError(
        `@attest() decorates methods and functions, not ${context?.kind ?? typeof fn}.`,
      );
    }
    return wrapFunction(fn, attestation);
  };
}

/**
 * Whether the code running now is inside an attested scope.
 *
 * @example
 * ```ts
 * import { attest, isAttested } from "@aiguard/attest";
 *
 * console.log(isAttested()); // false
 * attest(() => console.log(isAttested()))(); // true
 * ```
 */
export function isAttested(): boolean {
  return currentFrame()?.attestation != null;
}

/** The innermost attestation in force, or `null`. */
export function currentAttestation(): Attestation | null {
  return currentFrame()?.attestation ?? null;
}

/**
 * Returns a Proxy of `target` on which every method call, also on nested objects, runs attested.
 * Methods run with the real object as `this`, so private class fields keep working.
 *
 * @example Attest every call made through one client
 * ```ts
 * import { isAttested, wrap } from "@aiguard/attest";
 *
 * const client = { chat: { send: (q: string) => isAttested() ? `sent ${q}` : "no" } };
 * const reviewed = wrap(client, { id: "support-bot" });
 * console.log(reviewed.chat.send("hi")); // "sent hi"
 * ```
 */
export function wrap<T extends object>(target: T, options?: AttestOptions): T {
  return wrapObject(target, toAttestation(options), {
    objects: new WeakMap(),
    methods: new WeakMap(),
  });
}

/** Proxies are cached so that `proxy.a === proxy.a` holds, per owner for methods (`this` differs). */
interface WrapCache {
  objects: WeakMap<object, object>;
  methods: WeakMap<object, WeakMap<((...args: any[]) => any), ((...args: any[]) => any)>>;
}

function wrapObject<T extends object>(
  target: T,
  attestation: Attestation,
  cache: WrapCache,
): T {
  const cached = cache.objects.get(target);
  if (cached) return cached as T;
  const proxy: T = new Proxy(target, {
    get(obj, property) {
      const value = Reflect.get(obj, property, obj);
      if (value === null || (typeof value !== "object" && typeof value !== "function")) {
        return value;
      }
      // A frozen property must read back as itself (a Proxy invariant): leave it unwrapped.
      const own = Reflect.getOwnPropertyDescriptor(obj, property);
      if (own && !own.configurable && own.writable === false) return value;
      if (typeof value === "function") return wrapCallable(value, obj, proxy, attestation, cache);
      return wrapObject(value, attestation, cache);
    },
  });
  cache.objects.set(target, proxy);
  return proxy;
}

function wrapCallable(
  fn: (...args: any[]) => any,
  owner: object,
  ownerProxy: object,
  attestation: Attestation,
  cache: WrapCache,
): (...args: any[]) => any {
  let perOwner = cache.methods.get(owner);
  if (!perOwner) cache.methods.set(owner, perOwner = new WeakMap());
  const cached = perOwner.get(fn);
  if (cached) return cached;
  const proxy: (...args: any[]) => any = new Proxy(fn, {
    apply(target, thisArg, args) {
      // Bind to the real object: private fields (#x) are not reachable through a Proxy.
      const self = thisArg === ownerProxy ? owner : thisArg;
      return scoped(attestation, () => Reflect.apply(target, self, args));
    },
    construct(target, args, newTarget): object {
      return runInFrame(
        frameFor(attestation),
        (): object => Reflect.construct(target, args, newTarget === proxy ? target : newTarget),
      );
    },
  });
  perOwner.set(fn, proxy);
  return proxy;
}
