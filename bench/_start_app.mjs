// The application the preload bench starts: prints its RSS and the time since the process began
// when its first line runs (after any preload).
console.log(JSON.stringify({
  rss: process.memoryUsage().rss,
  first_line_ms: performance.now(),
}));
