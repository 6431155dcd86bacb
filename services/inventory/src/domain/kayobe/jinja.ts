/**
 * A small Jinja2 evaluator for the expressions Kayobe configurations use (pure, no I/O).
 *
 * It covers what the reference configurations and Kayobe's own defaults contain: `{{ expr }}`,
 * text around expressions (`eth2.{{ internal_vlan }}`), `{% if %}…{% elif %}…{% else %}…{% endif %}`,
 * literals, lists, dicts, `a if c else b`, `and`/`or`/`not` (short-circuit), comparisons, `in`,
 * arithmetic, `~`, attribute and index access, filters (`default`, `bool`, `select`, `unique`, …),
 * tests (`is defined`, …) and Kayobe's `net_*` attribute filters.
 *
 * Whatever needs the control host or the managed host (`lookup('env'|'pipe', …)`, gathered facts
 * such as `ansible_dummy1`) or is outside this subset throws {@link Unresolvable}; callers report it.
 *
 * Rendering follows Ansible: a template that is a single `{{ expr }}` (whitespace around it
 * allowed) yields the native value (Ansible renders and then literal-evaluates it), anything else
 * renders to a string, with `None` rendered as the empty string (Ansible's `finalize`).
 */

/** Something the importer cannot compute without the control host, the target host or a feature it lacks. */
export class Unresolvable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Unresolvable';
  }
}

/** Jinja's Undefined: allowed to flow into `default` and `is defined`, an error anywhere else. */
export class Undef {
  constructor(readonly name: string) {}
}

/** Ansible's `omit` placeholder (what `| default(omit)` produces). */
export const OMIT = '__omit_place_holder__';

/** What the evaluator needs from its caller: variable lookup and a few host-aware functions. */
export interface Scope {
  /** A variable's templated value, or an Undef when it is not defined. May throw Unresolvable. */
  variable(name: string): unknown;
  /** Host names matched by an inventory pattern (`query('inventory_hostnames', …)`). */
  inventoryHostnames(pattern: string): string[];
  /** A variable of another host (`hostvars[h][name]`), Undef when not defined. */
  hostVariable(host: string, name: string): unknown;
  hasHost(host: string): boolean;
}

// ---------------------------------------------------------------------------------------------
// Lexer

type Tok =
  | { t: 'name'; v: string }
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'op'; v: string }
  | { t: 'end' };

