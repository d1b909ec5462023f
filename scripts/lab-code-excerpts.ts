/**
 * `npm run lab:excerpts`: takes the functions ui/lab/protecting-code.ts names for each lab scenario out of the
 * repository's own files (TypeScript compiler API) and writes ui/lab/code-excerpts.generated.json, which the lab
 * shows under each scenario. `build`, `dev` and `typecheck` run it first.
 *
 * Any name that cannot be found (a file gone, a function renamed or moved, a name that became ambiguous) is printed
 * on a line of its own and the script exits 1 without writing: the build fails rather than show stale code.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { type CodeExcerpt, type ProtectingFunction, protectingCode } from "../ui/lab/protecting-code";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const output = "ui/lab/code-excerpts.generated.json";

/** Top-level declarations named `name`: a function, a `const`, or a class method (`Class.method` or `method`). */
function declarationsNamed(source: ts.SourceFile, name: string): ts.Node[] {
  const dot = name.indexOf(".");
  const className = dot >= 0 ? name.slice(0, dot) : null;
  const member = dot >= 0 ? name.slice(dot + 1) : name;
  const found: ts.Node[] = [];
  const named = (node: { name?: ts.Node }) =>
    node.name !== undefined && (ts.isIdentifier(node.name) || ts.isPrivateIdentifier(node.name))
      ? node.name.text
      : undefined;
  for (const statement of source.statements) {
    if (className === null && ts.isFunctionDeclaration(statement) && statement.body && named(statement) === member) {
      found.push(statement);
    }
    if (className === null && ts.isVariableStatement(statement)) {
      const constant = (statement.declarationList.flags & ts.NodeFlags.Const) !== 0;
      const declared = statement.declarationList.declarations.some((declaration) => named(declaration) === member);
      if (constant && declared) found.push(statement);
    }
    if (ts.isClassDeclaration(statement) && (className === null || named(statement) === className)) {
      for (const element of statement.members) {
        const isMethod =
          (ts.isMethodDeclaration(element) && element.body !== undefined) || ts.isConstructorDeclaration(element);
        const isArrowProperty =
          ts.isPropertyDeclaration(element) &&
          element.initializer !== undefined &&
          (ts.isArrowFunction(element.initializer) || ts.isFunctionExpression(element.initializer));
        const elementName = ts.isConstructorDeclaration(element) ? "constructor" : named(element);
        if ((isMethod || isArrowProperty) && elementName === member) found.push(element);
      }
    }
  }
  return found;
}

function dedent(lines: string[]): string {
  const indents = lines.filter((line) => line.trim() !== "").map((line) => line.length - line.trimStart().length);
  const common = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((line) => line.slice(common).trimEnd()).join("\n");
}

/** The function's excerpt, or why there is none. */
function excerptOf(wanted: ProtectingFunction, sources: Map<string, ts.SourceFile>): CodeExcerpt | string {
  const absolute = path.join(root, wanted.file);
  let source = sources.get(wanted.file);
  if (!source) {
    if (!existsSync(absolute)) return `${wanted.file}: no such file (looking for ${wanted.name})`;
    const kind = wanted.file.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
    source = ts.createSourceFile(absolute, readFileSync(absolute, "utf8"), ts.ScriptTarget.Latest, true, kind);
    sources.set(wanted.file, source);
  }
  const found = declarationsNamed(source, wanted.name);
  if (found.length === 0) return `${wanted.file}: no function named ${wanted.name}`;
  if (found.length > 1) {
    return `${wanted.file}: ${found.length} declarations named ${wanted.name}; name one as Class.method`;
  }
  const node = found[0] as ts.Node;
  // From the JSDoc above the declaration (when it has one) to its last character.
  const startLine = source.getLineAndCharacterOfPosition(node.getStart(source, true)).line;
  const endLine = source.getLineAndCharacterOfPosition(node.getEnd()).line;
  const lines = source.text.split(/\r?\n/).slice(startLine, endLine + 1);
  return { file: wanted.file, name: wanted.name, startLine: startLine + 1, endLine: endLine + 1, code: dedent(lines) };
}

function main(): number {
  const sources = new Map<string, ts.SourceFile>();
  const excerpts: Record<string, CodeExcerpt[]> = {};
  const missing: string[] = [];
  for (const [scenarioId, functions] of Object.entries(protectingCode)) {
    excerpts[scenarioId] = [];
    for (const wanted of functions) {
      const excerpt = excerptOf(wanted, sources);
      if (typeof excerpt === "string") missing.push(`lab-code-excerpts: scenario ${scenarioId}: ${excerpt}`);
      else excerpts[scenarioId].push(excerpt);
    }
  }
  if (missing.length > 0) {
    for (const line of missing) console.error(line);
    console.error(`lab-code-excerpts: fix ui/lab/protecting-code.ts; ${output} was not written.`);
    return 1;
  }
  const text = `${JSON.stringify(excerpts, null, 2)}\n`;
  const target = path.join(root, output);
  // Written only when it changed, so that `next dev` does not reload for nothing.
  const unchanged = existsSync(target) && readFileSync(target, "utf8") === text;
  if (!unchanged) writeFileSync(target, text);
  const count = Object.values(excerpts).reduce((sum, list) => sum + list.length, 0);
  console.log(`lab-code-excerpts: ${count} functions for ${Object.keys(excerpts).length} scenarios in ${output}`);
  return 0;
}

process.exitCode = main();
