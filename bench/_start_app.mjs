// The application the preload bench starts: the time since the process began, taken first thing
// (reading anything else first would count its cost to the app: on Deno, `process` alone loads the
// Node compatibility layer, which the preload loads too), then its RSS. On Deno the RSS comes from
// `Deno.memoryUsage()` for the same reason.
const firstLineMs = performance.now();
const rss = globalThis.Deno?.memoryUsage().rss ?? process.memoryUsage().rss;
console.log(JSON.stringify({ rss, first_line_ms: firstLineMs }));
