/**
 * The shop's code that held in a lab scenario, as the repository has it at build time: the functions
 * ui/lab/protecting-code.ts names, taken out by scripts/lab-code-excerpts.ts (`npm run lab:excerpts`).
 */
import generated from "./code-excerpts.generated.json";
import type { CodeExcerpt, CodeExcerpts } from "./protecting-code";

const excerpts: CodeExcerpts = generated;

function Excerpt({ excerpt }: { excerpt: CodeExcerpt }) {
  const lines = excerpt.code.split("\n");
  return (
    <div className="lab-code__excerpt">
      <p className="lab-code__where">
        <code>{excerpt.file}</code>: <strong>{excerpt.name}</strong> (lines {excerpt.startLine}–{excerpt.endLine})
      </p>
      {/* Long lines scroll sideways: the region takes the keyboard focus so that they can be read without a mouse. */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard */}
      <pre className="lab-code__source" tabIndex={0}>
        <code>
          {lines.map((line, index) => {
            const number = excerpt.startLine + index;
            return (
              <span className="lab-code__line" key={number}>
                <span className="lab-code__number" aria-hidden="true">
                  {number}
                </span>
                {line}
                {"\n"}
              </span>
            );
          })}
        </code>
      </pre>
    </div>
  );
}

export function ProtectingCode({ scenarioId }: { scenarioId: string }) {
  const list = excerpts[scenarioId] ?? [];
  if (list.length === 0) return null;
  const count = list.length === 1 ? "1 function" : `${list.length} functions`;
  return (
    <details className="lab-code" data-scenario-code={scenarioId}>
      <summary>The shop's code that held ({count})</summary>
      {list.map((excerpt) => (
        <Excerpt key={`${excerpt.file}:${excerpt.name}`} excerpt={excerpt} />
      ))}
    </details>
  );
}
