/**
 * The one analysis behind `aiguard scan` and both lint plugins: given a file's ESTree (from
 * oxc-parser, ESLint or Deno lint), the AI call sites in it and whether each runs attested.
 *
 * One walk builds value summaries (`values.ts`) for every binding, function (what it returns,
 * which calls receive its parameters), class (fields, methods, superclass) and export; then every
 * call is classified (`call_kinds.ts`) with those summaries resolved (`resolve.ts`). A call whose
 * answer depends on another scanned module's exports is handed back as pending: the scan
 * classifies it once every module is read (the lint rules, one file at a time, do not).
 *
 * @module
 */
import { sdkOf } from "../catalog.ts";
import { ruleMessage } from "../rule.ts";
import { attestationOf, type AttestMark, markAttested } from "./attestation.ts";
import { classifyCall, distinctiveSite } from "./call_kinds.ts";
import {
  forEachChild,
  isFunction,
  lineStarts,
  memberName,
  nameOf,
  type Node,
  position,
  startOf,
  stringOf,
  templateText,
  unwrap,
} from "./estree.ts";
import { HTTP_LIBRARIES, httpLibraryOf } from "./http_libraries.ts";
import {
  type ResolveContext,
  resolveContext,
  type ResolveMemo,
  resolveValue,
  sdkMember,
  usesParam,
} from "./resolve.ts";
import { assign, Scope } from "./scopes.ts";
import type { SiteFacts, Through } from "./site_facts.ts";
import {
  ANY_KEY,
  type ClassSummary,
  detachStrings,
  type FnSummary,
  ownText,
  type SymbolicCall,
  UNKNOWN,
  type Value,
} from "./values.ts";

export type { Node } from "./estree.ts";
export { startOf } from "./estree.ts";

/** One AI call site. */
export interface Site {
  /** 1-based line where the call expression starts. */
  line: number;
  /** 1-based column (UTF-16 code units). */
  column: number;
  /** Offset of the call expression in the source. */
  offset: number;
  /** GenAI provider name. */
  provider: string;
  /** The SDK or request function. */
  library: string;
  /** The method path, or the request's method and URL. */
  target: string;
  /** GenAI operation name, if known. */
  operation: string | null;
  /** Whether the call runs attested. */
  attested: boolean;
  /** The attest `id`, when a literal gives it. */
  attestation: string | null;
  /** `high` when the request function (or SDK method) and the target are both known. */
  confidence: "high" | "low";
  /** The call expression, for the lint front-ends to report on. */
  node: Node;
  /** Set when the request is made in a function the call calls (see `through` in the scan). */
  through?: Through;
  /** Set when the request's path is this function's parameter (see `calledByName`). */
  pathFrom?: FnSummary;
}

/** What a module exports, as value summaries (for the modules importing it). */
export interface ModuleExports {
  /** Export name → what it stands for. */
  names: Map<string, Value>;
  /** Modules re-exported whole (`export * from "./x"`). */
  star: string[];
}

/** A call whose answer needs other modules' exports; no AST, so it outlives the file's tree. */
export interface PendingCall extends SymbolicCall {
  /** Offset of the call expression in the source. */
  offset: number;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** The function the call is in (attestation). */
  fn: FnSummary | null;
  /** The method path when the receiver's root is undeclared or `this` (low-confidence fallback). */
  distinctive: string | null;
}

/** What the analysis of one file returns. */
export interface Analysis {
  /** The sites the file alone decides. */
  sites: Site[];
  /** What the file exports, for the files importing it. */
  exports: ModuleExports;
  /** Calls to classify once every scanned module's exports are known. */
  pending: PendingCall[];
  /**
   * Reads of each name (`f` in `f(…)`, `x.f(…)`, `g(f)`, `return f`), those in a function of that
   * name left out: a function read once is called from one place (or handed on from there).
   */
  readNames: Map<string, number>;
  /** Calls by the name they call (`f(…)`, `x.f(…)`), counted as {@link readNames} are. */
  callNames: Map<string, number>;
}

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
const GLOBALS = new Set([
  "fetch",
  "WebSocket",
  "URL",
  "String",
  "globalThis",
  "window",
  "self",
  "global",
]);
/** Names of parameters that hold a request function (`fetcher`, `fetchFn`, `customFetch`). */
const FETCH_NAME = /fetch/i;
/** Most arguments of a call the analysis reads (URL, options, and one more for `attest`). */
const MAX_ARGS = 5;
const MAX_FORWARDS = 24;
const MAX_RETURNS = 8;

