/**
 * The public surface as the TypeScript compiler sees it: every export of the package entries
 * (src/index.ts, src/onnx.ts, src/digits.ts, src/tensorboard.ts), namespaces (`nn`, `optim`, …) followed one level
 * down, each with its kind and whether its declaration carries a TSDoc summary.
 */
import ts from 'typescript';
import { fileURLToPath } from 'node:url';

export const ENTRIES = ['src/index.ts', 'src/onnx.ts', 'src/digits.ts', 'src/tensorboard.ts'];

export interface PublicExport {
  /** e.g. 'nn.Linear', 'add', 'onnx:exportOnnx'. */
  name: string;
  kind: 'class' | 'function' | 'variable' | 'interface' | 'type' | 'enum' | 'namespace' | 'other';
  /** The declaration's file (relative to the repository root). */
  file: string;
  hasSummary: boolean;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function kindOf(s: ts.Symbol): PublicExport['kind'] {
  const f = s.flags;
  if (f & ts.SymbolFlags.Class) return 'class';
  if (f & ts.SymbolFlags.Function) return 'function';
  if (f & ts.SymbolFlags.Enum) return 'enum';
  if (f & ts.SymbolFlags.Variable) return 'variable';
  if (f & ts.SymbolFlags.Interface) return 'interface';
  if (f & ts.SymbolFlags.TypeAlias) return 'type';
  if (f & (ts.SymbolFlags.ValueModule | ts.SymbolFlags.NamespaceModule)) return 'namespace';
  return 'other';
}

// A summary: non-empty doc text on the symbol, or (overloads, merged declarations) on any of
// its declarations' JSDoc comments.
function hasSummary(s: ts.Symbol, checker: ts.TypeChecker): boolean {
  if (ts.displayPartsToString(s.getDocumentationComment(checker)).trim().length > 0) return true;
  return (s.declarations ?? []).some((d) => ts.getJSDocCommentsAndTags(d).some((j) => ts.isJSDoc(j) && typeof j.comment === 'string' && j.comment.trim().length > 0));
}

/** The public exports of `entries` (paths relative to the repository root; default: the package entries). */
export function publicExports(entries: readonly string[] = ENTRIES): PublicExport[] {
  const program = ts.createProgram(entries.map((e) => ROOT + e), {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true, noEmit: true, skipLibCheck: true, types: ['node'], lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
  });
  const checker = program.getTypeChecker();
  const out: PublicExport[] = [];
  const seen = new Set<string>();
  const add = (prefix: string, sym: ts.Symbol, depth: number): void => {
    const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
    const name = prefix + sym.name;
    if (seen.has(name)) return;
    seen.add(name);
    const decl = target.declarations?.[0];
    const file = decl ? decl.getSourceFile().fileName.slice(ROOT.length) : '';
    const kind = decl && ts.isSourceFile(decl) ? 'namespace' : kindOf(target);
    if (kind === 'namespace' && depth === 0) {
      for (const inner of checker.getExportsOfModule(target)) add(`${name}.`, inner, depth + 1);
      return;
    }
    out.push({ name, kind, file, hasSummary: kind === 'namespace' || hasSummary(target, checker) });
  };
  for (const entry of entries) {
    const sf = program.getSourceFile(ROOT + entry);
    const mod = sf && checker.getSymbolAtLocation(sf);
    if (!mod) throw new Error(`cannot read the exports of ${entry}`);
    const prefix = entry === 'src/index.ts' ? '' : `${entry.replace(/^src\/|\.ts$/g, '')}:`;
    for (const s of checker.getExportsOfModule(mod)) add(prefix, s, 0);
  }
  return out;
}
