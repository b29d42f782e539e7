// One child of the import matrix: loads each specifier with `import()` and with `require()`, in
// order, and writes what loaded and the shape of each export (type, and a function's name and
// arity) to a JSON file. Plain JavaScript, so Node, Deno and Bun run it as it is.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join } from "node:path";
import { pathToFileURL } from "node:url";

const [out, list] = process.argv.slice(2);
const specs = JSON.parse(readFileSync(list, "utf8"));
const require = createRequire(join(process.cwd(), "package.json"));

function describe(value) {
  if (typeof value === "function") return `function ${value.name}/${value.length}`;
  if (value === null) return "null";
  return typeof value;
}

function shape(exports) {
  const top = describe(exports);
  if (exports === null || (typeof exports !== "object" && typeof exports !== "function")) {
    return [top];
  }
  const keys = Object.keys(exports); // in order: a CommonJS module's key order is observable
  return [
    top,
    ...keys.map((key) => {
      try {
        return `${key}: ${describe(exports[key])}`;
      } catch {
        return `${key}: throws`;
      }
    }),
  ];
}

function failure(error) {
  return String(error?.code ?? error?.name ?? "Error");
}

// A fixture path is relative to the working directory, as a package name resolves from it.
const local = (spec) => spec.startsWith("./") ? join(process.cwd(), spec) : spec;

const results = [];
for (const spec of specs) {
  for (const via of ["import", "require"]) {
    if (via === "import" && spec.endsWith(".json")) continue; // needs an import attribute
    try {
      let timer;
      const loaded = via === "import"
        ? await Promise.race([
          import(isAbsolute(local(spec)) ? pathToFileURL(local(spec)).href : spec),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(Object.assign(new Error(), { code: "TIMEOUT" })),
              20_000,
            );
          }),
        ]).finally(() => clearTimeout(timer))
        : require(local(spec));
      results.push({ spec, via, ok: true, shape: shape(loaded) });
    } catch (error) {
      results.push({ spec, via, ok: false, error: failure(error) });
    }
  }
}
const guarded = globalThis[Symbol.for("@aiguard/attest.registry")]?.owner != null;
writeFileSync(out, JSON.stringify({ guarded, results }));
process.exit(0);