function isAiguardSpecifier(specifier: string): boolean {
  return AIGUARD_PACKAGES.has(specifier.replace(/@[\^~]?\d[^/]*$/, "")) ||
    /^(?:jsr:|npm:)?@aiguard\/attest(?:@[^/]*)?$/.test(specifier);
}

interface CallRecord extends SymbolicCall {
  node: Node;
  fn: FnSummary | null;
  distinctive: string | null;
}

/** The walk over one file. */
class Walk {
  readonly records: CallRecord[] = [];
  readonly marks: AttestMark[] = [];
  /** Reads of a name (see {@link Analysis.readNames}). */
  readonly readNames = new Map<string, number>();
  /** Calls by callee name (see {@link Analysis.callNames}). */
  readonly callNames = new Map<string, number>();
  private readonly read = new WeakSet<Node>();
  private readonly called = new WeakSet<Node>();
  /** The forwards made, whose lines are filled in once the walk is done. */
  readonly forwardCalls: SymbolicCall[] = [];
  /** The call expression of each forward's position (the lint rules report on it). */
  readonly forwardNodes = new Map<object, Node>();
  readonly exports: ModuleExports = { names: new Map(), star: [] };
  /** Whether the file imports this package (only then can a call attest a function). */
  importsAiguard = false;
  private readonly fns = new WeakMap<Node, FnSummary>();
  private readonly classes = new WeakMap<Node, ClassSummary>();

  private readonly options: AnalyzeOptions;

  constructor(options: AnalyzeOptions) {
    this.options = options;
  }

