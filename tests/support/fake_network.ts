/**
 * The one stand-in for the network under the guard: installed as `globalThis.fetch` before the
 * guard wraps it, it answers locally (nothing leaves the machine, workerd included) and keeps
 * `METHOD url` of every request that reached it, so a test sees what the guard let through.
 */

/** What {@link installNetwork} gives a test. */
export interface FakeNetwork {
  /** `METHOD url` of every request that reached the network, in order. */
  readonly seen: string[];
  /** The stand-in itself: what `globalThis.fetch` must be again once the guard is off. */
  readonly fake: typeof fetch;
  /** Puts the fetch that was there before back. Call it in a `finally`. */
  restore(): void;
}

/** Which requests go on to the real network: loopback servers of a test (an OTLP receiver). */
export interface NetworkOptions {
  passThrough?: (url: string) => boolean;
}

function urlOf(input: RequestInfo | URL): string {
  return typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
}

/**
 * Installs the stand-in. Chat completions are answered with an OpenAI-shaped body
 * (`id: "chatcmpl-net"`), everything else with `{"ok":true}`, both as JSON.
 *
 * @example
 * ```ts
 * const net = installNetwork();
 * try {
 *   await fetch("https://api.openai.com/v1/models");
 * } finally {
 *   net.restore();
 * }
 * ```
 */
export function installNetwork(options: NetworkOptions = {}): FakeNetwork {
  const original = globalThis.fetch;
  const seen: string[] = [];
  const fake = ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = urlOf(input);
    if (options.passThrough?.(url)) return original(input, init);
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    seen.push(`${method} ${url}`);
    const body = url.includes("/chat/completions")
      ? { id: "chatcmpl-net", choices: [{ message: { content: "hi" } }] }
      : { ok: true };
    return Promise.resolve(
      new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } }),
    );
  }) as typeof fetch;
  globalThis.fetch = fake;
  return {
    seen,
    fake,
    restore() {
      globalThis.fetch = original;
    },
  };
}
