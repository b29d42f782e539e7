/**
 * What each expression of a file stands for, as a value summary (`values.ts`): the evaluator the
 * walk (`walk.ts`) builds on. It keeps the summary of every function and class node, resolves
 * what an import or `require` names, and counts the reads and calls of each name.
 *
 * @module
 */
import { sdkOf } from "../catalog.ts";
import { memberName, nameOf, type Node, stringOf, templateText, unwrap } from "./estree.ts";
import { HTTP_LIBRARIES, httpLibraryOf } from "./http_libraries.ts";
import { electronBinding } from "./electron.ts";
import { isMerge, isObjectAssign, mergedObject, mergeImport } from "./merges.ts";
import { sdkMember } from "./resolve.ts";
import type { Scope } from "./scopes.ts";
import { ANY_KEY, type ClassSummary, type FnSummary, UNKNOWN, type Value } from "./values.ts";

/** Options of one analysis. */
export interface AnalyzeOptions {
  /**
   * The scanned module an import specifier names (an id the scan's `exportOf` knows), `"aiguard"`
   * for a copy of this package, or `null` for a package. Without it, imports of other files stay
   * unknown (the lint rules).
   */
  resolveModule?: (specifier: string) => string | null;
  /** The scanned module's id: its functions carry it (a request may be reported in them). */
  module?: string;
}

const AIGUARD_PACKAGES = new Set(["@aiguard/attest", "jsr:@aiguard/attest", "npm:@aiguard/attest"]);
/** Globals the values know: request functions, URL builders, the global object. */
export const GLOBALS = new Set([
  "fetch",
  "WebSocket",
  "URL",
  "String",
  "globalThis",
  "Promise",
  "window",
  "self",
  "global",
]);
/** Packages whose function joins URL parts with `/` (`urlJoin(base, "/v1", path)`). */
const URL_JOIN_PACKAGES = new Set(["url-join", "url-join-ts", "proper-url-join", "urljoin"]);
/** The name such a function stands under: no global has it. */
const URL_JOIN = "(url-join)";

/**
 * React's hooks that hand back what they are given: `useCallback(fn, deps)` is `fn`,
 * `useMemo(make, deps)` what `make` returns (a component's request function, its chain).
 */
const REACT_HOOKS: Readonly<Record<string, string>> = {
  useCallback: "(useCallback)",
  useMemo: "(useMemo)",
};
const REACT_PACKAGES = new Set(["react", "preact/hooks", "preact/compat"]);

/** What an import of React names: its hooks that return what they are given, as globals. */
function reactBinding(imported: string): Value {
  if (imported === "*" || imported === "default") {
    const props = new Map<string, Value>();
    for (const [hook, name] of Object.entries(REACT_HOOKS)) props.set(hook, { k: "global", name });
    return { k: "obj", props };
  }
  const name = REACT_HOOKS[imported];
  return name === undefined ? UNKNOWN : { k: "global", name };
}

/** The URL `urlJoin(a, b, …)` gives: the parts with one `/` between each two. */
function joinedUrl(args: Value[]): Value {
  const parts: Value[] = [];
  args.forEach((a, i) => {
    if (i > 0) {
      const before = args[i - 1]!;
      const slashed = (before.k === "str" && before.text.endsWith("/")) ||
        (a.k === "str" && a.text.startsWith("/"));
      if (!slashed) parts.push({ k: "str", text: "/" });
    }
    parts.push(a);
  });
  return { k: "concat", parts };
}

/** Most arguments of a call the analysis reads (URL, options, and one more for `attest`). */
const MAX_ARGS = 5;

function isAiguardSpecifier(specifier: string): boolean {
  return AIGUARD_PACKAGES.has(specifier.replace(/@[\^~]?\d[^/]*$/, "")) ||
    /^(?:jsr:|npm:)?@aiguard\/attest(?:@[^/]*)?$/.test(specifier);
}

/** What the expressions of one file stand for (the walk extends it with statements). */
export class Evaluator {
  /** Reads of a name (see `Analysis.readNames` in `analyze.ts`). */
  readonly readNames = new Map<string, number>();
  /** Calls by callee name (see `Analysis.callNames` in `analyze.ts`). */
  readonly callNames = new Map<string, number>();
  private readonly read = new WeakSet<Node>();
  private readonly called = new WeakSet<Node>();
  /** Whether the file imports this package (only then can a call attest a function). */
  importsAiguard = false;
  private readonly fns = new WeakMap<Node, FnSummary>();
  private readonly classes = new WeakMap<Node, ClassSummary>();

  /** The options of the analysis: the module's id, how its imports resolve. */
  protected readonly options: AnalyzeOptions;

