/**
 * Variable files (YAML 1.1, as PyYAML reads them for Ansible): parsed to a top-level mapping with
 * the line of every key. Vault-encrypted values (`!vault`) are kept opaque; `!unsafe` strings are
 * never templated.
 */
import { isMap, isScalar, LineCounter, parseDocument, type ScalarTag } from 'yaml';
import type { Problem, SourceLocation } from './problems';

/** A `!vault` value: encrypted, never decrypted by the importer. */
export class Vaulted {
  toJSON(): string {
    return '<vault-encrypted>';
  }
}

/** A `!unsafe` string: used as is, never templated. */
export class UnsafeText {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

/** PyYAML's tags as Ansible registers them; shared with YAML inventories. */
export const TAGS: ScalarTag[] = [
  { tag: '!vault', default: false, resolve: () => new Vaulted() },
  { tag: '!unsafe', default: false, resolve: (s: string) => new UnsafeText(s) },
];

export interface VarFile {
  readonly path: string;
  readonly vars: Record<string, unknown>;
  readonly lines: Record<string, number>;
}

export function location(f: VarFile, key: string): SourceLocation {
  const line = f.lines[key];
  return line === undefined ? { file: f.path } : { file: f.path, line };
}

/** Parses a variables file; problems (with file and line) are appended and `undefined` returned on error. */
export function parseVarFile(path: string, text: string, problems: Problem[]): VarFile | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { version: '1.1', customTags: TAGS, uniqueKeys: false, lineCounter, prettyErrors: false });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line ?? lineCounter.linePos(first.pos[0]).line;
    problems.push({
      severity: 'error',
      code: 'MalformedYaml',
      file: path,
      ...(line !== undefined ? { line } : {}),
      message: `invalid YAML: ${first.message.split('\n')[0]}`,
    });
    return undefined;
  }
  const lines: Record<string, number> = {};
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return { path, vars: {}, lines };
  if (!isMap(doc.contents)) {
    const line = doc.contents.range ? lineCounter.linePos(doc.contents.range[0]).line : undefined;
    problems.push({ severity: 'error', code: 'MalformedYaml', file: path, ...(line !== undefined ? { line } : {}), message: 'a variables file must be a mapping of variable names to values' });
    return undefined;
  }
  for (const item of doc.contents.items) {
    if (isScalar(item.key) && item.key.range) lines[String(item.key.value)] = lineCounter.linePos(item.key.range[0]).line;
  }
  const vars = doc.toJS({ maxAliasCount: 1000 }) as Record<string, unknown>;
  return { path, vars, lines };
}