const OPS = ['**', '//', '==', '!=', '<=', '>=', '+', '-', '*', '/', '%', '~', '<', '>', '(', ')', '[', ']', '{', '}', ',', ':', '.', '|', '='];

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      out.push({ t: 'name', v: src.slice(i, j) });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9][0-9_]*(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i))!;
      out.push({ t: 'num', v: Number(m[0].replace(/_/g, '')) });
      i += m[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) {
          const n = src[j + 1]!;
          s += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          j += 2;
        } else {
          s += src[j];
          j++;
        }
      }
      if (j >= src.length) throw new Unresolvable(`unterminated string in expression "${src}"`);
      out.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new Unresolvable(`unexpected character "${c}" in expression "${src}"`);
    out.push({ t: 'op', v: op });
    i += op.length;
  }
  out.push({ t: 'end' });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parser (Jinja's precedence: conditional < or < and < not < compare < + - < ~ < * / // % < ** < unary < filters/tests < postfix)

type Node =
  | { k: 'lit'; v: unknown }
  | { k: 'name'; n: string }
  | { k: 'list'; items: Node[] }
  | { k: 'dict'; entries: [Node, Node][] }
  | { k: 'attr'; o: Node; n: string }
  | { k: 'index'; o: Node; i: Node }
  | { k: 'call'; f: Node; args: Node[]; kwargs: Record<string, Node> }
  | { k: 'filter'; o: Node; n: string; args: Node[]; kwargs: Record<string, Node> }
  | { k: 'test'; o: Node; n: string; args: Node[]; neg: boolean }
  | { k: 'bin'; op: string; l: Node; r: Node }
  | { k: 'not'; o: Node }
  | { k: 'neg'; o: Node }
  | { k: 'cond'; c: Node; a: Node; b: Node | null };

class Parser {
  private p = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly src: string,
  ) {}

  private peek(): Tok {
    return this.toks[this.p]!;
  }
  private next(): Tok {
    return this.toks[this.p++]!;
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }
  private isName(v: string): boolean {
    const t = this.peek();
    return t.t === 'name' && t.v === v;
  }
  private expect(v: string): void {
    const t = this.next();
    if (!(t.t === 'op' && t.v === v)) throw new Unresolvable(`expected "${v}" in expression "${this.src}"`);
  }

  parseAll(): Node {
    const n = this.expr();
    if (this.peek().t !== 'end') throw new Unresolvable(`unexpected "${tokText(this.peek())}" in expression "${this.src}"`);
    return n;
  }

  expr(): Node {
    const a = this.or();
    if (this.isName('if')) {
      this.next();
      const c = this.or();
      let b: Node | null = null;
      if (this.isName('else')) {
        this.next();
        b = this.expr();
      }
      return { k: 'cond', c, a, b };
    }
    return a;
  }
  private or(): Node {
    let l = this.and();
    while (this.isName('or')) {
      this.next();
      l = { k: 'bin', op: 'or', l, r: this.and() };
    }
    return l;
  }
  private and(): Node {
    let l = this.not();
    while (this.isName('and')) {
      this.next();
      l = { k: 'bin', op: 'and', l, r: this.not() };
    }
    return l;
  }
  private not(): Node {
    if (this.isName('not')) {
      this.next();
      return { k: 'not', o: this.not() };
    }
    return this.compare();
  }
  private compare(): Node {
    let l = this.add();
    for (;;) {
      const t = this.peek();
      if (t.t === 'op' && ['==', '!=', '<', '>', '<=', '>='].includes(t.v)) {
        this.next();
        l = { k: 'bin', op: t.v, l, r: this.add() };
      } else if (this.isName('in')) {
        this.next();
        l = { k: 'bin', op: 'in', l, r: this.add() };
      } else if (this.isName('not') && this.toks[this.p + 1]?.t === 'name' && (this.toks[this.p + 1] as { v: string }).v === 'in') {
        this.p += 2;
        l = { k: 'bin', op: 'not in', l, r: this.add() };
      } else return l;
    }
  }
  private add(): Node {
    let l = this.concat();
    while (this.isOp('+') || this.isOp('-')) {
      const op = (this.next() as { v: string }).v;
      l = { k: 'bin', op, l, r: this.concat() };
    }
    return l;
  }
  private concat(): Node {
    let l = this.mul();
    while (this.isOp('~')) {
      this.next();
      l = { k: 'bin', op: '~', l, r: this.mul() };
    }
    return l;
  }
  private mul(): Node {
    let l = this.pow();
    while (this.isOp('*') || this.isOp('/') || this.isOp('//') || this.isOp('%')) {
      const op = (this.next() as { v: string }).v;
      l = { k: 'bin', op, l, r: this.pow() };
    }
    return l;
  }
  private pow(): Node {
    let l = this.unary();
    while (this.isOp('**')) {
      this.next();
      l = { k: 'bin', op: '**', l, r: this.unary() };
    }
    return l;
  }
  private unary(): Node {
    if (this.isOp('-')) {
      this.next();
      return { k: 'neg', o: this.unary() };
    }
    if (this.isOp('+')) {
      this.next();
      return this.unary();
    }
    return this.filters(this.postfix(this.primary()));
  }
  private filters(node: Node): Node {
    for (;;) {
      if (this.isOp('|')) {
        this.next();
        const name = this.dottedName();
        const { args, kwargs } = this.isOp('(') ? this.callArgs() : { args: [], kwargs: {} };
        node = { k: 'filter', o: node, n: name, args, kwargs };
      } else if (this.isName('is')) {
        this.next();
        let neg = false;
        if (this.isName('not')) {
          this.next();
          neg = true;
        }
        const name = this.dottedName();
        let args: Node[] = [];
        if (this.isOp('(')) args = this.callArgs().args;
        else {
          const t = this.peek();
          if (t.t === 'str' || t.t === 'num' || (t.t === 'name' && !['and', 'or', 'else', 'if', 'is', 'not', 'in'].includes(t.v))) {
            args = [this.postfix(this.primary())];
          }
        }
        node = { k: 'test', o: node, n: name, args, neg };
      } else return node;
    }
  }
  private dottedName(): string {
    const t = this.next();
    if (t.t !== 'name') throw new Unresolvable(`expected a filter or test name in expression "${this.src}"`);
    let n = t.v;
    while (this.isOp('.') && this.toks[this.p + 1]?.t === 'name') {
      this.next();
      n += '.' + (this.next() as { v: string }).v;
    }
    return n;
  }
  private callArgs(): { args: Node[]; kwargs: Record<string, Node> } {
    this.expect('(');
    const args: Node[] = [];
    const kwargs: Record<string, Node> = {};
    while (!this.isOp(')')) {
      const t = this.peek();
      const after = this.toks[this.p + 1];
      if (t.t === 'name' && after?.t === 'op' && after.v === '=') {
        this.p += 2;
        kwargs[t.v] = this.expr();
      } else args.push(this.expr());
      if (!this.isOp(')')) this.expect(',');
    }
    this.expect(')');
    return { args, kwargs };
  }
  private postfix(node: Node): Node {
    for (;;) {
      if (this.isOp('.')) {
        this.next();
        const t = this.next();
        if (t.t === 'name') node = { k: 'attr', o: node, n: t.v };
        else if (t.t === 'num') node = { k: 'index', o: node, i: { k: 'lit', v: t.v } };
        else throw new Unresolvable(`bad attribute access in expression "${this.src}"`);
      } else if (this.isOp('[')) {
        this.next();
        const i = this.expr();
        this.expect(']');
        node = { k: 'index', o: node, i };
      } else if (this.isOp('(')) {
        const { args, kwargs } = this.callArgs();
        node = { k: 'call', f: node, args, kwargs };
      } else return node;
    }
  }
  private primary(): Node {
    const t = this.next();
    switch (t.t) {
      case 'str': {
        let s = t.v;
        while (this.peek().t === 'str') s += (this.next() as { v: string }).v; // implicit concatenation
        return { k: 'lit', v: s };
      }
      case 'num':
        return { k: 'lit', v: t.v };
      case 'name':
        if (t.v === 'true' || t.v === 'True') return { k: 'lit', v: true };
        if (t.v === 'false' || t.v === 'False') return { k: 'lit', v: false };
        if (t.v === 'none' || t.v === 'None') return { k: 'lit', v: null };
        return { k: 'name', n: t.v };
      case 'op':
        if (t.v === '(') {
          if (this.isOp(')')) {
            this.next();
            return { k: 'list', items: [] };
          }
          const first = this.expr();
          if (this.isOp(',')) {
            const items = [first];
            while (this.isOp(',')) {
              this.next();
              if (this.isOp(')')) break;
              items.push(this.expr());
            }
            this.expect(')');
            return { k: 'list', items };
          }
          this.expect(')');
          return first;
        }
        if (t.v === '[') {
          const items: Node[] = [];
          while (!this.isOp(']')) {
            items.push(this.expr());
            if (!this.isOp(']')) this.expect(',');
          }
          this.expect(']');
          return { k: 'list', items };
        }
        if (t.v === '{') {
          const entries: [Node, Node][] = [];
          while (!this.isOp('}')) {
            const key = this.expr();
            this.expect(':');
            entries.push([key, this.expr()]);
            if (!this.isOp('}')) this.expect(',');
          }
          this.expect('}');
          return { k: 'dict', entries };
        }
        break;
      case 'end':
        break;
    }
    throw new Unresolvable(`unexpected "${tokText(t)}" in expression "${this.src}"`);
  }
}

