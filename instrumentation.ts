/**
 * Runs once when the Next.js server starts: refuse to serve with a bad environment, then start this server's
 * share of the background work (one server at a time runs it; see server/background.ts).
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs" || process.env.NEXT_PHASE === "phase-production-build") return;
  const { assertEnvOrExit } = await import("./server/env");
  const env = assertEnvOrExit();
  if (env.BACKGROUND_INTERVAL_MS === 0) return;
  const { startAppBackgroundWork } = await import("./server/background");
  startAppBackgroundWork(env);
}