  fnSummary(node: Node): FnSummary {
    let fn = this.fns.get(node);
    if (!fn) {
      fn = { name: nameOf(node.id), returns: [], forwards: [], parent: null, attested: null };
      if (this.options.module !== undefined) fn.module = this.options.module;
      this.fns.set(node, fn);
    }
    return fn;
  }

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
      this.classes.set(node, cls);
    }
    return cls;
  }

  /** A module as a whole: `import * as x`, `require(x)`, `await import(x)`. */
  moduleValue(specifier: string | null): Value {
    return specifier === null ? UNKNOWN : this.importBinding(specifier, "*");
  }

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
    const pkg = HTTP_LIBRARIES.find((l) => l.packages.some((p) => specifier === p));
    if (pkg) {
      const lib = httpLibraryOf(specifier, imported === "*" ? "default" : imported);
      return lib ? { k: "http", lib, base: null, method: null } : UNKNOWN;
    }
    return UNKNOWN;
  }

  hoist(body: Node[] | undefined, scope: Scope): void {
    for (const statement of body ?? []) {
      const s: Node =
        statement.type === "ExportNamedDeclaration" || statement.type === "ExportDefaultDeclaration"
          ? statement.declaration ?? statement
          : statement;
      switch (s.type) {
        case "FunctionDeclaration":
          if (s.id) scope.names.set(s.id.name, { k: "fn", fn: this.fnSummary(s) });
          break;
        case "ClassDeclaration":
          if (s.id) scope.names.set(s.id.name, { k: "class", cls: this.classSummary(s) });
          break;
        case "VariableDeclaration":
          for (const d of s.declarations as Node[]) this.declareNames(d.id, scope);
          break;
        case "TSEnumDeclaration":
          if (s.id) scope.names.set(s.id.name, this.enumValue(s));
          break;
        case "ImportDeclaration":
          this.importDeclaration(s, scope);
          break;
      }
    }
  }

  declareNames(pattern: Node | null, scope: Scope): void {
    if (!pattern) return;
    const p = unwrap(pattern);
    if (p.type === "Identifier") scope.declareCell(p.name);
    else if (p.type === "ObjectPattern") {
      for (const prop of p.properties as Node[]) {
        this.declareNames(prop.type === "RestElement" ? prop.argument : prop.value, scope);
      }
    } else if (p.type === "ArrayPattern") {
      for (const el of p.elements as Array<Node | null>) this.declareNames(el, scope);
    } else if (p.type === "AssignmentPattern") this.declareNames(p.left, scope);
    else if (p.type === "RestElement") this.declareNames(p.argument, scope);
  }

  enumValue(node: Node): Value {
    const props = new Map<string, Value>();
    for (const m of (node.body?.members ?? node.members ?? []) as Node[]) {
      const key = nameOf(m.id);
      const text = stringOf(m.initializer);
      if (key !== null) props.set(key, text === null ? UNKNOWN : { k: "str", text });
    }
    return { k: "obj", props };
  }

  importDeclaration(node: Node, scope: Scope): void {
    const specifier = String(node.source.value);
    const typeOnly = node.importKind === "type";
    for (const s of (node.specifiers ?? []) as Node[]) {
      const local = nameOf(s.local);
      if (!local) continue;
      const imported = s.type === "ImportDefaultSpecifier"
        ? "default"
        : s.type === "ImportNamespaceSpecifier"
        ? "*"
        : nameOf(s.imported) ?? "default";
      let binding = this.importBinding(specifier, imported);
      if ((typeOnly || s.importKind === "type") && binding.k === "sdk-class") {
        binding = { ...binding, typeOnly: true };
      } else if ((typeOnly || s.importKind === "type") && binding.k !== "import") {
        binding = UNKNOWN;
      }
      scope.names.set(local, binding);
    }
  }

  typeValue(annotation: Node | undefined, scope: Scope): Value {
    let type = annotation?.typeAnnotation ?? annotation;
    if (type?.type === "TSUnionType") {
      type = (type.types as Node[]).find((t) => t.type === "TSTypeReference");
    }
    if (!type || type.type !== "TSTypeReference") return UNKNOWN;
    const ref = type.typeName as Node;
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
   * Counts a read of `name` once per node (a returned call is evaluated as a value and walked as
   * a call), unless it is in a function of that name (recursion).
   */
  private countRead(node: Node, name: string, scope: Scope, calls = false): void {
    const seen = calls ? this.called : this.read;
    if (seen.has(node)) return;
    seen.add(node);
    for (let fn = scope.fn; fn; fn = fn.parent) if (fn.name === name) return;
    const counts = calls ? this.callNames : this.readNames;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }

  evaluate(raw: Node | null | undefined, scope: Scope, depth = 0): Value {
    if (!raw || depth > 24) return UNKNOWN;
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
        return {
          k: "call",
          callee: this.evaluate(callee, scope, depth + 1),
          args: this.evaluateArgs(n.arguments, scope, depth + 1),
          isNew: n.type === "NewExpression",
        };
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
          const key = p.computed ? stringOf(p.key) : nameOf(p.key);
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

  evaluateArgs(args: Node[], scope: Scope, depth: number): Value[] {
    const out: Value[] = [];
    for (let i = 0; i < args.length && i < MAX_ARGS; i++) {
      const a = args[i]!;
      out.push(a.type === "SpreadElement" ? UNKNOWN : this.evaluate(a, scope, depth));
    }
    return out;
  }

  bindPattern(pattern: Node, value: Value, scope: Scope): void {
    const p = unwrap(pattern);
    if (p.type === "Identifier") {
      const found = scope.lookup(p.name);
      assign(found?.k === "cell" ? found.cell : scope.declareCell(p.name), value);
    } else if (p.type === "ObjectPattern") {
      for (const prop of p.properties as Node[]) {
        if (prop.type === "RestElement") this.bindPattern(prop.argument, UNKNOWN, scope);
        else {
          const key = prop.computed ? stringOf(prop.key) : nameOf(prop.key);
          this.bindPattern(
            prop.value,
            key === null ? UNKNOWN : { k: "member", object: value, name: key },
            scope,
          );
        }
      }
    } else if (p.type === "ArrayPattern") {
      // `const [config, body] = makeRequest()`: each element is the array's item at its index.
      (p.elements as Array<Node | null>).forEach((el, i) => {
        if (!el) return;
        const item: Value = el.type === "RestElement" || i >= 16
          ? UNKNOWN
          : { k: "member", object: value, name: String(i) };
        this.bindPattern(el, item, scope);
      });
    } else if (p.type === "AssignmentPattern") {
      this.bindPattern(p.left, value, scope);
      if (p.left.type === "Identifier") {
        const found = scope.lookup(p.left.name);
        if (found?.k === "cell") assign(found.cell, this.evaluate(p.right, scope));
      }
    } else if (p.type === "RestElement") this.bindPattern(p.argument, UNKNOWN, scope);
  }

  bindParam(param: Node, i: number, fn: FnSummary, scope: Scope): void {
    if (param.type === "TSParameterProperty") {
      this.bindParam(param.parameter, i, fn, scope);
      const inner = param.parameter.type === "AssignmentPattern"
        ? param.parameter.left
        : param.parameter;
      const name = nameOf(inner);
      const field = name ? scope.lookup(name) : undefined;
      if (name && scope.self && field) fieldCell(scope.self.fields, name).values.push(field);
      return;
    }
    const value: Value = { k: "param", fn, i };
    const target = param.type === "AssignmentPattern" ? param.left : param;
    if (target.type === "Identifier") {
      const cell = scope.declareCell(target.name);
      assign(cell, value);
      if (target.typeAnnotation) assign(cell, this.typeValue(target.typeAnnotation, scope));
      if (param.type === "AssignmentPattern") assign(cell, this.evaluate(param.right, scope));
    } else {
      this.declareNames(target, scope);
      this.bindPattern(target, value, scope);
    }
  }

  visitFunction(node: Node, scope: Scope, name: string | null, self: ClassSummary | null): void {
    const fn = this.fnSummary(node);
    fn.name ??= name;
    fn.parent = scope.fn;
    const inner = new Scope(scope, fn, node.type === "ArrowFunctionExpression" ? scope.self : self);
    (node.params as Node[]).forEach((p, i) => this.bindParam(p, i, fn, inner));
    const body = node.body as Node | null;
    if (!body) return;
    if (body.type !== "BlockStatement") {
      fn.returns.push(this.evaluate(body, inner));
    }
    this.visit(body, inner);
  }

  visitClass(node: Node, scope: Scope): void {
    const cls = this.classSummary(node);
    if (node.superClass) cls.superclass = this.evaluate(node.superClass, scope);
    const inClass = new Scope(scope, scope.fn, cls);
    const members = (node.body?.body ?? []) as Node[];
    for (const m of members) {
      const name = m.computed ? stringOf(m.key) : nameOf(m.key);
      if (name === null) continue;
      if (m.type === "MethodDefinition" || m.type === "TSAbstractMethodDefinition") {
        if (!m.value) continue;
        const fn = this.fnSummary(m.value);
        fn.name = name;
        if (m.kind === "get") {
          // Reading the property runs the getter: `this.client` is what `get client()` returns.
          const read: Value = { k: "call", callee: { k: "fn", fn }, args: [], isNew: false };
          fieldCell(m.static ? cls.statics : cls.fields, name).values.push(read);
        } else if (m.static) fieldCell(cls.statics, name).values.push({ k: "fn", fn });
        else if (m.kind !== "set") cls.methods.set(name, fn);
        for (const d of (m.decorators ?? []) as Node[]) {
          this.marks.push({ target: { k: "fn", fn }, via: this.evaluate(d.expression, inClass) });
        }
      } else if (
        m.type === "PropertyDefinition" || m.type === "ClassProperty" ||
        m.type === "AccessorProperty"
      ) {
        const cell = fieldCell(m.static ? cls.statics : cls.fields, name);
        if (m.value) {
          if (isFunction(m.value)) this.fnSummary(m.value).name = name;
          assign(cell, this.evaluate(m.value, inClass));
        } else if (m.typeAnnotation) assign(cell, this.typeValue(m.typeAnnotation, scope));
      }
    }
    for (const m of members) {
      if (m.type === "MethodDefinition" || m.type === "TSAbstractMethodDefinition") {
        if (m.value) this.visitFunction(m.value, inClass, null, cls);
      } else if (m.value) this.visit(m.value, inClass);
      else if (m.type === "StaticBlock") this.visit(m, inClass);
    }
  }

  assignment(node: Node, scope: Scope): void {
    if (node.operator !== "=" && node.operator !== "||=" && node.operator !== "??=") return;
    const left = unwrap(node.left);
    if (left.type === "Identifier") {
      const found = scope.lookup(left.name);
      if (found?.k === "cell") assign(found.cell, this.evaluate(node.right, scope));
      return;
    }
    if (left.type === "ObjectPattern" || left.type === "ArrayPattern") {
      this.bindPattern(left, this.evaluate(node.right, scope), scope);
      return;
    }
    if (left.type !== "MemberExpression") return;
    const name = memberName(left);
    if (name === null) return;
    const object = unwrap(left.object);
    if (object.type === "ThisExpression" && scope.self) {
      if (isFunction(unwrap(node.right))) this.fnSummary(unwrap(node.right)).name = name;
      assign(fieldCell(scope.self.fields, name), this.evaluate(node.right, scope));
    } else if (object.type === "Identifier") {
      if (object.name === "module" && name === "exports" && scope.lookup("module") === undefined) {
        const value = this.evaluate(node.right, scope);
        this.exports.names.set("default", value);
        if (value.k === "obj") { for (const [k, v] of value.props) this.exports.names.set(k, v); }
        return;
      }
      if (object.name === "exports" && scope.lookup("exports") === undefined) {
        this.exports.names.set(name, this.evaluate(node.right, scope));
        return;
      }
      const found = scope.lookup(object.name);
      if (found?.k !== "cell") return;
      if (name === "pathname") {
        // `url.pathname = "/v1/embeddings"` on a URL built elsewhere.
        assign(found.cell, {
          k: "urljoin",
          path: this.evaluate(node.right, scope),
          base: { k: "cell", cell: found.cell },
        });
      } else {
        // `ref.current = new RTClient()`: read back as `ref.current`.
        found.cell.members ??= new Map();
        assign(fieldCell(found.cell.members, name), this.evaluate(node.right, scope));
      }
    } else if (
      object.type === "MemberExpression" && nameOf(object.object) === "module" &&
      memberName(object) === "exports"
    ) {
      this.exports.names.set(name, this.evaluate(node.right, scope));
    }
  }

  call(node: Node, scope: Scope): void {
    const callee = unwrap(node.callee);
    const record: CallRecord = {
      node,
      callee: this.evaluate(callee, scope),
      args: this.evaluateArgs(node.arguments, scope, 0),
      fn: scope.fn,
      distinctive: callee.type === "MemberExpression" ? distinctivePath(callee, scope) : null,
    };
    this.records.push(record);
    const called = callee.type === "Identifier"
      ? callee.name as string
      : callee.type === "MemberExpression"
      ? memberName(callee)
      : null;
    if (called !== null) this.countRead(callee, called, scope, true);
    // A call that passes a parameter on (`fetch(url)`, `request(BASE + path)`): part of the summary
    // of each function whose parameter it is.
    for (let fn = scope.fn; fn; fn = fn.parent) {
      if (fn.forwards.length >= MAX_FORWARDS) continue;
      if (record.args.some((a) => mentionsParam(a, fn!, 0))) {
        const at = { offset: startOf(node), line: 0, column: 0 };
        const forward: SymbolicCall = { callee: record.callee, args: record.args, at };
        // A request function the caller hands in (`fetcher(url, init)`, `fetchImpl(url)`).
        if (callee.type === "Identifier" && FETCH_NAME.test(callee.name)) forward.fetchParam = true;
        fn.forwards.push(forward);
        this.forwardCalls.push(forward);
        if (!this.options.resolveModule) this.forwardNodes.set(at, node);
      }
    }
    // attest(fn), attest(opts)(fn): marks resolved once the file is walked (only where the file
    // imports this package: nothing else can attest).
    if (record.args[0] && this.importsAiguard) {
      this.marks.push({ target: record.args[0], via: record.callee, options: record.args[1] });
    }
  }

  exportDeclaration(node: Node, scope: Scope): void {
    const names = this.exports.names;
    if (node.type === "ExportAllDeclaration") {
      const module = this.options.resolveModule?.(String(node.source.value)) ?? null;
      const exported = nameOf(node.exported);
      if (module !== null && module !== "aiguard") {
        if (exported) names.set(exported, { k: "import", module, name: "*" });
        else this.exports.star.push(module);
      }
      return;
    }
    const d = node.declaration as Node | null;
    if (node.type === "ExportDefaultDeclaration") {
      if (!d) return;
      const id = nameOf(d.id);
      names.set(
        "default",
        id && (d.type === "FunctionDeclaration" || d.type === "ClassDeclaration")
          ? scope.lookup(id) ?? UNKNOWN
          : d.type === "FunctionDeclaration"
          ? { k: "fn", fn: this.fnSummary(d) }
          : d.type === "ClassDeclaration"
          ? { k: "class", cls: this.classSummary(d) }
          : this.evaluate(d, scope),
      );
      return;
    }
    if (d) {
      if (d.type === "VariableDeclaration") {
        for (const decl of d.declarations as Node[]) {
          const id = unwrap(decl.id);
          if (id.type === "Identifier") names.set(id.name, scope.lookup(id.name) ?? UNKNOWN);
        }
      } else if (d.id) {
        const id = nameOf(d.id);
        if (id) names.set(id, scope.lookup(id) ?? UNKNOWN);
      }
      return;
    }
    for (const s of (node.specifiers ?? []) as Node[]) {
      const local = nameOf(s.local);
      const exported = nameOf(s.exported) ?? local;
      if (!local || !exported) continue;
      names.set(
        exported,
        node.source
          ? this.importBinding(String(node.source.value), local)
          : scope.lookup(local) ?? UNKNOWN,
      );
    }
  }

  visit(node: Node, scope: Scope): void {
    switch (node.type) {
      case "Program":
        this.hoist(node.body, scope);
        break;
      case "BlockStatement":
      case "StaticBlock": {
        const inner = new Scope(scope, scope.fn, scope.self);
        this.hoist(node.body, inner);
        forEachChild(node, (c) => this.visit(c, inner));
        return;
      }
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement": {
        const inner = new Scope(scope, scope.fn, scope.self);
        const decl = (node.init ?? node.left) as Node | null;
        if (decl?.type === "VariableDeclaration") {
          for (const d of decl.declarations as Node[]) this.declareNames(d.id, inner);
        }
        forEachChild(node, (c) => this.visit(c, inner));
        return;
      }
      case "CatchClause": {
        const inner = new Scope(scope, scope.fn, scope.self);
        if (node.param) this.declareNames(node.param, inner);
        forEachChild(node, (c) => this.visit(c, inner));
        return;
      }
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        this.visitFunction(node, scope, null, null);
        return;
      case "ClassDeclaration":
      case "ClassExpression":
        this.visitClass(node, scope);
        return;
      case "ImportDeclaration":
        return; // declared when its scope was entered
      case "VariableDeclarator": {
        const id = unwrap(node.id);
        const init = node.init as Node | null;
        if (init && id.type === "Identifier") {
          const target = unwrap(init);
          if (isFunction(target) || target.type === "ClassExpression") {
            const summary = isFunction(target) ? this.fnSummary(target) : this.classSummary(target);
            summary.name ??= id.name;
          }
        }
        const value = init
          ? this.evaluate(init, scope)
          : id.typeAnnotation
          ? this.typeValue(id.typeAnnotation, scope)
          : UNKNOWN;
        this.bindPattern(node.id, value, scope);
        if (init) this.visit(init, scope);
        return;
      }
      case "Property":
        if (node.value && isFunction(node.value) && !node.computed) {
          this.fnSummary(node.value).name ??= nameOf(node.key);
        }
        break;
      case "ReturnStatement":
        if (scope.fn && node.argument && scope.fn.returns.length < MAX_RETURNS) {
          scope.fn.returns.push(this.evaluate(node.argument, scope));
        }
        break;
      case "AssignmentExpression":
        this.assignment(node, scope);
        break;
      case "CallExpression":
        this.call(node, scope);
        break;
      case "NewExpression":
        // `new WebSocket(url)`: a connection is a call; other constructions are values only.
        if (isWebSocket(this.evaluate(node.callee, scope))) this.call(node, scope);
        break;
      case "ExportNamedDeclaration":
      case "ExportDefaultDeclaration":
      case "ExportAllDeclaration":
        this.exportDeclaration(node, scope);
        break;
      case "TSEnumDeclaration":
        return;
    }
    forEachChild(node, (c) => this.visit(c, scope));
  }
}