function tokText(t: Tok): string {
  return t.t === 'end' ? 'end of expression' : String(t.v);
}

const parseCache = new Map<string, Node>();

export function parseExpression(src: string): Node {
  let n = parseCache.get(src);
  if (!n) {
    n = new Parser(lex(src), src.trim()).parseAll();
    parseCache.set(src, n);
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Values

function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Undef) && !(v instanceof HostVars) && !(v instanceof HostView);
}

function defined(v: unknown, what: string): unknown {
  if (v instanceof Undef) throw new Unresolvable(`"${v.name}" is undefined${what ? ` (${what})` : ''}`);
  return v;
}

/** Python truthiness. */
export function truthy(v: unknown): boolean {
  if (v instanceof Undef) throw new Unresolvable(`"${v.name}" is undefined`);
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isDict(v)) return Object.keys(v).length > 0;
  return true;
}

/** Ansible's `bool` filter. */
export function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) return false;
  if (typeof v === 'number') return v === 1;
  return ['yes', 'on', '1', 'true'].includes(String(v).toLowerCase());
}

/** Python's str() of a value, as Jinja prints it (None prints as '' per Ansible's finalize). */
export function pyStr(v: unknown, nested = false): string {
  if (v === null || v === undefined) return nested ? 'None' : '';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return nested ? `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : v;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => pyStr(x, true)).join(', ')}]`;
  if (isDict(v)) return `{${Object.entries(v).map(([k, x]) => `${pyStr(k, true)}: ${pyStr(x, true)}`).join(', ')}}`;
  return String(v);
}

