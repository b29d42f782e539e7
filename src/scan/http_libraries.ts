/**
 * The request functions the scan knows besides the global `fetch`: HTTP client packages, how each
 * takes its URL, its methods, and how its instances get a base URL. A call through one of them to
 * a provider host or an AI path is a site.
 *
 * @module
 */

/** How one HTTP client package is called. */
export interface HttpLibrary {
  /** Written as the site's `library` and the first word of its `target`. */
  readonly via: string;
  /** The npm packages that export it. */
  readonly packages: readonly string[];
  /** The export that is the client (`default`, or a named export such as undici's `fetch`). */
  readonly exports: readonly string[];
  /** The client itself is called with the URL (`fetch(url)`, `ky(url)`). */
  readonly callable: boolean;
  /** A call may pass one options object with the URL in it (`axios({ url })`). */
  readonly config: boolean;
  /** Methods named for an HTTP verb, or `request`, that take the URL first. */
  readonly methods: ReadonlySet<string>;
  /** Methods that make an instance with defaults (`axios.create({ baseURL })`). */
  readonly factories: ReadonlySet<string>;
  /** Option names of the base URL (in factories, and per call). */
  readonly baseKeys: readonly string[];
  /** Constructing it makes the request (`new WebSocket(url)`, `new SSE(url, { payload })`). */
  readonly constructed?: boolean;
  /** Option names of a body that makes the request a POST when no `method` is given. */
  readonly bodyKeys?: readonly string[];
  /**
   * The scheme of a request whose options give the URL in parts (Node's `https.request({
   * hostname, path })`): `hostname` (or `host`), then `path`.
   */
  readonly scheme?: string;
}

const VERBS = new Set(["get", "post", "put", "patch", "delete", "head", "request", "stream"]);

/** The global `fetch` (and `globalThis.fetch`, `window.fetch`). */
export const GLOBAL_FETCH: HttpLibrary = {
  via: "fetch",
  packages: [],
  exports: [],
  callable: true,
  config: false,
  methods: new Set(),
  factories: new Set(),
  baseKeys: [],
};

/**
 * The global `WebSocket` (`new WebSocket(url)`): a realtime API's connection is its call (the
 * guard's WebSocket layer records it the same way).
 */
export const GLOBAL_WEBSOCKET: HttpLibrary = {
  ...GLOBAL_FETCH,
  via: "WebSocket",
  constructed: true,
};

/** Every HTTP client package the scan follows. */
export const HTTP_LIBRARIES: readonly HttpLibrary[] = [
  {
    ...GLOBAL_WEBSOCKET,
    packages: ["ws", "isomorphic-ws"],
    exports: ["default", "WebSocket"],
  },
  {
    ...GLOBAL_FETCH,
    packages: ["node-fetch", "cross-fetch", "isomorphic-fetch", "undici", "@whatwg-node/fetch"],
    exports: ["default", "fetch"],
  },
  {
    via: "axios",
    packages: ["axios", "redaxios"],
    exports: ["default"],
    callable: true,
    config: true,
    methods: VERBS,
    factories: new Set(["create"]),
    baseKeys: ["baseURL"],
  },
  {
    via: "ky",
    packages: ["ky"],
    exports: ["default"],
    callable: true,
    config: false,
    methods: VERBS,
    factories: new Set(["create", "extend"]),
    baseKeys: ["prefixUrl"],
  },
  {
    via: "got",
    packages: ["got"],
    exports: ["default", "got"],
    callable: true,
    config: false,
    methods: VERBS,
    factories: new Set(["extend"]),
    baseKeys: ["prefixUrl"],
  },
  {
    via: "ofetch",
    packages: ["ofetch"],
    exports: ["ofetch", "$fetch"],
    callable: true,
    config: false,
    methods: new Set(["raw", "native"]),
    factories: new Set(["create"]),
    baseKeys: ["baseURL"],
  },
  {
    via: "fetchEventSource",
    packages: ["@microsoft/fetch-event-source", "@fortaine/fetch-event-source"],
    exports: ["fetchEventSource"],
    callable: true,
    config: false,
    methods: new Set(),
    factories: new Set(),
    baseKeys: [],
  },
  {
    // Desktop apps' fetch (Tauri's HTTP plugin), the same signature as the global one.
    ...GLOBAL_FETCH,
    packages: ["@tauri-apps/plugin-http"],
    exports: ["fetch"],
  },
  {
    // sse.js: an EventSource that may send a body and headers, `new SSE(url, { headers, payload,
    // method })`. A `payload` makes it a POST (unless `method` says otherwise); the request
    // starts at construction, or at `source.stream()` with `start: false`.
    via: "SSE",
    packages: ["sse.js"],
    exports: ["SSE"],
    callable: true,
    config: false,
    methods: new Set(),
    factories: new Set(),
    baseKeys: [],
    constructed: true,
    bodyKeys: ["payload"],
  },
  {
    // A WebSocket behind a promise API, `new WebSocketAsPromised(url, options)`, opened by
    // `open()`: the connection is the call, as `new WebSocket(url)`'s.
    ...GLOBAL_WEBSOCKET,
    packages: ["websocket-as-promised"],
    exports: ["default"],
  },
  {
    // Obsidian plugins' request function: `requestUrl(url)` or `requestUrl({ url, method, body })`.
    via: "requestUrl",
    packages: ["obsidian"],
    exports: ["requestUrl", "request"],
    callable: true,
    config: true,
    methods: new Set(),
    factories: new Set(),
    baseKeys: [],
  },
  ...(["https", "http"] as const).map((scheme): HttpLibrary => ({
    // Node's own client: `https.request(url | options, callback)`, `https.get(…)`, the URL given
    // whole or in parts (`{ hostname, path, method }`).
    via: scheme,
    packages: [scheme, `node:${scheme}`],
    exports: ["default"],
    callable: false,
    config: false,
    methods: new Set(["request", "get"]),
    factories: new Set(),
    baseKeys: [],
    scheme,
  })),
];

/** The HTTP client a package's export is, if any. */
export function httpLibraryOf(pkg: string, exported: string): HttpLibrary | undefined {
  return HTTP_LIBRARIES.find((l) => l.packages.includes(pkg) && l.exports.includes(exported));
}