function isWebSocket(v: Value): boolean {
  return (v.k === "global" && v.name === "WebSocket") ||
    (v.k === "http" && v.lib.via === "WebSocket" && v.method === null) ||
    (v.k === "member" && v.name === "WebSocket" && v.object.k === "global");
}

function fieldCell(fields: Map<string, { values: Value[] }>, name: string) {
  let cell = fields.get(name);
  if (!cell) {
    cell = { values: [] };
    fields.set(name, cell);
  }
  return cell;
}

/** Whether a value built in `fn`'s body refers to one of its parameters (through variables). */
function mentionsParam(value: Value, fn: FnSummary, depth: number): boolean {
  if (depth > 4) return false;
  switch (value.k) {
    case "param":
      return value.fn === fn;
    case "cell":
      return value.cell.values.some((v) => mentionsParam(v, fn, depth + 1));
    case "call":
      return value.args.some((v) => mentionsParam(v, fn, depth + 1)) ||
        mentionsParam(value.callee, fn, depth + 1);
    case "typed":
      return false;
    default:
      return usesParam(value, fn, depth) ||
        (value.k === "concat" && value.parts.some((p) => mentionsParam(p, fn, depth + 1))) ||
        (value.k === "either" && value.options.some((p) => mentionsParam(p, fn, depth + 1))) ||
        (value.k === "member" && mentionsParam(value.object, fn, depth + 1)) ||
        (value.k === "method" && mentionsParam(value.receiver, fn, depth + 1)) ||
        (value.k === "urljoin" &&
          (mentionsParam(value.path, fn, depth + 1) || mentionsParam(value.base, fn, depth + 1))) ||
        (value.k === "obj" &&
          ([...value.props.values()].some((p) => mentionsParam(p, fn, depth + 1)) ||
            (value.spreads ?? []).some((p) => mentionsParam(p, fn, depth + 1))));
  }
}