  /** An evaluator for one file analysed with `options`. */
  constructor(options: AnalyzeOptions) {
    this.options = options;
  }

  /** The summary of a function node, made on first sight: one per node, however it is reached. */
  fnSummary(node: Node): FnSummary {
    let fn = this.fns.get(node);
    if (!fn) {
      fn = { name: nameOf(node.id), returns: [], forwards: [], parent: null, attested: null };
      if (this.options.module !== undefined) fn.module = this.options.module;
      this.fns.set(node, fn);
    }
    return fn;
  }

  /** The summary of a class node, made on first sight. */
  classSummary(node: Node): ClassSummary {
    let cls = this.classes.get(node);
    if (!cls) {
      cls = {
        name: nameOf(node.id),
        superclass: null,
        methods: new Map(),
        fields: new Map(),
        statics: new Map(),
      };
      if (this.options.module !== undefined) cls.module = this.options.module;
      this.classes.set(node, cls);
    }
    return cls;
  }

  /** A module as a whole: `import * as x`, `require(x)`, `await import(x)`. */
  moduleValue(specifier: string | null): Value {
    return specifier === null ? UNKNOWN : this.importBinding(specifier, "*");
  }

  /** What the export `imported` (a name, `default` or `*`) of the module `specifier` stands for. */
  importBinding(specifier: string, imported: string): Value {
    if (isAiguardSpecifier(specifier)) {
      this.importsAiguard = true;
      return imported === "attest" || imported === "wrap"
        ? { k: "aiguard", member: imported }
        : { k: "aiguard", member: null };
    }
    const module = this.options.resolveModule?.(specifier) ?? null;
    if (module === "aiguard") return this.importBinding("@aiguard/attest", imported);
    if (module !== null) return { k: "import", module, name: imported };
    const entry = sdkOf(specifier);
    if (entry) {
      if (imported === "*") return { k: "sdk-module", entry };
      const member = sdkMember(entry, imported);
      return member.k === "unknown" && imported === "default" ? { k: "sdk-module", entry } : member;
    }
    if (URL_JOIN_PACKAGES.has(specifier)) return { k: "global", name: URL_JOIN };
    if (REACT_PACKAGES.has(specifier)) return reactBinding(imported);
    const merge = mergeImport(specifier, imported);
    if (merge) return merge;
    const electron = electronBinding(specifier, imported);
    if (electron) return electron;
    const pkg = HTTP_LIBRARIES.find((l) => l.packages.some((p) => specifier === p));
    if (pkg) {
      const lib = httpLibraryOf(specifier, imported === "*" ? "default" : imported);
      return lib ? { k: "http", lib, base: null, method: null } : UNKNOWN;
    }
    return UNKNOWN;
  }

  /** A TypeScript enum: an object of its string members. */
  enumValue(node: Node): Value {
    const props = new Map<string, Value>();
    for (const m of (node.body?.members ?? node.members ?? []) as Node[]) {
      const key = nameOf(m.id);
      const text = stringOf(m.initializer);
      if (key !== null) props.set(key, text === null ? UNKNOWN : { k: "str", text });
    }
    return { k: "obj", props };
  }

