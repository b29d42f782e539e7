/**
 * The one analysis behind `aiguard scan` and both lint plugins: given a file's ESTree (from
 * oxc-parser, ESLint or Deno lint), the AI call sites in it and whether each runs attested. It
 * follows imports, `require()`, renames and namespaces of the SDKs in the catalog, clients held in
 * variables, class fields and parameters typed as an SDK class, destructured methods, `wrap()`ped
 * clients, `attest(fn)` (inline or by name) and `@attest()` methods, and `fetch`/`axios` calls to
 * provider hosts or AI paths. Clients another module exports come in through `imports`.
 *
 * @module
 */
import { type SdkEntry, sdkOf } from "../catalog.ts";
import { matchUrl, operationForPath } from "../detect/providers.ts";

/** An ESTree node, as any of the three parsers gives it. */
// deno-lint-ignore no-explicit-any
export type Node = { type: string; [key: string]: any };

/** What a name stands for, as far as the analysis can tell. */
export type Binding =
  | { kind: "module"; entry: SdkEntry }
  | { kind: "class"; entry: SdkEntry; name: string; typeOnly: boolean }
  | { kind: "client"; entry: SdkEntry; name: string; path: readonly string[] }
  | { kind: "function"; entry: SdkEntry; name: string }
  | { kind: "command"; entry: SdkEntry; name: string }
  | { kind: "aiguard"; member: "attest" | "wrap" | null }
  | { kind: "wrapped"; inner: Binding; id: string | null }
  | { kind: "axios" }
  | { kind: "local-function"; node: Node }
  | { kind: "other" };

/** One AI call site. */
export interface Site {
  /** 1-based line where the call expression starts. */
  line: number;
  /** 1-based column (UTF-16 code units). */
  column: number;
  /** Offset of the call expression in the source. */
  offset: number;
  provider: string;
  library: string;
  target: string;
  operation: string | null;
  attested: boolean;
  /** The attest `id`, when a literal gives it. */
  attestation: string | null;
  confidence: "high" | "low";
  /** The call expression, for the lint front-ends to report on. */
  node: Node;
}

/** What the analysis of one file returns. */
export interface Analysis {
  sites: Site[];
  /** Clients (and SDK classes) this module exports, by export name: for modules importing it. */
  exports: Map<string, Binding>;
  /** Relative specifiers this module imports names from. */
  relativeImports: string[];
}

const OTHER: Binding = { kind: "other" };
const AIGUARD_PACKAGES = new Set(["@aiguard/attest", "jsr:@aiguard/attest", "npm:@aiguard/attest"]);
/** Method paths distinctive enough to report, at low confidence, on a receiver not resolved. */
const DISTINCTIVE = new Map<string, [library: string, provider: string, operation: string]>([
  ["chat.completions.create", ["openai", "openai", "chat"]],
  ["responses.create", ["openai", "openai", "chat"]],
  ["embeddings.create", ["openai", "openai", "embeddings"]],
  ["messages.create", ["anthropic", "anthropic", "chat"]],
  ["models.generateContent", ["google_genai", "gcp.gemini", "generate_content"]],
]);
/** After a base URL from elsewhere (`${base}/chat/completions`): OpenAI-compatible endpoints. */
const OPENAI_COMPATIBLE_TAIL = /\/(?:chat\/completions|embeddings|responses)$/;
const AXIOS_METHODS = new Set(["get", "post", "put", "patch", "delete", "request", "head"]);
const SKIP_KEYS = new Set(["parent", "loc", "range", "start", "end", "type", "typeAnnotation"]);

function isAiguardSpecifier(specifier: string): boolean {
  return AIGUARD_PACKAGES.has(specifier.replace(/@[\^~]?\d[^/]*$/, "")) ||
    /^(?:jsr:|npm:)?@aiguard\/attest(?:@[^/]*)?$/.test(specifier);
}

function nameOf(node: Node | null | undefined): string | null {
  if (!node) return null;
  if (node.type === "Identifier" || node.type === "PrivateIdentifier") return node.name as string;
  if (
    (node.type === "Literal" || node.type === "StringLiteral") && typeof node.value === "string"
  ) {
    return node.value;
  }
  return null;
}