/** `a.b.c` of a callee whose root nobody declares (a global injected at run time) or is `this`. */
function distinctivePath(callee: Node, scope: Scope): string | null {
  const parts: string[] = [];
  let n = unwrap(callee);
  while (n.type === "MemberExpression") {
    const name = memberName(n);
    if (name === null) return null;
    parts.unshift(name);
    n = unwrap(n.object);
  }
  if (n.type === "Identifier") {
    if (scope.lookup(n.name) !== undefined || GLOBALS.has(n.name)) return null;
  } else if (n.type !== "ThisExpression") return null;
  return parts.join(".");
}

/** The site a call is, given what its callee and arguments resolve to, or `null`. */
function siteFacts(
  call: SymbolicCall & { distinctive: string | null; fn: FnSummary | null },
  ctx: ResolveContext,
) {
  const facts = classifyCall(call.callee, call.args, ctx, call.fn);
  if (facts) return facts;
  if (call.distinctive === null || ctx.pending) return null;
  // A method the code defines itself (`get messages() { return { create } }`) is no SDK's.
  if (resolveValue(call.callee, ctx, 0).k === "fn") return null;
  return distinctiveSite(call.distinctive);
}

function toSite(
  facts: SiteFacts,
  at: { offset: number; line: number; column: number; fn: FnSummary | null },
  node: Node,
): Site {
  const { attested, id } = attestationOf(at.fn, facts.wrappedId);
  return {
    line: at.line,
    column: at.column,
    offset: at.offset,
    provider: facts.provider,
    library: facts.library,
    target: facts.target,
    operation: facts.operation,
    attested,
    attestation: id,
    confidence: facts.confidence,
    node,
    ...(facts.through ? { through: facts.through } : {}),
    ...(facts.pathFrom ? { pathFrom: facts.pathFrom } : {}),
  };
}

