/**
 * The walk over one file: what its statements declare, bind, assign, export and call, in scopes
 * (`scopes.ts`), on top of what its expressions stand for (`evaluate.ts`). It records every call
 * (symbolically: a callee and arguments as value summaries), each call that passes a parameter on
 * (the function summaries' forwards) and each `attest()` mark.
 *
 * @module
 */
import { CATALOG, sdkOf } from "../catalog.ts";
import type { AttestMark } from "./attestation.ts";
import {
  forEachChild,
  isFunction,
  memberName,
  nameOf,
  type Node,
  startOf,
  stringOf,
  unwrap,
} from "./estree.ts";
import { Evaluator, GLOBALS } from "./evaluate.ts";
import { usesParam } from "./resolve.ts";
import { assign, Scope } from "./scopes.ts";
import {
  type ClassSummary,
  type FnSummary,
  type SymbolicCall,
  UNKNOWN,
  type Value,
} from "./values.ts";

/** What a module exports, as value summaries (for the modules importing it). */
export interface ModuleExports {
  /** Export name → what it stands for. */
  names: Map<string, Value>;
  /** Modules re-exported whole (`export * from "./x"`). */
  star: string[];
}

/** Names of parameters that hold a request function (`fetcher`, `fetchFn`, `customFetch`). */
const FETCH_NAME = /fetch/i;
const MAX_FORWARDS = 24;
const MAX_RETURNS = 8;

/** A call the walk records, with what its callee and arguments stand for. */
export interface CallRecord extends SymbolicCall {
  /** The call expression. */
  node: Node;
  /** The function the call is in (attestation). */
  fn: FnSummary | null;
  /** The method path when the receiver's root is undeclared or `this` (low-confidence fallback). */
  distinctive: string | null;
}

/** The walk over one file. */
export class Walk extends Evaluator {
  /** The calls met, in the order the walk meets them. */
  readonly records: CallRecord[] = [];
  /** `attest()` calls and decorators, resolved once the file is walked. */
  readonly marks: AttestMark[] = [];
  /** The forwards made, whose lines are filled in once the walk is done. */
  readonly forwardCalls: SymbolicCall[] = [];
  /** The call expression of each forward's position (the lint rules report on it). */
  readonly forwardNodes = new Map<object, Node>();
  /** What the file exports, ESM or CommonJS. */
  readonly exports: ModuleExports = { names: new Map(), star: [] };
  /** The classes with an `extends` clause: where a base class's abstract method may dispatch. */
  readonly subclasses: ClassSummary[] = [];
  /**
   * Scanned modules whose functions the file hands an SDK's loader
   * (`loadPeer("cohere-ai", () => import("cohere-ai"))`): what they return may be the SDK, so the
   * scan reads them though they name none.
   */
  readonly loaders = new Set<string>();

