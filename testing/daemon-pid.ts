/** The clusters' nodes run detached and write pid files; these read them, for stopping and crashing nodes. */
import { existsSync, readFileSync } from "node:fs";

/** The live process a pid file names, or null when the file is missing or its process is gone. */
export function runningPid(pidFile: string): number | null {
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 && isRunning(pid) ? pid : null;
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