/**
 * Finds the AI call sites of one file's AST.
 *
 * @example
 * ```ts ignore
 * import { parseSync } from "oxc-parser";
 * import { analyze } from "./analyze.ts";
 * const source = 'import OpenAI from "openai"; await new OpenAI().embeddings.create({});';
 * analyze(parseSync("a.ts", source).program, source).sites[0]?.target; // "openai.embeddings.create"
 * ```
 */
export function analyze(program: Node, source: string, options: AnalyzeOptions = {}): Analysis {
  const starts = lineStarts(source);
  const walk = new Walk(options);
  walk.visit(program, new Scope(null, null, null));
  const memo: ResolveMemo = new Map();
  for (const mark of walk.marks) markAttested(mark, resolveContext(undefined, memo));
  const sites: Site[] = [];
  const pending: PendingCall[] = [];
  for (const { at } of walk.forwardCalls) Object.assign(at!, position(starts, at!.offset));
  for (const record of walk.records) {
    const ctx = resolveContext(undefined, memo);
    const facts = siteFacts(record, ctx);
    const offset = startOf(record.node);
    const { line, column } = position(starts, offset);
    if (facts) sites.push(toSite(facts, { offset, line, column, fn: record.fn }, record.node));
    else if (ctx.pending) {
      pending.push({
        callee: record.callee,
        args: record.args,
        offset,
        line,
        column,
        fn: record.fn,
        distinctive: record.distinctive,
      });
    }
  }
  if (!options.resolveModule) {
    // One file: what the scan does with every file's counts (`scan.ts`), with this file's.
    for (let i = sites.length - 1; i >= 0; i--) {
      const from = sites[i]!.pathFrom;
      delete sites[i]!.pathFrom;
      if (from && calledByName(from, walk.readNames)) sites.splice(i, 1);
    }
    const dropped = new Set<Site>();
    for (const s of sites) {
      let through: Through | null = null;
      let shared = false;
      for (let t = s.through; t; t = t.inner) {
        if (t.factory) shared = true;
        else if (!sentThere(t.fn, walk.readNames, walk.callNames)) break;
        through = t;
      }
      delete s.through;
      if (!through) continue;
      const node = walk.forwardNodes.get(through.at);
      if (!node) continue;
      if (sites.some((o) => o.offset === through.at.offset)) {
        if (shared) dropped.add(s);
        continue;
      }
      Object.assign(s, {
        offset: through.at.offset,
        line: through.at.line,
        column: through.at.column,
        node,
      });
    }
    if (dropped.size) sites.splice(0, sites.length, ...sites.filter((s) => !dropped.has(s)));
  }
  sites.sort((a, b) => a.offset - b.offset);
  if (options.resolveModule) {
    // The scan keeps exports and pending calls past the tree; the lint rules keep nothing.
    const names = [...walk.exports.names];
    walk.exports.names.clear();
    for (const [name, value] of names) walk.exports.names.set(ownText(name), value);
    walk.exports.star = walk.exports.star.map(ownText);
    // The functions a site keeps until the scan places it (`through`, `pathFrom`) too.
    const kept: FnSummary[] = pending.map((p) => p.fn).filter((fn) => fn !== null);
    for (const s of sites) {
      if (s.pathFrom) kept.push(s.pathFrom);
      for (let t = s.through; t; t = t.inner) kept.push(t.fn);
    }
    detachStrings(walk.exports.names.values(), pending, kept);
    for (const p of pending) if (p.distinctive !== null) p.distinctive = ownText(p.distinctive);
    for (const s of sites) {
      s.target = ownText(s.target);
      if (s.attestation !== null) s.attestation = ownText(s.attestation);
    }
  }
  return {
    sites,
    exports: walk.exports,
    pending,
    readNames: walk.readNames,
    callNames: walk.callNames,
  };
}