function eq(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'boolean') return a === Number(b);
  if (typeof b === 'number' && typeof a === 'boolean') return b === Number(a);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => eq(x, b[i]));
  if (isDict(a) && isDict(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && eq(a[k], b[k]));
  }
  return false;
}

/** `hostvars`: indexable by host name. */
class HostVars {
  constructor(readonly scope: Scope) {}
}
/** `hostvars[h]`: a host's variables; facts are not known at import time. */
class HostView {
  constructor(
    readonly scope: Scope,
    readonly host: string,
  ) {}
  get(name: string): unknown {
    const v = this.scope.hostVariable(this.host, name);
    if (v instanceof Undef && isFact(name)) throw factError(name);
    return v;
  }
  has(name: string): boolean {
    const v = this.scope.hostVariable(this.host, name);
    if (v instanceof Undef && isFact(name)) throw factError(name);
    return !(v instanceof Undef);
  }
}

export function isFact(name: string): boolean {
  return name === 'ansible_facts' || (name.startsWith('ansible_') && !ANSIBLE_NON_FACTS.has(name));
}
const ANSIBLE_NON_FACTS = new Set(['ansible_host', 'ansible_user', 'ansible_port', 'ansible_connection', 'ansible_python_interpreter', 'ansible_become', 'ansible_ssh_common_args']);

function factError(name: string): Unresolvable {
  return new Unresolvable(`"${name}" is a fact gathered from the host at run time`);
}

function contains(container: unknown, item: unknown): boolean {
  container = defined(container, 'right of "in"');
  item = defined(item, 'left of "in"');
  if (typeof container === 'string') return container.includes(pyStr(item));
  if (Array.isArray(container)) return container.some((x) => eq(x, item));
  if (container instanceof HostView) return container.has(String(item));
  if (container instanceof HostVars) return container.scope.hasHost(String(item));
  if (isDict(container)) return Object.prototype.hasOwnProperty.call(container, String(item));
  throw new Unresolvable(`"in" on ${pyStr(container)} is not supported`);
}

function getItem(o: unknown, key: unknown, name: string): unknown {
  o = defined(o, name);
  if (o instanceof HostVars) {
    if (!o.scope.hasHost(String(key))) return new Undef(`hostvars['${String(key)}']`);
    return new HostView(o.scope, String(key));
  }
  if (o instanceof HostView) return o.get(String(key));
  if (Array.isArray(o) || typeof o === 'string') {
    if (typeof key !== 'number' || !Number.isInteger(key)) return new Undef(`${name}[${pyStr(key, true)}]`);
    const i = key < 0 ? o.length + key : key;
    if (i < 0 || i >= o.length) throw new Unresolvable(`index ${key} out of range in ${name}`);
    return o[i];
  }
  if (isDict(o)) {
    const k = String(key);
    return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : new Undef(`${name}[${pyStr(key, true)}]`);
  }
  return new Undef(`${name}[${pyStr(key, true)}]`);
}

