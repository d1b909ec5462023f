/** Runs once when the Next.js server starts: refuse to serve with a bad environment. */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs" || process.env.NEXT_PHASE === "phase-production-build") return;
  const { assertEnvOrExit } = await import("./server/env");
  assertEnvOrExit();
}
