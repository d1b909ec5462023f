/** The soak's result as text for a person: what ran, what was injected, and every violation with its evidence. */
import type { ChaosResult } from "./run";

/** Violations printed per invariant; the rest are in result.json. */
const shownPerInvariant = 8;

function clip(value: unknown, max = 700): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function formatReport(result: ChaosResult): string {
  const lines: string[] = [];
  const header = `${result.store} store, seed ${result.seed}, ${result.seconds} s of traffic, ${result.customers} customers`;
  lines.push(`\n=== chaos soak: ${header} (${(result.wallMs / 1000).toFixed(0)} s wall) ===`);
  lines.push("attempts by operation and outcome:");
  for (const [kind, counts] of Object.entries(result.attemptsByKind)) {
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const parts = Object.entries(counts)
      .sort(([, a], [, b]) => b - a)
      .map(([label, count]) => `${label}: ${count}`);
    lines.push(`  ${kind.padEnd(7)} ${String(total).padStart(5)}  ${parts.join(", ")}`);
  }
  lines.push(
    `faults injected: ${
      Object.entries(result.faultsByKind)
        .map(([kind, count]) => `${kind} ×${count}`)
        .join(", ") || "none"
    }`,
  );
  for (const failed of result.failedFaults) lines.push(`  (failed to inject: ${failed})`);
  lines.push(
    `settled in ${result.settle.ms} ms (bound ${result.settle.boundMs} ms), ${result.settle.left.length} left unresolved`,
  );
  result.reconcilerRuns.forEach((run, index) => {
    lines.push(`reconciler run ${index + 1}: exit ${run.exitCode}, ${run.repaired} repaired`);
  });
  if (result.reconcilerRepairs.length > 0) {
    lines.push(`WARNING: ${result.reconcilerRepairs.length} reconciler repairs (stray charges refunded; should be 0):`);
    for (const { charge, payment } of result.reconcilerRepairs.slice(0, shownPerInvariant)) {
      lines.push(
        `  charge ${charge.id} ${charge.amountCents} cents ${charge.reference}; payment ${clip(payment, 300)}`,
      );
    }
  }
  if (result.excusedByRedisRestart > 0) {
    lines.push(
      `${result.excusedByRedisRestart} same-key answers differ only in idempotency meta after a Redis restart`,
    );
  }

  const byInvariant = new Map<string, typeof result.violations>();
  for (const violation of result.violations) {
    byInvariant.set(violation.invariant, [...(byInvariant.get(violation.invariant) ?? []), violation]);
  }
  lines.push(`violations: ${result.violations.length}`);
  for (const [invariant, violations] of [...byInvariant].sort(([a], [b]) => (a < b ? -1 : 1))) {
    lines.push(`  [${invariant}] ×${violations.length}`);
    for (const violation of violations.slice(0, shownPerInvariant)) {
      lines.push(`    - ${violation.message}`);
      if (violation.evidence !== undefined) lines.push(`      evidence: ${clip(violation.evidence)}`);
    }
    if (violations.length > shownPerInvariant) {
      lines.push(`    … ${violations.length - shownPerInvariant} more in result.json`);
    }
  }
  lines.push(`history, ledgers, result and server logs: ${result.outputDir}`);
  lines.push(result.passed ? "PASSED" : "FAILED");
  return lines.join("\n");
}