function describe(n: Node): string {
  switch (n.k) {
    case 'name':
      return n.n;
    case 'attr':
      return `${describe(n.o)}.${n.n}`;
    case 'index':
      return `${describe(n.o)}[${n.i.k === 'lit' ? pyStr(n.i.v, true) : '…'}]`;
    default:
      return 'value';
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluator

export function evaluate(n: Node, scope: Scope): unknown {
  switch (n.k) {
    case 'lit':
      return n.v;
    case 'name':
      if (n.n === 'hostvars') return new HostVars(scope);
      if (n.n === 'omit') return OMIT;
      {
        const v = scope.variable(n.n);
        if (v instanceof Undef && isFact(n.n)) throw factError(n.n);
        return v;
      }
    case 'list':
      return n.items.map((i) => defined(evaluate(i, scope), 'list item'));
    case 'dict': {
      const o: Record<string, unknown> = {};
      for (const [k, v] of n.entries) o[String(defined(evaluate(k, scope), 'dict key'))] = defined(evaluate(v, scope), 'dict value');
      return o;
    }
    case 'attr': {
      const o = evaluate(n.o, scope);
      if (o instanceof HostView) return o.get(n.n);
      const d = defined(o, describe(n.o));
      if (isDict(d) && Object.prototype.hasOwnProperty.call(d, n.n)) return d[n.n];
      return getItem(d, n.n, describe(n.o));
    }
    case 'index':
      return getItem(evaluate(n.o, scope), defined(evaluate(n.i, scope), 'index'), describe(n.o));
    case 'call':
      return call(n, scope);
    case 'filter':
      return applyFilter(n, scope);
    case 'test': {
      const r = applyTest(n.n, evaluate(n.o, scope), n.args.map((a) => evaluate(a, scope)));
      return n.neg ? !r : r;
    }
    case 'not':
      return !truthy(evaluate(n.o, scope));
    case 'neg': {
      const v = defined(evaluate(n.o, scope), 'operand of "-"');
      if (typeof v !== 'number') throw new Unresolvable(`cannot negate ${pyStr(v, true)}`);
      return -v;
    }
    case 'cond':
      if (truthy(evaluate(n.c, scope))) return evaluate(n.a, scope);
      return n.b ? evaluate(n.b, scope) : new Undef('conditional expression without else');
    case 'bin':
      return binary(n.op, n.l, n.r, scope);
  }
}

function binary(op: string, ln: Node, rn: Node, scope: Scope): unknown {
  if (op === 'and') {
    const l = evaluate(ln, scope);
    return truthy(l) ? evaluate(rn, scope) : l;
  }
  if (op === 'or') {
    const l = evaluate(ln, scope);
    return truthy(l) ? l : evaluate(rn, scope);
  }
  if (op === 'in') return contains(evaluate(rn, scope), evaluate(ln, scope));
  if (op === 'not in') return !contains(evaluate(rn, scope), evaluate(ln, scope));
  const l = defined(evaluate(ln, scope), `left of "${op}"`);
  const r = defined(evaluate(rn, scope), `right of "${op}"`);
  switch (op) {
    case '==':
      return eq(l, r);
    case '!=':
      return !eq(l, r);
    case '~':
      return pyStr(l) + pyStr(r);
    case '+':
      if (Array.isArray(l) && Array.isArray(r)) return [...l, ...r];
      if (typeof l === 'string' && typeof r === 'string') return l + r;
      if (typeof l === 'number' && typeof r === 'number') return l + r;
      break;
    case '-':
    case '*':
    case '/':
    case '//':
    case '%':
    case '**':
    case '<':
    case '>':
    case '<=':
    case '>=':
      if (op === '*' && typeof l === 'string' && typeof r === 'number') return l.repeat(r);
      if (op === '*' && Array.isArray(l) && typeof r === 'number') return Array.from({ length: r }, () => l).flat();
      if (typeof l === 'number' && typeof r === 'number') {
        if ((op === '/' || op === '//' || op === '%') && r === 0) throw new Unresolvable('division by zero');
        return { '-': l - r, '*': l * r, '/': l / r, '//': Math.floor(l / r), '%': ((l % r) + r) % r, '**': l ** r, '<': l < r, '>': l > r, '<=': l <= r, '>=': l >= r }[op];
      }
      if (typeof l === 'string' && typeof r === 'string' && ['<', '>', '<=', '>='].includes(op)) {
        return ({ '<': l < r, '>': l > r, '<=': l <= r, '>=': l >= r } as Record<string, boolean>)[op];
      }
      break;
  }
  throw new Unresolvable(`unsupported operands for "${op}": ${pyStr(l, true)} and ${pyStr(r, true)}`);
}

function call(n: Extract<Node, { k: 'call' }>, scope: Scope): unknown {
  const fname = n.f.k === 'name' ? n.f.n : n.f.k === 'attr' ? n.f.n : '';
  const args = () => n.args.map((a) => defined(evaluate(a, scope), `argument of ${fname}()`));
  if (n.f.k === 'name' && (fname === 'lookup' || fname === 'query' || fname === 'q')) {
    const a = args();
    const plugin = String(a[0]);
    if ((fname === 'query' || fname === 'q') && plugin === 'inventory_hostnames') {
      return a.slice(1).flatMap((p) => scope.inventoryHostnames(String(p)));
    }
    throw new Unresolvable(`${fname}('${plugin}', …) runs on the Ansible control host at run time`);
  }
  if (n.f.k === 'name' && fname === 'range') {
    const a = args().map(Number);
    const [start, stop, step] = a.length === 1 ? [0, a[0]!, 1] : [a[0]!, a[1]!, a[2] ?? 1];
    const out: number[] = [];
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
    return out;
  }
  if (n.f.k === 'attr') {
    const o = defined(evaluate(n.f.o, scope), describe(n.f.o));
    const a = args();
    if (isDict(o)) {
      if (fname === 'get') return Object.prototype.hasOwnProperty.call(o, String(a[0])) ? o[String(a[0])] : (a[1] ?? null);
      if (fname === 'keys') return Object.keys(o);
      if (fname === 'values') return Object.values(o);
      if (fname === 'items') return Object.entries(o);
    }
    if (typeof o === 'string') {
      if (fname === 'split') return a[0] === undefined ? o.trim().split(/\s+/) : o.split(String(a[0]));
      if (fname === 'startswith') return o.startsWith(String(a[0]));
      if (fname === 'endswith') return o.endsWith(String(a[0]));
      if (fname === 'lower') return o.toLowerCase();
      if (fname === 'upper') return o.toUpperCase();
      if (fname === 'strip') return o.trim();
      if (fname === 'replace') return o.split(String(a[0])).join(String(a[1]));
      if (fname === 'format') {
        let i = 0;
        return o.replace(/%[sd]/g, () => pyStr(a[i++]));
      }
    }
  }
  throw new Unresolvable(`calling ${describe(n.f)}() is not supported by the importer`);
}

// Kayobe's network attribute filters (kayobe/plugins/filter/networks.py): `<net>_<attr>` lookups.
const NET_ATTRS: Record<string, string> = {
  net_cidr: 'cidr',
  net_gateway: 'gateway',
  net_vlan: 'vlan',
  net_mtu: 'mtu',
  net_interface: 'interface',
  net_parent: 'parent',
  net_vip_address: 'vip_address',
  net_fqdn: 'fqdn',
  net_allocation_pool_start: 'allocation_pool_start',
  net_allocation_pool_end: 'allocation_pool_end',
  net_inspection_allocation_pool_start: 'inspection_allocation_pool_start',
  net_inspection_allocation_pool_end: 'inspection_allocation_pool_end',
  net_neutron_allocation_pool_start: 'neutron_allocation_pool_start',
  net_neutron_allocation_pool_end: 'neutron_allocation_pool_end',
  net_routes: 'routes',
  net_rules: 'rules',
  net_bridge_ports: 'bridge_ports',
  net_bond_slaves: 'bond_slaves',
  net_physical_network: 'physical_network',
};

function applyFilter(n: Extract<Node, { k: 'filter' }>, scope: Scope): unknown {
  const name = n.n.replace(/^(ansible\.builtin|ansible\.utils|community\.general)\./, '');
  const raw = evaluate(n.o, scope);
  const args = () => n.args.map((a) => defined(evaluate(a, scope), `argument of ${name}`));
  if (name === 'default' || name === 'd') {
    const a = n.args.map((x) => evaluate(x, scope));
    const useFalsy = toBool(a[1] ?? (n.kwargs['boolean'] ? evaluate(n.kwargs['boolean'], scope) : false));
    if (raw instanceof Undef || (useFalsy && !truthy(raw))) return a[0] === undefined ? '' : a[0];
    return raw;
  }
  if (name === 'mandatory') return defined(raw, 'mandatory');
  const v = defined(raw, describe(n.o));
  if (name in NET_ATTRS || name === 'net_ip') {
    const a = args();
    const host = a[0] === undefined ? undefined : String(a[0]);
    const net = String(v);
    if (name === 'net_ip') {
      const ips = host === undefined ? scope.variable(`${net}_ips`) : scope.hostVariable(host, `${net}_ips`);
      const me = host ?? scope.variable('inventory_hostname');
      return isDict(ips) && Object.prototype.hasOwnProperty.call(ips, String(me)) ? ips[String(me)] : null;
    }
    const attr = `${net}_${NET_ATTRS[name]!}`;
    const r = host === undefined ? scope.variable(attr) : scope.hostVariable(host, attr);
    return r instanceof Undef ? null : r;
  }
  switch (name) {
    case 'bool':
      return toBool(v);
    case 'int': {
      const x = typeof v === 'boolean' ? Number(v) : parseInt(String(v), 10);
      return Number.isNaN(x) ? Number(args()[0] ?? 0) : x;
    }
    case 'float': {
      const x = parseFloat(String(v));
      return Number.isNaN(x) ? 0 : x;
    }
    case 'string':
      return pyStr(v);
    case 'lower':
      return pyStr(v).toLowerCase();
    case 'upper':
      return pyStr(v).toUpperCase();
    case 'trim':
      return pyStr(v).trim();
    case 'length':
    case 'count':
      if (typeof v === 'string' || Array.isArray(v)) return v.length;
      if (isDict(v)) return Object.keys(v).length;
      break;
    case 'list':
      if (Array.isArray(v)) return v;
      if (typeof v === 'string') return [...v];
      if (isDict(v)) return Object.keys(v);
      break;
    case 'unique':
      if (Array.isArray(v)) return v.filter((x, i) => v.findIndex((y) => eq(x, y)) === i);
      break;
    case 'sort':
      if (Array.isArray(v)) {
        const reverse = toBool(n.kwargs['reverse'] ? evaluate(n.kwargs['reverse'], scope) : args()[0]);
        const s = [...v].sort((a, b) => (pyStr(a) < pyStr(b) ? -1 : pyStr(a) > pyStr(b) ? 1 : 0));
        return reverse ? s.reverse() : s;
      }
      break;
    case 'first':
      if (Array.isArray(v) || typeof v === 'string') return v.length ? v[0] : new Undef(`${describe(n.o)} | first`);
      break;
    case 'last':
      if (Array.isArray(v) || typeof v === 'string') return v.length ? v[v.length - 1] : new Undef(`${describe(n.o)} | last`);
      break;
    case 'join':
      if (Array.isArray(v)) return v.map((x) => pyStr(x)).join(String(args()[0] ?? ''));
      break;
    case 'replace':
      return pyStr(v).split(String(args()[0])).join(String(args()[1]));
    case 'regex_replace': {
      const [re, rep] = args();
      return pyStr(v).replace(new RegExp(String(re), 'g'), String(rep ?? '').replace(/\\(\d)/g, '$$$1'));
    }
    case 'combine': {
      if (!isDict(v)) break;
      let out: Record<string, unknown> = { ...v };
      for (const a of args()) if (isDict(a)) out = { ...out, ...a };
      return out;
    }
    case 'union':
    case 'difference':
    case 'intersect': {
      const other = args()[0];
      if (!Array.isArray(v) || !Array.isArray(other)) break;
      const u = name === 'union' ? [...v, ...other] : name === 'difference' ? v.filter((x) => !other.some((y) => eq(x, y))) : v.filter((x) => other.some((y) => eq(x, y)));
      return u.filter((x, i) => u.findIndex((y) => eq(x, y)) === i);
    }
    case 'flatten':
      if (Array.isArray(v)) return v.flat(Infinity);
      break;
    case 'dict2items':
      if (isDict(v)) return Object.entries(v).map(([key, value]) => ({ key, value }));
      break;
    case 'items2dict':
      if (Array.isArray(v)) return Object.fromEntries(v.filter(isDict).map((e) => [String(e['key']), e['value']]));
      break;
    case 'select':
    case 'reject': {
      if (!Array.isArray(v)) break;
      const a = args();
      const keep = (x: unknown) => (a.length === 0 ? truthy(x) : applyTest(String(a[0]), x, a.slice(1)));
      return v.filter((x) => (name === 'select' ? keep(x) : !keep(x)));
    }
    case 'selectattr':
    case 'rejectattr': {
      if (!Array.isArray(v)) break;
      const a = args();
      const attr = String(a[0]);
      const keep = (x: unknown) => {
        const av = isDict(x) && attr in x ? x[attr] : new Undef(attr);
        return a.length < 2 ? truthy(av) : applyTest(String(a[1]), av, a.slice(2));
      };
      return v.filter((x) => (name === 'selectattr' ? keep(x) : !keep(x)));
    }
    case 'map': {
      if (!Array.isArray(v)) break;
      if (n.kwargs['attribute']) {
        const attr = String(evaluate(n.kwargs['attribute'], scope));
        return v.map((x) => (isDict(x) && attr in x ? x[attr] : new Undef(attr)));
      }
      const a = args();
      const f = String(a[0]);
      return v.map((x) => applyFilter({ k: 'filter', o: { k: 'lit', v: x }, n: f, args: a.slice(1).map((y) => ({ k: 'lit', v: y })), kwargs: {} }, scope));
    }
    case 'to_json':
      return JSON.stringify(v);
    case 'abs':
      if (typeof v === 'number') return Math.abs(v);
      break;
    case 'min':
    case 'max':
      if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return name === 'min' ? Math.min(...(v as number[])) : Math.max(...(v as number[]));
      break;
    default:
      throw new Unresolvable(`filter "${name}" is not supported by the importer`);
  }
  throw new Unresolvable(`filter "${name}" cannot be applied to ${pyStr(v, true)}`);
}

function applyTest(name: string, v: unknown, args: unknown[]): boolean {
  switch (name) {
    case 'defined':
      return !(v instanceof Undef);
    case 'undefined':
      return v instanceof Undef;
    case 'none':
      return defined(v, 'is none') === null;
    case 'string':
      return typeof defined(v, 'is string') === 'string';
    case 'number':
      return typeof defined(v, 'is number') === 'number';
    case 'boolean':
      return typeof defined(v, 'is boolean') === 'boolean';
    case 'mapping':
      return isDict(defined(v, 'is mapping'));
    case 'sequence':
    case 'iterable':
      return Array.isArray(defined(v, 'is sequence')) || typeof v === 'string' || isDict(v);
    case 'equalto':
    case 'eq':
    case 'sameas':
    case '==':
      return eq(defined(v, `is ${name}`), args[0]);
    case 'ne':
    case '!=':
      return !eq(defined(v, `is ${name}`), args[0]);
    case 'in':
      return contains(args[0], v);
    case 'true':
      return defined(v, 'is true') === true;
    case 'false':
      return defined(v, 'is false') === false;
    case 'truthy':
      return truthy(v);
    case 'falsy':
      return !truthy(v);
    case 'match':
      return new RegExp(`^(?:${String(args[0])})`).test(pyStr(defined(v, 'is match')));
    case 'search':
      return new RegExp(String(args[0])).test(pyStr(defined(v, 'is search')));
    default:
      throw new Unresolvable(`test "${name}" is not supported by the importer`);
  }
}

// ---------------------------------------------------------------------------------------------
// Templates

type Part = { k: 'text'; s: string } | { k: 'expr'; src: string } | { k: 'if'; branches: { cond: string | null; body: Part[] }[] };

const templateCache = new Map<string, Part[]>();

/** Whether a string contains Jinja syntax at all. */
export function isTemplate(s: string): boolean {
  return s.includes('{{') || s.includes('{%');
}

function parseTemplate(s: string): Part[] {
  const cached = templateCache.get(s);
  if (cached) return cached;
  const re = /\{\{([\s\S]*?)\}\}|\{%-?([\s\S]*?)-?%\}|\{#[\s\S]*?#\}/g;
  const root: Part[] = [];
  const stack: { part: Extract<Part, { k: 'if' }>; body: Part[] }[] = [];
  let body = root;
  let last = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (m.index > last) body.push({ k: 'text', s: s.slice(last, m.index) });
    last = m.index + m[0].length;
    if (m[1] !== undefined) body.push({ k: 'expr', src: m[1] });
    else if (m[2] !== undefined) {
      const stmt = m[2].trim();
      const [kw] = stmt.split(/\s+/, 1);
      const rest = stmt.slice((kw ?? '').length).trim();
      if (kw === 'if') {
        const part: Extract<Part, { k: 'if' }> = { k: 'if', branches: [{ cond: rest, body: [] }] };
        body.push(part);
        stack.push({ part, body });
        body = part.branches[0]!.body;
      } else if ((kw === 'elif' || kw === 'else') && stack.length) {
        const top = stack[stack.length - 1]!;
        const b = { cond: kw === 'elif' ? rest : null, body: [] as Part[] };
        top.part.branches.push(b);
        body = b.body;
      } else if (kw === 'endif' && stack.length) {
        body = stack.pop()!.body;
      } else throw new Unresolvable(`Jinja statement "{% ${stmt} %}" is not supported by the importer`);
    }
  }
  if (stack.length) throw new Unresolvable('"{% if %}" without "{% endif %}"');
  if (last < s.length) body.push({ k: 'text', s: s.slice(last) });
  templateCache.set(s, root);
  return root;
}

function renderParts(parts: Part[], scope: Scope): string {
  let out = '';
  for (const p of parts) {
    if (p.k === 'text') out += p.s;
    else if (p.k === 'expr') out += pyStr(defined(evaluate(parseExpression(p.src), scope), p.src.trim()));
    else {
      const branch = p.branches.find((b) => b.cond === null || truthy(evaluate(parseExpression(b.cond), scope)));
      if (branch) out += renderParts(branch.body, scope);
    }
  }
  return out;
}

/**
 * Renders one string the way Ansible templates a variable value: a lone `{{ expr }}` keeps the
 * native type, anything else becomes a string. Throws Unresolvable.
 */
export function renderString(s: string, scope: Scope): unknown {
  if (!isTemplate(s)) return s;
  const parts = parseTemplate(s);
  const exprs = parts.filter((p) => p.k !== 'text');
  const onlyWhitespace = parts.every((p) => p.k !== 'text' || p.s.trim() === '');
  if (exprs.length === 1 && exprs[0]!.k === 'expr' && onlyWhitespace) {
    const v = evaluate(parseExpression(exprs[0]!.src), scope);
    return defined(v, exprs[0]!.src.trim());
  }
  return renderParts(parts, scope);
}