  /** Declares a block's functions, classes, variables, enums and imports before its statements. */
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
    // Once the imports are bound: the shapes of objects the code types (`interface Options {
    // model: BaseChatModel; getModel(): Promise<BaseChatModel> }`), as the members a value of
    // that type has.
    for (const statement of body ?? []) {
      const s: Node = statement.type === "ExportNamedDeclaration"
        ? statement.declaration ?? statement
        : statement;
      const members = s.type === "TSInterfaceDeclaration"
        ? s.body?.body
        : s.type === "TSTypeAliasDeclaration" && s.typeAnnotation?.type === "TSTypeLiteral"
        ? s.typeAnnotation.members
        : undefined;
      const name = nameOf(s.id);
      if (name === null || scope.names.has(name)) continue;
      if (!members) {
        // `type Sdk = typeof import("@aws-sdk/client-bedrock-runtime")`: a value of it is the
        // package's namespace (`sdk: Sdk`, `loadSdk(): Promise<Sdk>`).
        const value = s.type === "TSTypeAliasDeclaration"
          ? this.typeValue(s.typeAnnotation, scope)
          : UNKNOWN;
        if (value !== UNKNOWN) scope.names.set(name, { k: "alias", value });
        continue;
      }
      const shape = this.typeShape(s, members as Node[], scope);
      if (shape) scope.names.set(name, { k: "class", cls: shape });
    }
  }

  /**
   * A class summary of a type's members that name a known type: properties as fields, methods
   * and function-typed properties as methods returning their declared type. `null` when none do.
   */
  private typeShape(node: Node, members: Node[], scope: Scope): ClassSummary | null {
    let cls: ClassSummary | null = null;
    for (const m of members) {
      const key = m.computed ? null : nameOf(m.key);
      if (key === null) continue;
      const type = m.typeAnnotation?.typeAnnotation;
      const signature = m.type === "TSMethodSignature"
        ? m
        : type?.type === "TSFunctionType"
        ? type
        : null;
      const typed = this.typeValue(
        signature ? signature.returnType : m.type === "TSPropertySignature" ? type : undefined,
        scope,
      );
      if (typed === UNKNOWN) continue;
      cls ??= this.classSummary(node);
      if (signature) {
        const fn = this.fnSummary(signature);
        fn.name ??= key;
        fn.returns.push(typed);
        cls.methods.set(key, fn);
      } else cls.fields.set(key, { values: [typed] });
    }
    return cls;
  }

  /** Declares the variables a binding pattern names, with no value yet. */
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

  /** Binds each name an `import` declaration brings in. */
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

  /** Gives each name a pattern binds its part of `value` (`const { a, b: [c] } = value`). */
  bindPattern(pattern: Node, value: Value, scope: Scope): void {
    const p = unwrap(pattern);
    if (p.type === "Identifier") {
      const found = scope.lookup(p.name);
      assign(found?.k === "cell" ? found.cell : scope.declareCell(p.name), value);
    } else if (p.type === "ObjectPattern") {
      for (const prop of p.properties as Node[]) {
        // The rest (`{ onMessage, ...init } = options`) stands for the object: what a request
        // reads from it (`method`, `body`) is not among the names taken out before it.
        if (prop.type === "RestElement") this.bindPattern(prop.argument, value, scope);
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

  /** Binds a function's parameter `i`: its type, its default, a `constructor(private x)` field. */
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
      this.bindPropertyTypes(target, scope);
    }
  }

  /**
   * `({ llm }: { llm: BaseChatModel })`: a name destructured from a parameter whose type literal
   * says what that property is holds such a value too.
   */
  private bindPropertyTypes(pattern: Node, scope: Scope): void {
    const literal = pattern.typeAnnotation?.typeAnnotation;
    if (pattern.type !== "ObjectPattern" || literal?.type !== "TSTypeLiteral") return;
    const types = new Map<string, Node>();
    for (const m of literal.members as Node[]) {
      const key = m.type === "TSPropertySignature" ? nameOf(m.key) : null;
      if (key !== null && m.typeAnnotation) types.set(key, m.typeAnnotation);
    }
    for (const prop of pattern.properties as Node[]) {
      if (prop.type === "RestElement" || prop.computed) continue;
      const type = types.get(nameOf(prop.key) ?? "");
      const local = prop.value?.type === "AssignmentPattern" ? prop.value.left : prop.value;
      if (!type || local?.type !== "Identifier") continue;
      const typed = this.typeValue(type, scope);
      const cell = scope.lookup(local.name);
      if (typed !== UNKNOWN && cell?.k === "cell") assign(cell.cell, typed);
    }
  }

  /** Walks a function in a scope of its own; an arrow's expression body is what it returns. */
  visitFunction(node: Node, scope: Scope, name: string | null, self: ClassSummary | null): void {
    const fn = this.fnSummary(node);
    fn.name ??= name;
    fn.parent = scope.fn;
    const inner = new Scope(scope, fn, node.type === "ArrowFunctionExpression" ? scope.self : self);
    (node.params as Node[]).forEach((p, i) => this.bindParam(p, i, fn, inner));
    // `getChatModel(): BaseChatModel`: what the signature says it returns, beside what it does
    // (an abstract method says only that).
    if (node.returnType) {
      const typed = this.typeValue(node.returnType, inner);
      if (typed !== UNKNOWN) fn.returns.push(typed);
    }
    const body = node.body as Node | null;
    if (!body) return;
    if (body.type !== "BlockStatement") {
      fn.returns.push(this.evaluate(body, inner));
    }
    this.visit(body, inner);
  }

  /** Summarises a class (superclass, methods, getters, fields, decorators), then walks its members. */
  visitClass(node: Node, scope: Scope): void {
    const cls = this.classSummary(node);
    if (node.superClass) {
      cls.superclass = this.evaluate(node.superClass, scope);
      this.subclasses.push(cls);
    }
    const inClass = new Scope(scope, scope.fn, cls);
    const members = (node.body?.body ?? []) as Node[];
    for (const m of members) {
      const name = m.computed ? stringOf(m.key) : nameOf(m.key);
      if (name === null) continue;
      if (m.type === "MethodDefinition" || m.type === "TSAbstractMethodDefinition") {
        if (!m.value) continue;
        const fn = this.fnSummary(m.value);
        fn.name = name;
        if (m.type === "TSAbstractMethodDefinition" || onlyThrows(m.value.body)) fn.abstract = true;
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

  /** What an assignment changes: a variable, a pattern, a field, a member, a CommonJS export. */
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
    } else if (
      object.type === "MemberExpression" && scope.self && memberName(object) === "constructor" &&
      unwrap(object.object).type === "ThisExpression"
    ) {
      // `this.constructor._model = …`: a static of the class the instance is of (read back as
      // `this.constructor._model`, in the class or a subclass).
      assign(fieldCell(scope.self.statics, name), this.evaluate(node.right, scope));
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

  /** Records a call, counts the name it calls, and adds it to the forwards of each enclosing function whose parameter it passes on. */
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
    const owner = record.callee.k === "member" ? record.callee.object : record.callee;
    if (owner.k === "import" && (node.arguments as Node[]).some(loadsSdk)) {
      this.loaders.add(owner.module);
    }
    const called = callee.type === "Identifier"
      ? callee.name as string
      : callee.type === "MemberExpression"
      ? memberName(callee)
      : null;
    if (called !== null) this.countRead(callee, called, scope, true);
    // A call that passes a parameter on (`fetch(url)`, `request(BASE + path)`): part of the summary
    // of each function whose parameter it is.
    const fetchNamed = callee.type === "Identifier" && FETCH_NAME.test(callee.name);
    for (let fn = scope.fn; fn; fn = fn.parent) {
      // A request through a fetch the caller hands in is kept past the cap: a long helper's many
      // other calls (its callbacks, its parsing) come before it.
      if (fn.forwards.length >= MAX_FORWARDS && !fetchNamed) continue;
      if (record.args.some((a) => mentionsParam(a, fn!, 0))) {
        const at = { offset: startOf(node), line: 0, column: 0 };
        const forward: SymbolicCall = { callee: record.callee, args: record.args, at };
        // A request function the caller hands in (`fetcher(url, init)`, `fetchImpl(url)`).
        if (fetchNamed) forward.fetchParam = true;
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

  /** Records what an `export` declaration exports. */
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

  /** Walks a node: enters blocks, functions and classes, binds declarators, records calls. */
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
        // `new WebSocket(url)`, `new SSE(url, { payload })`: a request made by constructing it is a
        // call; other constructions are values only.
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

/** Whether an argument is a function that loads an SDK package (`() => import("cohere-ai")`). */
function loadsSdk(arg: Node): boolean {
  if (!isFunction(arg)) return false;
  let body = unwrap(arg.body);
  if (body.type === "BlockStatement") {
    const statements = body.body as Node[];
    const last = statements[statements.length - 1];
    if (statements.length !== 1 || last?.type !== "ReturnStatement" || !last.argument) return false;
    body = unwrap(last.argument);
  }
  if (body.type === "AwaitExpression") body = unwrap(body.argument);
  const specifier = body.type === "ImportExpression"
    ? stringOf(body.source)
    : body.type === "CallExpression" && nameOf(body.callee) === "require"
    ? stringOf(body.arguments[0])
    : null;
  return specifier !== null && sdkOf(specifier) !== undefined;
}

/** Whether a method's body (none: declared only) does nothing but throw. */
function onlyThrows(body: Node | null | undefined): boolean {
  if (!body) return true;
  const statements = (body.body ?? []) as Node[];
  return statements.length > 0 && statements.every((s) => s.type === "ThrowStatement");
}

function isWebSocket(v: Value): boolean {
  return (v.k === "global" && v.name === "WebSocket") ||
    (v.k === "http" && v.lib.constructed === true && v.method === null) ||
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
  const path = parts.join(".");
  // A platform binding's method is its whatever holds the binding (`env.AI.run`, `env` declared).
  if (BINDING_PATHS.some((binding) => path === binding || path.endsWith(`.${binding}`))) {
    return path;
  }
  if (n.type === "Identifier") {
    if (scope.lookup(n.name) !== undefined || GLOBALS.has(n.name)) return null;
  } else if (n.type !== "ThisExpression") return null;
  return path;
}

/** The catalog's platform-binding paths (`AI.run`): see `SdkEntry.bindings`. */
const BINDING_PATHS: readonly string[] = CATALOG.flatMap((entry) => entry.bindings ?? []);