  /**
   * A value of the type an annotation names, when the scope declares it: an instance of a class
   * (`client: OpenAI`), what a type alias stands for, a module `typeof` names (`typeof
   * import("openai")`: the package's namespace), an object of a type literal's known members,
   * a member of a value of the type an indexed access reads (`Sdk["OpenAI"]`).
   */
  typeValue(annotation: Node | undefined, scope: Scope, depth = 0): Value {
    const type = annotation?.typeAnnotation ?? annotation;
    if (!type || depth > 8) return UNKNOWN;
    switch (type.type) {
      case "TSTypeReference":
        break;
      case "TSUnionType":
        // `OpenAI | undefined`: the first member the scope knows.
        for (const t of type.types as Node[]) {
          const v = this.typeValue(t, scope, depth + 1);
          if (v !== UNKNOWN) return v;
        }
        return UNKNOWN;
      case "TSTypeQuery":
        // Only of a module: `typeof x` of the code's own values (config objects, `typeof
        // this.defaults`) cost the scan of the SDK tree a quarter more resolution for no site.
        return type.exprName?.type === "TSImportType"
          ? this.importTypeValue(type.exprName)
          : UNKNOWN;
      case "TSImportType": {
        // `import("openai").OpenAI` as a type: an instance of that export.
        const exported = this.importTypeValue(type);
        return exported === UNKNOWN ? UNKNOWN : { k: "typed", type: exported };
      }
      case "TSIndexedAccessType": {
        const key = stringOf(type.indexType?.literal);
        const object = key === null ? UNKNOWN : this.typeValue(type.objectType, scope, depth + 1);
        return object === UNKNOWN ? UNKNOWN : { k: "member", object, name: key! };
      }
      case "TSTypeLiteral": {
        // `Promise<{ sdk: BedrockModule; client: Client }>`: the members whose types are known.
        let props: Map<string, Value> | null = null;
        for (const m of (type.members as Node[]).slice(0, 40)) {
          const key = m.type === "TSPropertySignature" && !m.computed ? nameOf(m.key) : null;
          const v = key === null ? UNKNOWN : this.typeValue(m.typeAnnotation, scope, depth + 1);
          if (v !== UNKNOWN) (props ??= new Map()).set(key!, v);
        }
        return props ? { k: "obj", props } : UNKNOWN;
      }
      default:
        return UNKNOWN;
    }
    const ref = type.typeName as Node;
    // `Promise<BaseChatModel>` (an async function's return type): what it settles to.
    if (ref.type === "Identifier" && ref.name === "Promise" && !scope.lookup("Promise")) {
      const settled = (type.typeArguments?.params as Node[] | undefined)?.[0];
      return settled ? this.typeValue(settled, scope, depth + 1) : UNKNOWN;
    }
    const base = ref.type === "TSQualifiedName"
      ? {
        k: "member",
        object: scope.lookup(nameOf(ref.left) ?? "") ?? UNKNOWN,
        name: nameOf(ref.right) ?? "",
      } as Value
      : scope.lookup(nameOf(ref) ?? "");
    return base ? { k: "typed", type: base } : UNKNOWN;
  }

  /**
   * What an import type names: the module's namespace (`import("openai")`), or its export
   * (`import("openai").OpenAI`, `import("pkg").ns.X`).
   */
  private importTypeValue(node: Node): Value {
    let value = this.moduleValue(stringOf(node.source ?? node.argument?.literal));
    const path: string[] = [];
    for (let q = node.qualifier as Node | null; q; q = q.left ?? null) {
      path.unshift(nameOf(q.right ?? q) ?? "");
      if (q.type !== "TSQualifiedName") break;
    }
    for (const name of path) {
      if (value !== UNKNOWN) value = { k: "member", object: value, name };
    }
    return value;
  }

  /**
   * Counts a read of `name` once per node (a returned call is evaluated as a value and walked as
   * a call), unless it is in a function of that name (recursion).
   */
  protected countRead(node: Node, name: string, scope: Scope, calls = false): void {
    const seen = calls ? this.called : this.read;
    if (seen.has(node)) return;
    seen.add(node);
    for (let fn = scope.fn; fn; fn = fn.parent) if (fn.name === name) return;
    const counts = calls ? this.callNames : this.readNames;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }

