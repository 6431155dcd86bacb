/**
 * A small Jinja2 evaluator for the expressions Kayobe configurations use (pure, no I/O).
 *
 * It covers what the reference configurations and Kayobe's own defaults contain: `{{ expr }}`,
 * text around expressions (`eth2.{{ internal_vlan }}`), `{% if %}…{% elif %}…{% else %}…{% endif %}`,
 * `{% for %}`, `{% set %}`, `{% raw %}` and whitespace control (see "Templates" below),
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
  /** Line within the template (1-based) of the statement or expression that failed, when known. */
  line?: number;
  constructor(
    message: string,
    /** The template variable that is undefined or a gathered fact, when that is the cause. */
    readonly variable?: string,
  ) {
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
    this.expectEnd();
    return n;
  }

  /** An expression or an unparenthesized tuple (`{% set a, b = 1, 2 %}`). */
  parseTuple(): Node {
    const first = this.expr();
    if (!this.isOp(',')) {
      this.expectEnd();
      return first;
    }
    const items = [first];
    while (this.isOp(',')) {
      this.next();
      if (this.peek().t === 'end') break;
      items.push(this.expr());
    }
    this.expectEnd();
    return { k: 'list', items };
  }

  /** What follows `in` in a `{% for %}` head: an expression without a conditional, then an optional `if` filter. */
  parseForIter(): { iter: Node; filter: Node | null } {
    const iter = this.or();
    let filter: Node | null = null;
    if (this.isName('if')) {
      this.next();
      filter = this.expr();
    }
    if (this.isName('recursive')) throw new Unresolvable('recursive loops are not supported by the importer');
    this.expectEnd();
    return { iter, filter };
  }

  private expectEnd(): void {
    if (this.peek().t !== 'end') throw new Unresolvable(`unexpected "${tokText(this.peek())}" in expression "${this.src}"`);
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

function parser(src: string): Parser {
  return new Parser(lex(src), src.trim());
}

export function parseExpression(src: string): Node {
  let n = parseCache.get(src);
  if (!n) {
    n = parser(src).parseAll();
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
  if (v instanceof Undef) throw new Unresolvable(`"${v.name}" is undefined${what ? ` (${what})` : ''}`, v.name);
  return v;
}

/** Python truthiness. */
export function truthy(v: unknown): boolean {
  if (v instanceof Undef) throw new Unresolvable(`"${v.name}" is undefined`, v.name);
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
  return new Unresolvable(`"${name}" is a fact gathered from the host at run time`, name);
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
  if (n.f.k === 'name' && (fname === 'namespace' || fname === 'dict')) {
    const o: Record<string, unknown> = {};
    for (const a of args()) if (isDict(a)) Object.assign(o, a);
    for (const [k, v] of Object.entries(n.kwargs)) o[k] = defined(evaluate(v, scope), `argument of ${fname}()`);
    if (fname === 'namespace') NAMESPACES.add(o);
    return o;
  }
  if (n.f.k === 'attr' && fname === 'cycle') {
    const o = evaluate(n.f.o, scope);
    if (isDict(o) && LOOPS.has(o)) {
      const a = args();
      if (!a.length) throw new Unresolvable('loop.cycle() needs at least one argument');
      return a[Number(o['index0']) % a.length];
    }
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
    case 'dictsort':
      if (isDict(v)) return Object.entries(v).sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
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
//
// Statements: `{% if %}/{% elif %}/{% else %}/{% endif %}`, `{% for %}` (targets, `if` filter,
// `{% else %}`, `loop.*`, nesting), `{% set x = … %}`, `{% set a, b = … %}`, `{% set ns.x = … %}`
// (with `namespace()`), `{% set x %}…{% endset %}`, `{% raw %}…{% endraw %}`, `{# … #}`.
// Scoping as in Jinja: a `for` body is a new scope per iteration (its `set`s do not leak out; use a
// namespace), `if` is not. Whitespace as Ansible configures Jinja: `trim_blocks` (the newline after a
// block or comment tag is removed), no `lstrip_blocks`, and `-` on either side of a tag strips the
// whitespace (newlines included) on that side; `+` is accepted.

/** Namespaces created by `namespace()`: the only objects `{% set a.b = … %}` may assign into. */
const NAMESPACES = new WeakSet<object>();
/** Loop objects (`loop`), for `loop.cycle()`. */
const LOOPS = new WeakSet<object>();

type Stmt =
  | { k: 'text'; s: string }
  | { k: 'expr'; node: Node; src: string; line: number }
  | { k: 'if'; branches: { cond: Node | null; line: number; body: Stmt[] }[] }
  | { k: 'for'; targets: string[]; iter: Node; filter: Node | null; body: Stmt[]; orElse: Stmt[] | null; line: number }
  | { k: 'set'; targets: string[]; attr: string | null; value: Node; line: number }
  | { k: 'setblock'; target: string; body: Stmt[]; line: number };

/** A lexed piece of template source. */
type Piece =
  | { t: 'data'; s: string }
  | { t: 'var'; src: string; line: number }
  | { t: 'block'; src: string; line: number };

const templateCache = new Map<string, Stmt[]>();

/** Whether a string contains Jinja syntax at all. */
export function isTemplate(s: string): boolean {
  return s.includes('{{') || s.includes('{%') || s.includes('{#');
}

function lineAt(s: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

/** Finds the end of a `{{ … }}` or `{% … %}` tag body from `from`, skipping quoted strings. Returns the index of the closer. */
function tagEnd(s: string, from: number, closer: string): number {
  let quote: string | null = null;
  for (let i = from; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (s.startsWith(closer, i)) return i;
  }
  return -1;
}

/** Splits a template into data and tags, applying whitespace control and trim_blocks. */
function lexTemplate(s: string): Piece[] {
  const pieces: Piece[] = [];
  let stripNext = false; // `-%}` etc.: strip the leading whitespace of the next data
  let trimNewline = false; // trim_blocks: drop one newline at the start of the next data
  const pushData = (d: string) => {
    if (stripNext) d = d.replace(/^\s+/, '');
    else if (trimNewline) d = d.replace(/^\r?\n/, '');
    stripNext = trimNewline = false;
    if (d) pieces.push({ t: 'data', s: d });
  };
  const stripPrev = () => {
    const last = pieces[pieces.length - 1];
    if (last?.t === 'data') {
      last.s = last.s.replace(/\s+$/, '');
      if (!last.s) pieces.pop();
    }
  };
  let i = 0;
  while (i < s.length) {
    const open = s.slice(i).search(/\{[{%#]/);
    if (open < 0) {
      pushData(s.slice(i));
      break;
    }
    const at = i + open;
    const kind = s[at + 1]!;
    // The data before the tag is complete; its stripping by `{%-` happens below.
    pushData(s.slice(i, at));
    let start = at + 2;
    const minus = s[start] === '-';
    if (minus || s[start] === '+') start++;
    if (minus) stripPrev();
    const line = lineAt(s, at);
    const closer = kind === '{' ? '}}' : kind === '%' ? '%}' : '#}';
    const end = kind === '#' ? s.indexOf('#}', start) : tagEnd(s, start, closer);
    if (end < 0) {
      const u = new Unresolvable(`"${kind === '{' ? '{{' : kind === '%' ? '{%' : '{#'}" without "${closer}"`);
      u.line = line;
      throw u;
    }
    let body = s.slice(start, end);
    const rMinus = body.endsWith('-');
    const rPlus = body.endsWith('+');
    if (rMinus || rPlus) body = body.slice(0, -1);
    i = end + 2;
    stripNext = rMinus;
    trimNewline = !rMinus && !rPlus && kind !== '{';
    if (kind === '{') pieces.push({ t: 'var', src: body, line });
    else if (kind === '%') {
      if (body.trim() === 'raw') {
        // Raw: literal up to {% endraw %}; the newline after `{% raw %}` is kept.
        trimNewline = false;
        const m = /\{%([-+]?)\s*endraw\s*([-+]?)%\}/.exec(s.slice(i));
        if (!m) {
          const u = new Unresolvable('"{% raw %}" without "{% endraw %}"');
          u.line = line;
          throw u;
        }
        let raw = s.slice(i, i + m.index);
        if (stripNext) raw = raw.replace(/^\s+/, '');
        if (m[1] === '-') raw = raw.replace(/\s+$/, '');
        stripNext = false;
        if (raw) pieces.push({ t: 'data', s: raw });
        i += m.index + m[0].length;
        stripNext = m[2] === '-';
        trimNewline = m[2] === '';
      } else pieces.push({ t: 'block', src: body, line });
    }
  }
  // Merge adjacent data pieces (raw sections next to text).
  return pieces.reduce<Piece[]>((out, p) => {
    const last = out[out.length - 1];
    if (p.t === 'data' && last?.t === 'data') last.s += p.s;
    else out.push(p);
    return out;
  }, []);
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function withLine<T>(line: number, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Unresolvable && e.line === undefined) e.line = line;
    throw e;
  }
}

function parseTemplate(s: string): Stmt[] {
  const cached = templateCache.get(s);
  if (cached) return cached;
  type Open =
    | { kw: 'if'; stmt: Extract<Stmt, { k: 'if' }>; outer: Stmt[]; line: number }
    | { kw: 'for'; stmt: Extract<Stmt, { k: 'for' }>; outer: Stmt[]; line: number }
    | { kw: 'set'; stmt: Extract<Stmt, { k: 'setblock' }>; outer: Stmt[]; line: number };
  const root: Stmt[] = [];
  const stack: Open[] = [];
  let body = root;
  for (const p of lexTemplate(s)) {
    if (p.t === 'data') {
      body.push({ k: 'text', s: p.s });
      continue;
    }
    if (p.t === 'var') {
      body.push({ k: 'expr', node: withLine(p.line, () => parseExpression(p.src)), src: p.src.trim(), line: p.line });
      continue;
    }
    withLine(p.line, () => {
      const stmt = p.src.trim();
      const kw = /^\w+/.exec(stmt)?.[0] ?? '';
      const rest = stmt.slice(kw.length).trim();
      const top = stack[stack.length - 1];
      const unsupported = () => new Unresolvable(`Jinja statement "{% ${stmt} %}" is not supported by the importer`);
      switch (kw) {
        case 'if': {
          const st: Extract<Stmt, { k: 'if' }> = { k: 'if', branches: [{ cond: parseExpression(rest), line: p.line, body: [] }] };
          body.push(st);
          stack.push({ kw: 'if', stmt: st, outer: body, line: p.line });
          body = st.branches[0]!.body;
          return;
        }
        case 'elif':
        case 'else':
          if (top?.kw === 'if') {
            const branches = top.stmt.branches;
            if (branches[branches.length - 1]!.cond === null) throw new Unresolvable(`"{% ${kw} %}" after "{% else %}"`);
            const b = { cond: kw === 'elif' ? parseExpression(rest) : null, line: p.line, body: [] as Stmt[] };
            branches.push(b);
            body = b.body;
            return;
          }
          if (top?.kw === 'for' && kw === 'else' && top.stmt.orElse === null) {
            top.stmt.orElse = [];
            body = top.stmt.orElse;
            return;
          }
          throw new Unresolvable(`"{% ${kw} %}" outside "{% if %}"${kw === 'else' ? ' or "{% for %}"' : ''}`);
        case 'for': {
          const m = /^\(?\s*([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*,?\s*\)?\s+in\s+([\s\S]+)$/.exec(rest);
          if (!m) throw new Unresolvable(`cannot parse "{% ${stmt} %}"`);
          const { iter, filter } = parser(m[2]!).parseForIter();
          const st: Extract<Stmt, { k: 'for' }> = { k: 'for', targets: m[1]!.split(',').map((t) => t.trim()), iter, filter, body: [], orElse: null, line: p.line };
          body.push(st);
          stack.push({ kw: 'for', stmt: st, outer: body, line: p.line });
          body = st.body;
          return;
        }
        case 'set': {
          const m = /^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?(?:\s*,\s*[A-Za-z_]\w*)*)\s*=(?!=)\s*([\s\S]+)$/.exec(rest);
          if (m) {
            const lhs = m[1]!;
            const dotted = /^(\w+)\.(\w+)$/.exec(lhs);
            body.push({
              k: 'set',
              targets: dotted ? [dotted[1]!] : lhs.split(',').map((t) => t.trim()),
              attr: dotted ? dotted[2]! : null,
              value: parser(m[2]!).parseTuple(),
              line: p.line,
            });
            return;
          }
          if (NAME.test(rest)) {
            const st: Extract<Stmt, { k: 'setblock' }> = { k: 'setblock', target: rest, body: [], line: p.line };
            body.push(st);
            stack.push({ kw: 'set', stmt: st, outer: body, line: p.line });
            body = st.body;
            return;
          }
          throw unsupported();
        }
        case 'endif':
        case 'endfor':
        case 'endset': {
          const want = kw.slice(3);
          if (top?.kw !== want) throw new Unresolvable(`"{% ${kw} %}" without "{% ${want} %}"${top ? ` (the open block is "{% ${top.kw} %}" at line ${top.line})` : ''}`);
          stack.pop();
          body = top.outer;
          return;
        }
        default:
          throw unsupported();
      }
    });
  }
  const open = stack[stack.length - 1];
  if (open) {
    const u = new Unresolvable(`"{% ${open.kw} %}" without "{% end${open.kw} %}"`);
    u.line = open.line;
    throw u;
  }
  templateCache.set(s, root);
  return root;
}

/** A template-local scope (`set`, loop variables) over the caller's. `hostvars` does not see it. */
class Frame implements Scope {
  readonly locals = new Map<string, unknown>();
  constructor(private readonly parent: Scope) {}
  variable(name: string): unknown {
    return this.locals.has(name) ? this.locals.get(name) : this.parent.variable(name);
  }
  inventoryHostnames(pattern: string): string[] {
    return this.parent.inventoryHostnames(pattern);
  }
  hostVariable(host: string, name: string): unknown {
    return this.parent.hostVariable(host, name);
  }
  hasHost(host: string): boolean {
    return this.parent.hasHost(host);
  }
}

function iterate(v: unknown, what: string): unknown[] {
  const d = defined(v, what);
  if (Array.isArray(d)) return d;
  if (typeof d === 'string') return [...d];
  if (isDict(d)) return Object.keys(d);
  throw new Unresolvable(`cannot loop over ${pyStr(d, true)} (${what})`);
}

function assign(frame: Frame, targets: string[], value: unknown): void {
  if (targets.length === 1) {
    frame.locals.set(targets[0]!, value);
    return;
  }
  const items = Array.isArray(value) ? value : typeof value === 'string' ? [...value] : null;
  if (!items || items.length !== targets.length) throw new Unresolvable(`cannot unpack ${pyStr(value, true)} into ${targets.join(', ')}`);
  targets.forEach((t, i) => frame.locals.set(t, items[i]));
}

function renderStmts(stmts: Stmt[], frame: Frame): string {
  let out = '';
  for (const st of stmts) {
    switch (st.k) {
      case 'text':
        out += st.s;
        break;
      case 'expr':
        out += withLine(st.line, () => pyStr(defined(evaluate(st.node, frame), st.src)));
        break;
      case 'if': {
        const branch = st.branches.find((b) => b.cond === null || withLine(b.line, () => truthy(evaluate(b.cond!, frame))));
        if (branch) out += renderStmts(branch.body, frame);
        break;
      }
      case 'for': {
        const items = withLine(st.line, () => {
          const all = iterate(evaluate(st.iter, frame), 'for loop');
          if (!st.filter) return all;
          return all.filter((item) => {
            const f = new Frame(frame);
            assign(f, st.targets, item);
            return truthy(evaluate(st.filter!, f));
          });
        });
        items.forEach((item, i) => {
          const f = new Frame(frame);
          withLine(st.line, () => assign(f, st.targets, item));
          const loop: Record<string, unknown> = {
            index: i + 1,
            index0: i,
            revindex: items.length - i,
            revindex0: items.length - i - 1,
            first: i === 0,
            last: i === items.length - 1,
            length: items.length,
            depth: 1,
            depth0: 0,
            ...(i > 0 ? { previtem: items[i - 1] } : {}),
            ...(i < items.length - 1 ? { nextitem: items[i + 1] } : {}),
          };
          LOOPS.add(loop);
          f.locals.set('loop', loop);
          out += renderStmts(st.body, f);
        });
        if (!items.length && st.orElse) out += renderStmts(st.orElse, frame);
        break;
      }
      case 'set':
        withLine(st.line, () => {
          const value = defined(evaluate(st.value, frame), `value of {% set ${st.targets.join(', ')} %}`);
          if (st.attr === null) return assign(frame, st.targets, value);
          const ns = frame.variable(st.targets[0]!);
          if (!isDict(ns) || !NAMESPACES.has(ns)) throw new Unresolvable(`"{% set ${st.targets[0]!}.${st.attr} %}": "${st.targets[0]!}" is not a namespace()`);
          ns[st.attr] = value;
        });
        break;
      case 'setblock':
        frame.locals.set(st.target, renderStmts(st.body, new Frame(frame)));
        break;
    }
  }
  return out;
}

/** Ansible's `preserve_trailing_newlines`: the result keeps as many trailing newlines as the template had. */
function keepTrailingNewlines(template: string, out: string): string {
  const count = (x: string) => x.length - x.replace(/\n+$/, '').length;
  const missing = count(template) - count(out);
  return missing > 0 ? out + '\n'.repeat(missing) : out;
}

/**
 * Ansible's conversion of a rendered string (ansible-core up to 2.18, `convert_data`): a result that
 * starts with `[` or `{`, or is `True`/`False`, becomes the Python literal it spells when it is one.
 */
function literalOf(out: string): unknown {
  if (!(out.startsWith('[') || out.startsWith('{') || out === 'True' || out === 'False')) return out;
  try {
    const node = parseExpression(out);
    if (!isLiteral(node)) return out;
    return evaluate(node, LITERAL_SCOPE);
  } catch (e) {
    if (e instanceof Unresolvable) return out;
    throw e;
  }
}

function isLiteral(n: Node): boolean {
  switch (n.k) {
    case 'lit':
      return true;
    case 'neg':
      return n.o.k === 'lit' && typeof n.o.v === 'number';
    case 'list':
      return n.items.every(isLiteral);
    case 'dict':
      return n.entries.every(([k, v]) => isLiteral(k) && isLiteral(v));
    default:
      return false;
  }
}

const LITERAL_SCOPE: Scope = { variable: (n) => new Undef(n), inventoryHostnames: () => [], hostVariable: (_h, n) => new Undef(n), hasHost: () => false };

/**
 * Renders one string the way Ansible templates a variable value: a lone `{{ expr }}` keeps the
 * native type, anything else becomes a string (or the list, dict or boolean it spells). Throws
 * Unresolvable, with the template line of the failing statement or expression.
 */
export function renderString(s: string, scope: Scope): unknown {
  if (!isTemplate(s)) return s;
  const stmts = parseTemplate(s);
  const exprs = stmts.filter((p) => p.k !== 'text');
  const onlyWhitespace = stmts.every((p) => p.k !== 'text' || p.s.trim() === '');
  const lone = exprs[0];
  if (exprs.length === 1 && lone?.k === 'expr' && onlyWhitespace) {
    return withLine(lone.line, () => defined(evaluate(lone.node, scope), lone.src));
  }
  return literalOf(keepTrailingNewlines(s, renderStmts(stmts, new Frame(scope))));
}

/** What rendering a whole template file gives: its text, or why it cannot be rendered at import. */
export type TemplateFileResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly file: string; readonly line?: number; readonly variable?: string; readonly message: string };

/**
 * Renders a whole template file (Ansible's `template` module: always text). What cannot be computed
 * at import (a gathered fact, an undefined variable, an unsupported construct) is returned with the
 * file, the template line and the variable concerned.
 */
export function renderTemplateFile(file: string, text: string, scope: Scope): TemplateFileResult {
  try {
    return { ok: true, text: keepTrailingNewlines(text, renderStmts(parseTemplate(text), new Frame(scope))) };
  } catch (e) {
    if (!(e instanceof Unresolvable)) throw e;
    return { ok: false, file, ...(e.line !== undefined ? { line: e.line } : {}), ...(e.variable ? { variable: e.variable } : {}), message: e.message };
  }
}
