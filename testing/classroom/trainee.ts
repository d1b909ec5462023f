/**
 * One simulated trainee of the classroom run: a guest of the lab server who keeps its live timelines open and runs
 * every scenario of the lab page both ways, through the page's own scenario code (ui/lab/scenarios.ts), until the
 * class ends and every scenario has shown its lesson. A run that a bound refuses (429) waits as told and runs
 * again; a run disturbed by another trainee's crash (its counts not the lesson) is run again and counted.
 */
import { randomUUID } from "node:crypto";
import {
  LabBoundRefusal,
  type RunCounts,
  runScenarioBothWays,
  scenarioRunOver,
  scenarios,
  showsExpected,
} from "@/ui/lab/scenarios";
import { CookieJar } from "./cookie-jar";

export interface TraineeReport {
  name: string;
  /** Per scenario: runs made, runs that showed the lesson, runs disturbed, runs a bound refused. */
  scenarios: Record<string, { runs: number; held: number; disturbed: number; refused: number }>;
  crashesAsked: number;
  holdsAsked: number;
  timelinesOpen: number;
  /** A timeline beyond the trainee's bound was refused with 429, as it should be. */
  extraTimelineRefused: boolean;
  /** Events the timelines delivered. */
  eventsSeen: number;
  /** Why runs were disturbed: the first few reasons, as seen. */
  disturbances: string[];
}

const patternsFigures: Record<string, [string | RegExp, string | RegExp]> = {
  "versioned-update": [/\(second editor\)$/, /\(first editor\)$/],
  "upsert-link": ["2", "1"],
  "redis-lease": ["0", "1"],
  "redis-down": ["2", "0"],
};

interface PatternComparison {
  pattern: string;
  unprotected: { figure: string };
  protected: { figure: string };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function matches(figure: string, expected: string | RegExp): boolean {
  return typeof expected === "string" ? figure === expected : expected.test(figure);
}

export async function runTrainee(options: {
  labUrl: string;
  name: string;
  /** Runs scenarios until then… */
  until: number;
  /** …and past it, until every scenario has shown its lesson, but never past this. */
  giveUpAt: number;
  timelines: number;
}): Promise<TraineeReport> {
  const jar = new CookieJar();
  const report: TraineeReport = {
    name: options.name,
    scenarios: {},
    crashesAsked: 0,
    holdsAsked: 0,
    timelinesOpen: 0,
    extraTimelineRefused: false,
    eventsSeen: 0,
    disturbances: [],
  };
  const disturbed = (id: string, why: string) => {
    tally(id).disturbed += 1;
    if (report.disturbances.length < 5) report.disturbances.push(`${id}: ${why}`);
  };
  /**
   * The lab page's own calls (opening the lab, counting a run's results, the patterns), retried as a patient page
   * would while the process that had them is being restarted after someone's crash.
   */
  const patiently = async (url: string, init?: RequestInit) => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await jar.fetch(url, init);
        if (response.status !== 503 || attempt >= 10) return { status: response.status, body: await response.json() };
      } catch (error) {
        if (attempt >= 10) throw error;
      }
      await pause(1000);
    }
  };
  const call = (path: string, input: unknown) =>
    patiently(`${options.labUrl}/api/trpc/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(input),
    });
  const query = (path: string, input: unknown) =>
    patiently(`${options.labUrl}/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`);
  while ((await call("lab.start", {}).catch(() => ({ status: 0 }))).status !== 200) await pause(500);

  // The live timelines: as many as a trainee may hold, and one more that must be refused.
  const closing = new AbortController();
  const openTimeline = () =>
    jar.fetch(`${options.labUrl}/api/trpc/lab.timeline`, {
      headers: { accept: "text/event-stream" },
      signal: closing.signal,
    });
  const readers: Promise<void>[] = [];
  for (let index = 0; index < options.timelines; index += 1) {
    const stream = await openTimeline();
    if (stream.status !== 200 || !stream.body) continue;
    report.timelinesOpen += 1;
    readers.push(
      (async () => {
        const decoder = new TextDecoder();
        try {
          for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>) {
            report.eventsSeen += decoder.decode(chunk).split('"step":').length - 1;
          }
        } catch {
          // closed at the end of the class, or cut by a crash of the process serving it
        }
      })(),
    );
  }
  const extra = await openTimeline();
  report.extraTimelineRefused = extra.status === 429;
  await extra.body?.cancel();

  const tally = (id: string) => {
    report.scenarios[id] ??= { runs: 0, held: 0, disturbed: 0, refused: 0 };
    return report.scenarios[id];
  };
  const allIds = [...scenarios.map((scenario) => scenario.id), "patterns"];
  const done = () => allIds.every((id) => (report.scenarios[id]?.held ?? 0) > 0);
  const offset = Number.parseInt(options.name.replace(/\D/g, "") || "0", 10);

  while (Date.now() < options.giveUpAt && (Date.now() < options.until || !done())) {
    for (let index = 0; index < allIds.length && Date.now() < options.giveUpAt; index += 1) {
      const id = allIds[(index + offset) % allIds.length] as string;
      // Past the class's length, only what has not yet shown its lesson.
      if (Date.now() >= options.until && (report.scenarios[id]?.held ?? 0) > 0) continue;
      const counts = tally(id);
      counts.runs += 1;
      try {
        if (id === "patterns") {
          const compared = await call("lab.comparePatterns", { run: randomUUID() });
          const rows = (compared.body.result?.data ?? []) as PatternComparison[];
          const holds =
            rows.length === Object.keys(patternsFigures).length &&
            rows.every((row) => {
              const [unprotected, protectedSide] = patternsFigures[row.pattern] ?? ["", ""];
              return matches(row.unprotected.figure, unprotected) && matches(row.protected.figure, protectedSide);
            });
          if (holds) counts.held += 1;
          else
            disturbed(
              id,
              `patterns ${compared.status} ${JSON.stringify(rows.map((row) => [row.unprotected.figure, row.protected.figure]))}`,
            );
          continue;
        }
        const scenario = scenarios.find((each) => each.id === id);
        if (!scenario) continue;
        const run = scenarioRunOver({
          run: randomUUID(),
          tab: options.name,
          baseUrl: options.labUrl,
          fetch: jar.fetch,
        });
        const before = { crash: report.crashesAsked, hold: report.holdsAsked };
        if (id === "crash") report.crashesAsked += 2;
        if (id === "slow-first") report.holdsAsked += 1;
        try {
          await runScenarioBothWays(scenario, run);
        } catch (error) {
          if (error instanceof LabBoundRefusal) {
            report.crashesAsked = before.crash;
            report.holdsAsked = before.hold;
          }
          throw error;
        }
        const results = await query("lab.results", { run: run.run, keys: run.keys });
        if (results.status === 200 && showsExpected(scenario, results.body.result.data as RunCounts)) counts.held += 1;
        else {
          const answers = run.attempts.map((attempt) => `${attempt.side[0]}:${attempt.answer}`).join(" ");
          disturbed(id, `${results.status} ${JSON.stringify(results.body.result?.data)} ${answers}`);
        }
      } catch (error) {
        if (!(error instanceof LabBoundRefusal)) {
          disturbed(id, error instanceof Error ? error.message : String(error));
          await pause(1000);
          continue;
        }
        counts.refused += 1;
        await pause(Math.min(error.retryAfterMs, 10_000));
      }
    }
  }
  closing.abort();
  await Promise.all(readers);
  return report;
}