function memberName(node: Node): string | null {
  return node.computed ? nameOf(node.property) : nameOf(node.property);
}

/** Strips wrappers that do not change a value: parentheses, TS assertions, optional chains. */
function unwrap(node: Node): Node {
  let n = node;
  while (
    n.type === "TSAsExpression" || n.type === "TSNonNullExpression" ||
    n.type === "TSSatisfiesExpression" || n.type === "ParenthesizedExpression" ||
    n.type === "ChainExpression" || n.type === "TSTypeAssertion"
  ) n = n.expression;
  return n;
}

function isFunction(node: Node): boolean {
  return node.type === "ArrowFunctionExpression" || node.type === "FunctionExpression" ||
    node.type === "FunctionDeclaration";
}

const SCOPES = new Set([
  "Program",
  "BlockStatement",
  "StaticBlock",
  "ForStatement",
  "ForInStatement",
  "ForOfStatement",
  "CatchClause",
  "ArrowFunctionExpression",
  "FunctionExpression",
  "FunctionDeclaration",
]);

/** The literal `id` of an attest options object (`{ id: "x" }`), if any. */
function attestId(options: Node | undefined): string | null {
  if (!options || options.type !== "ObjectExpression") return null;
  for (const p of options.properties as Node[]) {
    if (p.type === "Property" && nameOf(p.key) === "id") {
      const v = unwrap(p.value);
      if ((v.type === "Literal" || v.type === "StringLiteral") && typeof v.value === "string") {
        return v.value;
      }
      if (v.type === "TemplateLiteral" && v.expressions.length === 0) {
        return v.quasis[0]?.value?.cooked ?? v.quasis[0]?.cooked ?? null;
      }
    }
  }
  return null;
}

/** The text of a string literal or a template literal (expressions as `*`), or `null`. */
function staticText(node: Node | undefined): { text: string; exact: boolean } | null {
  if (!node) return null;
  const n = unwrap(node);
  if ((n.type === "Literal" || n.type === "StringLiteral") && typeof n.value === "string") {
    return { text: n.value, exact: true };
  }
  if (n.type === "TemplateLiteral") {
    let text = "";
    (n.quasis as Node[]).forEach((q, i) => {
      // ESTree keeps the text under `value`; Deno lint's AST on the element itself.
      text += q.value?.cooked ?? q.value?.raw ?? q.cooked ?? q.raw ?? "";
      if (i < n.expressions.length) text += "*";
    });
    return { text, exact: n.expressions.length === 0 };
  }
  if (n.type === "NewExpression" && nameOf(n.callee) === "URL") return staticText(n.arguments[0]);
  return null;
}

interface UrlFacts {
  provider: string;
  operation: string | null;
  confidence: "high" | "low";
  target: string;
}

/** Classifies a URL known statically (wholly, or up to a template's holes). */
function classifyUrl(arg: Node | undefined, method: string, via: string): UrlFacts | null {
  const found = staticText(arg);
  if (!found) return null;
  const text = found.text;
  if (found.exact || !/^\*|^[^*]*\*[^*]*:\/\//.test(text)) {
    // An absolute URL (a hole after the host at most): the registry decides.
    const clean = text.replace(/\*/g, "x");
    const match = matchUrl(clean, []);
    if (match) {
      return {
        provider: match.provider,
        operation: match.operation,
        confidence: found.exact || !text.slice(0, text.indexOf("/", 8)).includes("*")
          ? "high"
          : "low",
        target: `${via} ${method} ${match.server}${match.path}`,
      };
    }
  }
  // A base URL from elsewhere and an AI path here: an OpenAI-compatible call, host unknown.
  const path = text.slice(text.lastIndexOf("*") + 1).split("?")[0]!;
  const operation = operationForPath(path);
  if (
    operation !== null &&
    (matchUrl(`http://host${path}`, []) !== null || OPENAI_COMPATIBLE_TAIL.test(path))
  ) {
    return {
      provider: "openai_compatible",
      operation,
      confidence: "low",
      target: `${via} ${method} ${path}`,
    };
  }
  return null;
}