  /** What an expression stands for, as a value summary (counting the names it reads). */
  evaluate(raw: Node | null | undefined, scope: Scope, depth = 0): Value {
    if (!raw || depth > 24) return UNKNOWN;
    if (raw.type === "TSAsExpression" || raw.type === "TSTypeAssertion") {
      // `(await node.init()) as BaseChatModel`: what the code says the value is, beside what it
      // evaluates to.
      const inner = this.evaluate(raw.expression, scope, depth + 1);
      const typed = this.typeValue(raw.typeAnnotation, scope);
      if (typed === UNKNOWN) return inner;
      return inner === UNKNOWN ? typed : { k: "either", options: [inner, typed] };
    }
    const n = unwrap(raw);
    switch (n.type) {
      case "Identifier":
        this.countRead(n, n.name, scope);
        return scope.lookup(n.name) ??
          (GLOBALS.has(n.name) ? { k: "global", name: n.name } : UNKNOWN);
      case "Literal":
      case "StringLiteral":
        return typeof n.value === "string" ? { k: "str", text: n.value } : UNKNOWN;
      case "TemplateLiteral": {
        const parts: Value[] = [];
        (n.quasis as Node[]).forEach((_, i) => {
          const text = templateText(n, i);
          if (text) parts.push({ k: "str", text });
          if (i < n.expressions.length) {
            parts.push(this.evaluate(n.expressions[i], scope, depth + 1));
          }
        });
        return parts.length === 1 ? parts[0]! : { k: "concat", parts };
      }
      case "BinaryExpression":
        return n.operator === "+"
          ? {
            k: "concat",
            parts: [
              this.evaluate(n.left, scope, depth + 1),
              this.evaluate(n.right, scope, depth + 1),
            ],
          }
          : UNKNOWN;
      case "LogicalExpression":
        return n.operator === "&&" ? this.evaluate(n.right, scope, depth + 1) : {
          k: "either",
          options: [
            this.evaluate(n.left, scope, depth + 1),
            this.evaluate(n.right, scope, depth + 1),
          ],
        };
      case "ConditionalExpression":
        return {
          k: "either",
          options: [
            this.evaluate(n.consequent, scope, depth + 1),
            this.evaluate(n.alternate, scope, depth + 1),
          ],
        };
      case "MemberExpression": {
        // A key known only at run time (`SOURCES[source]`) may stand for any member.
        const name = memberName(n) ?? (n.computed ? ANY_KEY : null);
        if (name === null) return UNKNOWN;
        this.countRead(n, name, scope);
        return { k: "member", object: this.evaluate(n.object, scope, depth + 1), name };
      }
      case "ThisExpression":
        return scope.self ? { k: "this", cls: scope.self } : UNKNOWN;
      case "CallExpression":
      case "NewExpression": {
        const callee = unwrap(n.callee);
        if (
          n.type === "CallExpression" && callee.type === "Identifier" &&
          callee.name === "require" &&
          scope.lookup("require") === undefined
        ) {
          return this.moduleValue(stringOf(n.arguments[0]));
        }
        const calleeValue = this.evaluate(callee, scope, depth + 1);
        const args = this.evaluateArgs(n.arguments, scope, depth + 1);
        if (calleeValue.k === "global" && calleeValue.name === URL_JOIN) return joinedUrl(args);
        if (calleeValue.k === "global" && calleeValue.name === REACT_HOOKS.useCallback) {
          return args[0] ?? UNKNOWN;
        }
        if (calleeValue.k === "global" && calleeValue.name === REACT_HOOKS.useMemo && args[0]) {
          return { k: "call", callee: args[0], args: [], isNew: false };
        }
        // `await Promise.all([loadSdk(), getClient()])`: the items, awaited (as `await` is read).
        if (
          calleeValue.k === "member" && calleeValue.name === "all" && args[0] &&
          calleeValue.object.k === "global" && calleeValue.object.name === "Promise"
        ) return args[0];
        if (
          isMerge(calleeValue) || isObjectAssign(callee, (name) => scope.lookup(name) !== undefined)
        ) return mergedObject(args);
        return { k: "call", callee: calleeValue, args, isNew: n.type === "NewExpression" };
      }
      case "AwaitExpression":
        return this.evaluate(n.argument, scope, depth + 1);
      case "ImportExpression":
        return this.moduleValue(stringOf(n.source));
      case "ObjectExpression": {
        const props = new Map<string, Value>();
        const spreads: Value[] = [];
        for (const p of n.properties as Node[]) {
          if (p.type === "SpreadElement" && spreads.length < 4) {
            spreads.unshift(this.evaluate(p.argument, scope, depth + 1));
          }
          if (p.type !== "Property" || props.size >= 40) continue;
          // A key known only at run time (`[Provider.OPENAI]: OpenAIEmbeddings`): a member only a
          // read by any key (`TABLE[provider]`) finds.
          const key = p.computed ? stringOf(p.key) ?? `${ANY_KEY}${props.size}` : nameOf(p.key);
          if (key !== null) props.set(key, this.evaluate(p.value, scope, depth + 1));
        }
        return spreads.length ? { k: "obj", props, spreads } : { k: "obj", props };
      }
      case "ArrayExpression":
        return {
          k: "array",
          items: (n.elements as Array<Node | null>).slice(0, 16).map((e) =>
            e && e.type !== "SpreadElement" ? this.evaluate(e, scope, depth + 1) : UNKNOWN
          ),
        };
      case "ArrowFunctionExpression":
      case "FunctionExpression":
        return { k: "fn", fn: this.fnSummary(n) };
      case "ClassExpression":
        return { k: "class", cls: this.classSummary(n) };
      case "SequenceExpression":
        return this.evaluate(n.expressions[n.expressions.length - 1], scope, depth + 1);
      case "AssignmentExpression":
        return this.evaluate(n.right, scope, depth + 1);
      default:
        return UNKNOWN;
    }
  }

  /** What a call's first arguments stand for (a spread is unknown). */
  evaluateArgs(args: Node[], scope: Scope, depth: number): Value[] {
    const out: Value[] = [];
    for (let i = 0; i < args.length && i < MAX_ARGS; i++) {
      const a = args[i]!;
      out.push(a.type === "SpreadElement" ? UNKNOWN : this.evaluate(a, scope, depth));
    }
    return out;
  }
}