const NO_NODE: Node = { type: "CallExpression" };

/**
 * Whether the scanned code reads a function's name (calls it, or hands it on): then a request
 * whose path is its parameter is its callers' (`site.pathFrom`), not the function's.
 *
 * @example
 * ```ts ignore
 * if (site.pathFrom && calledByName(site.pathFrom, readNames)) dropSite(site);
 * ```
 */
export function calledByName(fn: FnSummary, readNames: ReadonlyMap<string, number>): boolean {
  return fn.name !== null && (readNames.get(fn.name) ?? 0) > 0;
}

/**
 * Whether a request made in `fn` is its one caller's, made there: `fn`'s name is read once, by a
 * call (its own recursive calls aside). Then the site is the call in `fn` that sends; otherwise
 * `fn` is a wrapper and its callers are the sites. Names are all the scan counts by: a function
 * sharing its name with another one stays a wrapper.
 *
 * @example
 * ```ts ignore
 * if (site.through && sentThere(site.through.fn, readNames, callNames)) site.line = site.through.at.line;
 * ```
 */
export function sentThere(
  fn: FnSummary,
  readNames: ReadonlyMap<string, number>,
  callNames: ReadonlyMap<string, number>,
): boolean {
  return fn.name !== null && readNames.get(fn.name) === 1 && callNames.get(fn.name) === 1;
}

/**
 * A pending call classified with every scanned module's exports known (the scan's second pass).
 *
 * @example
 * ```ts ignore
 * const site = classifyPending(call, (module, name) => exportsOf.get(module)?.names.get(name));
 * ```
 */
export function classifyPending(
  call: PendingCall,
  exportOf: (module: string, name: string) => Value | undefined,
  memo?: ResolveMemo,
): Site | null {
  const facts = siteFacts(call, resolveContext(exportOf, memo));
  return facts ? toSite(facts, call, NO_NODE) : null;
}

/**
 * What the lint front-ends report: every unattested site, with its message.
 *
 * @example
 * ```ts ignore
 * for (const p of lintProblems(program, source)) context.report({ node: p.node, message: p.message });
 * ```
 */
export function lintProblems(
  program: Node,
  source: string,
): Array<{ node: Node; provider: string; target: string; message: string }> {
  return analyze(program, source).sites.filter((s) => !s.attested).map((s) => ({
    node: s.node,
    provider: s.provider,
    target: s.target,
    message: ruleMessage(s.provider, s.target),
  }));
}