function lineStarts(source: string): number[] {
  const starts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function position(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}

/** Where a node starts: `range[0]` (ESLint, Deno lint) or `start` (oxc). */
export function startOf(node: Node): number {
  return (node.range?.[0] as number | undefined) ?? (node.start as number | undefined) ?? 0;
}

/** Options of one analysis. */
export interface AnalyzeOptions {
  /** The exports of a relative module this file imports (the CLI's second pass), if known. */
  imports?: (specifier: string) => Map<string, Binding> | undefined;
}

/** Finds the AI call sites of one file's AST. */
export function analyze(program: Node, source: string, options: AnalyzeOptions = {}): Analysis {
  const starts = lineStarts(source);
  const sites: Site[] = [];
  const exports = new Map<string, Binding>();
  const relativeImports: string[] = [];
  const scopes: Array<Map<string, Binding>> = [];
  const classes: Array<Map<string, Binding>> = [];
  const attested: Array<string | null> = []; // ids of the attested scopes we are in
  // Calls that pass a function by name (`attest(summarize)`): name → the callees and options.
  let byName = new Map<string, Array<{ callee: Node; id: string | null }>>();

  const lookup = (name: string): Binding | undefined => {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const found = scopes[i]!.get(name);
      if (found) return found;
    }
    return undefined;
  };
  const declare = (name: string, binding: Binding) => scopes[scopes.length - 1]!.set(name, binding);

  const member = (base: Binding, name: string): Binding => {
    switch (base.kind) {
      case "module": {
        const e = base.entry;
        if (name === "default" && e.clients.default) {
          return { kind: "class", entry: e, name: "default", typeOnly: false };
        }
        if (e.clients[name] !== undefined && name !== "default") {
          return { kind: "class", entry: e, name, typeOnly: false };
        }
        if (e.instances?.includes(name)) return { kind: "client", entry: e, name, path: [] };
        if (e.functions?.[name] !== undefined) return { kind: "function", entry: e, name };
        if (e.commands?.[name]) return { kind: "command", entry: e, name };
        return OTHER;
      }
      case "aiguard":
        return name === "attest" || name === "wrap" ? { kind: "aiguard", member: name } : OTHER;
      case "client":
        return { ...base, path: [...base.path, name] };
      case "wrapped":
        return { ...base, inner: member(base.inner, name) };
      default:
        return OTHER;
    }
  };

  const typeBinding = (annotation: Node | undefined): Binding => {
    const type = annotation?.typeAnnotation ?? annotation;
    if (!type || type.type !== "TSTypeReference") return OTHER;
    const ref = type.typeName as Node;
    const base = ref.type === "TSQualifiedName"
      ? member(lookup(nameOf(ref.left) ?? "") ?? OTHER, nameOf(ref.right) ?? "")
      : lookup(nameOf(ref) ?? "");
    if (base?.kind === "class") {
      return { kind: "client", entry: base.entry, name: base.name, path: [] };
    }
    return OTHER;
  };

  const evaluate = (raw: Node | null | undefined): Binding => {
    if (!raw) return OTHER;
    const node = unwrap(raw);
    switch (node.type) {
      case "Identifier":
        return lookup(node.name) ?? OTHER;
      case "ThisExpression":
        return OTHER;
      case "MemberExpression": {
        const name = memberName(node);
        if (name === null) return OTHER;
        if (unwrap(node.object).type === "ThisExpression") {
          return classes[classes.length - 1]?.get(name) ?? OTHER;
        }
        return member(evaluate(node.object), name);
      }
      case "NewExpression": {
        const callee = evaluate(node.callee);
        if (callee.kind === "class" && !callee.typeOnly) {
          return { kind: "client", entry: callee.entry, name: callee.name, path: [] };
        }
        if (callee.kind === "module" && callee.entry.clients.default) {
          return { kind: "client", entry: callee.entry, name: "default", path: [] };
        }
        return OTHER;
      }
      case "AwaitExpression":
        return evaluate(node.argument);
      case "ImportExpression": {
        const spec = staticText(node.source);
        return spec?.exact ? moduleBinding(spec.text) : OTHER;
      }
      case "CallExpression": {
        const callee = unwrap(node.callee);
        if (nameOf(callee) === "require" && lookup("require") === undefined) {
          const spec = staticText(node.arguments[0]);
          return spec?.exact ? moduleBinding(spec.text) : OTHER;
        }
        const fn = evaluate(callee);
        if (fn.kind === "aiguard" && fn.member === "wrap") {
          return {
            kind: "wrapped",
            inner: evaluate(node.arguments[0]),
            id: attestId(node.arguments[1]),
          };
        }
        return OTHER;
      }
      default:
        return OTHER;
    }
  };

  const moduleBinding = (specifier: string): Binding => {
    if (isAiguardSpecifier(specifier)) return { kind: "aiguard", member: null };
    if (specifier === "axios") return { kind: "axios" };
    const entry = sdkOf(specifier);
    return entry ? { kind: "module", entry } : OTHER;
  };

  const declarePattern = (pattern: Node, value: Binding) => {
    const p = unwrap(pattern);
    if (p.type === "Identifier") declare(p.name, value);
    else if (p.type === "ObjectPattern") {
      for (const prop of p.properties as Node[]) {
        if (prop.type === "RestElement") declarePattern(prop.argument, OTHER);
        else {
          const key = prop.computed ? null : nameOf(prop.key);
          declarePattern(prop.value, key === null ? OTHER : member(value, key));
        }
      }
    } else if (p.type === "ArrayPattern") {
      for (const el of p.elements as Array<Node | null>) if (el) declarePattern(el, OTHER);
    } else if (p.type === "AssignmentPattern") declarePattern(p.left, value);
    else if (p.type === "RestElement") declarePattern(p.argument, OTHER);
  };

  const declareParam = (param: Node) => {
    if (param.type === "TSParameterProperty") {
      declareParam(param.parameter);
      const name = nameOf(
        param.parameter.type === "AssignmentPattern" ? param.parameter.left : param.parameter,
      );
      if (name) classes[classes.length - 1]?.set(name, lookup(name) ?? OTHER);
      return;
    }
    const target = param.type === "AssignmentPattern" ? param.left : param;
    if (target.type === "Identifier") declare(target.name, typeBinding(target.typeAnnotation));
    else declarePattern(target, OTHER);
  };

  const importDeclaration = (node: Node) => {
    const specifier = String(node.source.value);
    if (specifier.startsWith(".")) relativeImports.push(specifier);
    const relative = specifier.startsWith(".") ? options.imports?.(specifier) : undefined;
    const module = moduleBinding(specifier);
    const typeOnlyDecl = node.importKind === "type";
    for (const s of (node.specifiers ?? []) as Node[]) {
      const local = nameOf(s.local)!;
      let binding: Binding;
      if (s.type === "ImportNamespaceSpecifier") binding = relative ? OTHER : module;
      else {
        const imported = s.type === "ImportDefaultSpecifier" ? "default" : nameOf(s.imported)!;
        binding = relative
          ? relative.get(imported) ?? OTHER
          : module.kind === "axios"
          ? (imported === "default" ? module : OTHER)
          : member(module, imported);
      }
      if ((typeOnlyDecl || s.importKind === "type") && binding.kind === "class") {
        binding = { ...binding, typeOnly: true };
      } else if (typeOnlyDecl || s.importKind === "type") binding = OTHER;
      declare(local, binding);
    }
  };

  const hoist = (body: Node[] | undefined) => {
    for (const statement of body ?? []) {
      const s =
        statement.type === "ExportNamedDeclaration" || statement.type === "ExportDefaultDeclaration"
          ? statement.declaration ?? statement
          : statement;
      if (s?.type === "FunctionDeclaration" && s.id) {
        declare(s.id.name, { kind: "local-function", node: s });
      }
      if (statement.type === "ImportDeclaration") importDeclaration(statement);
    }
  };

  // Calls anywhere in the file that pass a name as their first argument (`attest(summarize)`).
  const collectByName = (node: Node) => {
    const found = new Map<string, Array<{ callee: Node; id: string | null }>>();
    const stack: Node[] = [node];
    while (stack.length) {
      const n = stack.pop()!;
      if (n.type === "CallExpression" && n.arguments?.[0]?.type === "Identifier") {
        const list = found.get(n.arguments[0].name) ?? [];
        list.push({ callee: unwrap(n.callee), id: attestId(n.arguments[1]) });
        found.set(n.arguments[0].name, list);
      }
      for (const key in n) {
        if (SKIP_KEYS.has(key)) continue;
        const v = n[key];
        if (Array.isArray(v)) {
          for (const c of v) if (c && typeof c.type === "string") stack.push(c);
        } else if (v && typeof v === "object" && typeof v.type === "string") stack.push(v);
      }
    }
    return found;
  };

  /** Whether `fn` (a function node) is attested, and its id. */
  const attestOf = (fn: Node, parent: Node | null, key: string | null, name: string | null) => {
    // attest(fn, opts), attest(opts)(fn)
    if (parent?.type === "CallExpression" && key === "arguments" && parent.arguments[0] === fn) {
      const callee = unwrap(parent.callee);
      const direct = evaluate(callee);
      if (direct.kind === "aiguard" && direct.member === "attest") {
        return { id: attestId(parent.arguments[1]) };
      }
      if (callee.type === "CallExpression") {
        const factory = evaluate(callee.callee);
        if (factory.kind === "aiguard" && factory.member === "attest") {
          return { id: attestId(callee.arguments[0]) };
        }
      }
    }
    for (const call of (name === null ? undefined : byName.get(name)) ?? []) {
      const callee = evaluate(call.callee);
      if (callee.kind === "aiguard" && callee.member === "attest") return { id: call.id };
    }
    return null;
  };

  const decoratedAttest = (method: Node) => {
    for (const d of (method.decorators ?? []) as Node[]) {
      const expr = unwrap(d.expression);
      const call = expr.type === "CallExpression" ? expr : null;
      const b = evaluate(call ? call.callee : expr);
      if (b.kind === "aiguard" && b.member === "attest") {
        return { id: attestId(call?.arguments[0]) };
      }
    }
    return null;
  };

  const report = (
    node: Node,
    facts: { provider: string; library: string; target: string; operation: string | null },
    confidence: "high" | "low",
    wrappedId?: string | null,
  ) => {
    const offset = startOf(node);
    const { line, column } = position(starts, offset);
    const inScope = attested.length > 0;
    const isAttested = inScope || wrappedId !== undefined;
    sites.push({
      line,
      column,
      offset,
      ...facts,
      attested: isAttested,
      attestation: wrappedId !== undefined && wrappedId !== null
        ? wrappedId
        : inScope
        ? attested.findLast((id) => id !== null) ?? null
        : null,
      confidence,
      node,
    });
  };

  const clientCall = (
    node: Node,
    binding: Binding,
    method: string | null,
    wrappedId?: string | null,
  ) => {
    if (binding.kind === "wrapped") {
      return clientCall(node, binding.inner, method, binding.id);
    }
    if (binding.kind === "function") {
      const operation = binding.entry.functions?.[binding.name] ?? null;
      report(
        node,
        {
          provider: binding.entry.provider,
          library: binding.entry.library,
          target: `${binding.entry.library}.${binding.name}`,
          operation,
        },
        "high",
        wrappedId,
      );
      return true;
    }
    if (binding.kind !== "client") return false;
    const entry = binding.entry;
    const path = method === null ? binding.path : [...binding.path, method];
    const key = path.join(".");
    const label = entry.clients[binding.name] ?? entry.library;
    const provider = entry.providers?.[binding.name] ?? entry.provider;
    if (entry.commands && key === "send") {
      const arg = node.arguments[0] ? unwrap(node.arguments[0]) : null;
      const command = arg?.type === "NewExpression"
        ? evaluate(arg.callee)
        : arg
        ? evaluate(arg)
        : OTHER;
      const known = command.kind === "command" ? entry.commands[command.name] : undefined;
      if (!known) return false;
      report(
        node,
        {
          provider,
          library: entry.library,
          target: `${entry.library}.${known[0]}`,
          operation: known[1],
        },
        "high",
        wrappedId,
      );
      return true;
    }
    if (!Object.prototype.hasOwnProperty.call(entry.methods, key)) return false;
    const target = entry.library === "langchain" || entry.library === "openai_agents"
      ? `${entry.library}.${label}.${key}`
      : `${label}.${key}`;
    report(
      node,
      { provider, library: entry.library, target, operation: entry.methods[key] ?? null },
      "high",
      wrappedId,
    );
    return true;
  };

  const callSite = (node: Node) => {
    const callee = unwrap(node.callee);
    if (callee.type === "Identifier") {
      const binding = lookup(callee.name);
      if (binding === undefined) {
        if (callee.name === "fetch") fetchCall(node, "fetch");
        return;
      }
      if (binding.kind === "axios") return axiosCall(node, null);
      clientCall(node, binding, null);
      return;
    }
    if (callee.type !== "MemberExpression") return;
    const method = memberName(callee);
    if (method === null) return;
    const object = unwrap(callee.object);
    if (object.type === "Identifier" && lookup(object.name) === undefined) {
      if (method === "fetch" && /^(?:globalThis|window|self)$/.test(object.name)) {
        return fetchCall(node, "fetch");
      }
    }
    const base = evaluate(callee.object);
    if (base.kind === "axios") return axiosCall(node, method);
    if (clientCall(node, base, method)) return;
    if (base.kind === "other") {
      // A receiver the analysis cannot resolve (an undeclared global, `this.x` set elsewhere) and a
      // method path only an SDK has: reported at low confidence.
      const path = chainPath(callee);
      if (path === null) return;
      for (const [distinctive, [library, provider, operation]] of DISTINCTIVE) {
        if (path.endsWith(distinctive) && rootUnresolved(callee)) {
          report(
            node,
            { provider, library, target: `${library}.${distinctive}`, operation },
            "low",
          );
          return;
        }
      }
    }
  };

  const chainPath = (node: Node): string | null => {
    const parts: string[] = [];
    let n = unwrap(node);
    while (n.type === "MemberExpression") {
      const name = memberName(n);
      if (name === null) return null;
      parts.unshift(name);
      n = unwrap(n.object);
    }
    return parts.join(".");
  };

  const rootUnresolved = (node: Node): boolean => {
    let n = unwrap(node);
    while (n.type === "MemberExpression") n = unwrap(n.object);
    if (n.type === "Identifier") {
      return lookup(n.name) === undefined && !/^(?:globalThis|window)$/.test(n.name);
    }
    if (n.type === "ThisExpression") return true;
    return false;
  };

  const fetchCall = (node: Node, via: string) => {
    const init = node.arguments[1] ? unwrap(node.arguments[1]) : null;
    let method = "GET";
    if (init?.type === "ObjectExpression") {
      for (const p of init.properties as Node[]) {
        if (p.type === "Property" && nameOf(p.key) === "method") {
          method = staticText(p.value)?.text.toUpperCase() ?? method;
        }
      }
    }
    const facts = classifyUrl(node.arguments[0], method, via);
    if (facts) {
      report(node, {
        provider: facts.provider,
        library: via,
        target: facts.target,
        operation: facts.operation,
      }, facts.confidence);
    }
  };

  const axiosCall = (node: Node, method: string | null) => {
    if (method !== null && !AXIOS_METHODS.has(method)) return;
    let url: Node | undefined = node.arguments[0];
    let verb = method && method !== "request" ? method.toUpperCase() : "GET";
    const first = url ? unwrap(url) : null;
    if (first?.type === "ObjectExpression") {
      url = undefined;
      for (const p of first.properties as Node[]) {
        if (p.type !== "Property") continue;
        if (nameOf(p.key) === "url") url = p.value;
        if (nameOf(p.key) === "method") verb = staticText(p.value)?.text.toUpperCase() ?? verb;
      }
    }
    const facts = classifyUrl(url, verb, "axios");
    if (facts) {
      report(node, {
        provider: facts.provider,
        library: "axios",
        target: facts.target,
        operation: facts.operation,
      }, facts.confidence);
    }
  };

  const visit = (
    node: Node,
    parent: Node | null,
    key: string | null,
    name: string | null,
  ): void => {
    const scoped = SCOPES.has(node.type);
    if (scoped) scopes.push(new Map());
    let attestPushed = false;
    let classPushed = false;
    try {
      switch (node.type) {
        case "Program":
          byName = collectByName(node);
          hoist(node.body);
          break;
        case "BlockStatement":
        case "StaticBlock":
          hoist(node.body);
          break;
        case "ImportDeclaration":
          return; // declared when its scope was entered
        case "VariableDeclarator": {
          const id = unwrap(node.id);
          const value = id.type === "Identifier" && id.typeAnnotation && !node.init
            ? typeBinding(id.typeAnnotation)
            : evaluate(node.init);
          if (node.init) visit(node.init, node, "init", id.type === "Identifier" ? id.name : null);
          declarePattern(node.id, value);
          return;
        }
        case "ClassDeclaration":
        case "ClassExpression": {
          if (node.type === "ClassDeclaration" && node.id) declare(node.id.name, OTHER);
          classes.push(new Map());
          classPushed = true;
          for (const m of node.body.body as Node[]) {
            if ((m.type === "PropertyDefinition" || m.type === "ClassProperty") && !m.computed) {
              const field = nameOf(m.key);
              if (field) {
                classes[classes.length - 1]!.set(
                  field,
                  m.value ? evaluate(m.value) : typeBinding(m.typeAnnotation),
                );
              }
            }
          }
          break;
        }
        case "MethodDefinition":
        case "TSAbstractMethodDefinition": {
          const decorated = decoratedAttest(node);
          if (decorated) {
            attested.push(decorated.id);
            attestPushed = true;
          }
          break;
        }
        case "AssignmentExpression": {
          const left = unwrap(node.left);
          if (left.type === "MemberExpression" && unwrap(left.object).type === "ThisExpression") {
            const field = memberName(left);
            if (field) classes[classes.length - 1]?.set(field, evaluate(node.right));
          }
          break;
        }
        case "CallExpression":
          callSite(node);
          break;
        case "ExportNamedDeclaration":
          exportNamed(node);
          break;
        case "ExportDefaultDeclaration": {
          const d = node.declaration as Node;
          if (d && !isFunction(d) && d.type !== "ClassDeclaration") {
            exports.set("default", evaluate(d));
          }
          break;
        }
      }
      if (isFunction(node)) {
        const fnName = node.id?.name ?? name;
        const a = attestOf(node, parent, key, fnName ?? null);
        if (a) {
          attested.push(a.id);
          attestPushed = true;
        }
        for (const p of (node.params ?? []) as Node[]) declareParam(p);
      }
      for (const k in node) {
        if (SKIP_KEYS.has(k) || k === "decorators") continue;
        const v = node[k];
        if (Array.isArray(v)) {
          for (const c of v) if (c && typeof c.type === "string") visit(c, node, k, null);
        } else if (v && typeof v === "object" && typeof v.type === "string") {
          if (isFunction(node) && k === "params") continue;
          visit(v, node, k, node.type === "MethodDefinition" ? nameOf(node.key) : null);
        }
      }
    } finally {
      if (attestPushed) attested.pop();
      if (classPushed) classes.pop();
      if (scoped) scopes.pop();
    }
  };

  const exportNamed = (node: Node) => {
    const d = node.declaration as Node | null;
    if (d?.type === "VariableDeclaration") {
      for (const decl of d.declarations as Node[]) {
        const id = unwrap(decl.id);
        if (id.type === "Identifier") exports.set(id.name, evaluate(decl.init));
      }
    }
    if (!d && !node.source) {
      for (const s of node.specifiers as Node[]) {
        const local = nameOf(s.local);
        const exported = nameOf(s.exported);
        if (local && exported) exports.set(exported, lookup(local) ?? OTHER);
      }
    }
  };

  visit(program, null, null, null);
  // Exported declarations are evaluated as they are visited; keep only what other files can use.
  for (const [name, binding] of exports) {
    if (binding.kind !== "client" && binding.kind !== "class" && binding.kind !== "wrapped") {
      exports.delete(name);
    }
  }
  sites.sort((a, b) => a.offset - b.offset);
  return { sites, exports, relativeImports };
}

/** What the lint front-ends report: every unattested site, with its message. */
export function lintProblems(
  program: Node,
  source: string,
): Array<{ node: Node; provider: string; target: string; message: string }> {
  return analyze(program, source).sites.filter((s) => !s.attested).map((s) => ({
    node: s.node,
    provider: s.provider,
    target: s.target,
    message: `Unattested ${s.provider} call (${s.target}): wrap the calling function with ` +
      "attest() once it is reviewed.",
  }));
}
