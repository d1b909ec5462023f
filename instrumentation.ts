/**
 * Runs once when the Next.js server starts: refuse to serve with a bad environment, then start this server's
 * share of the background work (one server at a time runs it; see server/background.ts). A server that can no
 * longer write its logs stops.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs" || process.env.NEXT_PHASE === "phase-production-build") return;
  exitWhenTheLogPipeIsGone();
  const { assertEnvOrExit } = await import("./server/env");
  const env = assertEnvOrExit();
  if (env.BACKGROUND_INTERVAL_MS === 0) return;
  const { startAppBackgroundWork } = await import("./server/background");
  startAppBackgroundWork(env);
}

/**
 * A server whose stdout or stderr pipe has lost its reader (the supervisor or log shipper that started it died)
 * would report each failed write by writing the error again, to the same pipe: measured, a loop of about 3,000
 * writes a second taking half a core, forever. It exits instead, for its supervisor to start a fresh one.
 */
function exitWhenTheLogPipeIsGone() {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(1);
    });
  }
}
