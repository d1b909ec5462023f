"use client";
/**
 * The training lab (/lab, served by the lab server): each scenario run both ways on one click, drawn live as two
 * sequence diagrams from the steps the server records, the numbers that tell them apart, the shop's code that
 * held, a live timeline of every attempt (from every lab process), and a key inspector.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useState } from "react";
import type { LabRouter } from "@/server/lab/root";
import { newIdempotencyKey } from "../intent-key";
import { createBrowserClientOf } from "../trpc";
import { LabTRPCProvider, useLabTRPC as useTRPC, useLabTRPCClient as useTRPCClient } from "./lab-trpc";
import { ProtectingCode } from "./protecting-code-view";
import { type Attempt, browserRun, runScenarioBothWays, type Scenario, scenarios } from "./scenarios";
import { SequenceDiagram } from "./sequence-diagram";
import type { LabTimelineEvent } from "./sequence-layout";

/** Which tab sent an attempt: one name per tab, kept across reloads of it. */
function tabName(): string {
  const stored = sessionStorage.getItem("eoc:lab:tab");
  if (stored) return stored;
  const name = `tab-${newIdempotencyKey().slice(0, 4)}`;
  sessionStorage.setItem("eoc:lab:tab", name);
  return name;
}

interface Outcome {
  unprotectedOrders: number;
  protectedOrders: number;
  unprotectedCharges: number;
  protectedCharges: number;
  attempts: Attempt[];
  keys: string[];
}

function ScenarioCard({
  scenario,
  tab,
  events,
  onKey,
}: {
  scenario: Scenario;
  tab: string;
  events: LabTimelineEvent[];
  onKey(key: string): void;
}) {
  const client = useTRPCClient();
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [runId, setRunId] = useState<string | null>(null);
  const runBothWays = useMutation({
    mutationFn: async () => {
      const run = browserRun(crypto.randomUUID(), tab);
      setOutcome(null);
      setRunId(run.run);
      await runScenarioBothWays(scenario, run);
      const counts = await client.lab.results.query({ run: run.run, keys: run.keys });
      return { ...counts, attempts: run.attempts, keys: run.keys };
    },
    onSuccess: (result) => {
      setOutcome(result);
      if (result.keys[0]) onKey(result.keys[0]);
    },
  });
  const attemptsOf = (side: Attempt["side"]) => outcome?.attempts.filter((attempt) => attempt.side === side) ?? [];
  const answers = (side: Attempt["side"]) =>
    attemptsOf(side)
      .map((attempt) => attempt.answer)
      .join(", ");
  const processes = (side: Attempt["side"]) =>
    attemptsOf(side)
      .map((attempt) => attempt.servedBy?.split("/").at(-1) ?? "?")
      .join(", ");
  const stepsOf = (side: Attempt["side"]) => events.filter((event) => event.run === runId && event.side === side);
  return (
    <article className="lab-scenario" data-scenario={scenario.id} aria-labelledby={`${scenario.id}-title`}>
      <h3 id={`${scenario.id}-title`}>{scenario.title}</h3>
      <p>{scenario.story}</p>
      <button
        type="button"
        className="button button--small"
        disabled={runBothWays.isPending}
        onClick={() => runBothWays.mutate()}
      >
        {runBothWays.isPending ? "Running…" : "Run both ways"}
      </button>
      {runBothWays.isError && (
        <p role="alert" className="notice notice--error">
          {runBothWays.error.message}
        </p>
      )}
      {runId && (
        <div className="lab-diagrams">
          <SequenceDiagram events={stepsOf("unprotected")} side="unprotected" title="Unprotected twin" />
          <SequenceDiagram events={stepsOf("protected")} side="protected" title="Protected: the shop's procedures" />
        </div>
      )}
      {outcome && (
        <div className="table-wrap">
          <table className="admin-table lab-result">
            <thead>
              <tr>
                <th scope="col">side</th>
                <th scope="col">orders created</th>
                <th scope="col">provider charges</th>
                <th scope="col">answers the client saw</th>
                <th scope="col">server processes (pid)</th>
              </tr>
            </thead>
            <tbody>
              <tr data-side="unprotected">
                <th scope="row">unprotected twin</th>
                <td data-testid="orders-created">{outcome.unprotectedOrders}</td>
                <td data-testid="charges">{outcome.unprotectedCharges}</td>
                <td data-testid="answers">{answers("unprotected")}</td>
                <td data-testid="processes">{processes("unprotected")}</td>
              </tr>
              <tr data-side="protected">
                <th scope="row">protected (the shop's procedures)</th>
                <td data-testid="orders-created">{outcome.protectedOrders}</td>
                <td data-testid="charges">{outcome.protectedCharges}</td>
                <td data-testid="answers">{answers("protected")}</td>
                <td data-testid="processes">{processes("protected")}</td>
              </tr>
            </tbody>
          </table>
          <p className="lab-lesson">{scenario.lesson}</p>
        </div>
      )}
      <ProtectingCode scenarioId={scenario.id} />
    </article>
  );
}

/** Scenario 9's patterns: run both ways on the server, one row per pattern. */
function PatternsCard() {
  const client = useTRPCClient();
  const compare = useMutation({ mutationFn: () => client.lab.comparePatterns.mutate({ run: crypto.randomUUID() }) });
  return (
    <article className="lab-scenario" data-scenario="patterns" aria-labelledby="patterns-title">
      <h3 id="patterns-title">9b. The patterns side by side</h3>
      <p>
        A versioned update against a blind one, an upsert against a plain insert for a link, a Redis claim with a lease
        against one without, and Redis down. The catalog is the merchant's: the shop's own catalog code runs on the real
        tables inside a transaction that is rolled back, so it shows its constraints and changes nothing.
      </p>
      <button
        type="button"
        className="button button--small"
        disabled={compare.isPending}
        onClick={() => compare.mutate()}
      >
        {compare.isPending ? "Running…" : "Run both ways"}
      </button>
      {compare.isError && (
        <p role="alert" className="notice notice--error">
          {compare.error.message}
        </p>
      )}
      {compare.data && (
        <div className="table-wrap">
          <table className="admin-table lab-result">
            <thead>
              <tr>
                <th scope="col">pattern</th>
                <th scope="col">what to check</th>
                <th scope="col">unprotected twin</th>
                <th scope="col">protected (the shop's code)</th>
              </tr>
            </thead>
            <tbody>
              {compare.data.map((pattern) => (
                <tr key={pattern.pattern} data-pattern={pattern.pattern}>
                  <th scope="row">{pattern.title}</th>
                  <td>{pattern.measure}</td>
                  <td>
                    <strong data-testid="unprotected-figure">{pattern.unprotected.figure}</strong>
                    <br />
                    {pattern.unprotected.story}
                  </td>
                  <td>
                    <strong data-testid="protected-figure">{pattern.protected.figure}</strong>
                    <br />
                    {pattern.protected.story}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ProtectingCode scenarioId="patterns" />
    </article>
  );
}

/** Every step of this trainee's attempts, live, from every lab process; the newest 2,000 are kept. */
function useLabEvents(): LabTimelineEvent[] {
  const trpc = useTRPC();
  const [events, setEvents] = useState<LabTimelineEvent[]>([]);
  useSubscription(
    trpc.lab.timeline.subscriptionOptions(undefined, {
      onData: ({ data }) => setEvents((seen) => [...seen.slice(-1999), data as LabTimelineEvent]),
    }),
  );
  return events;
}

/** The timeline: one row per attempt, as it was answered. */
function Timeline({ events }: { events: LabTimelineEvent[] }) {
  const answered = events.filter((event) => event.step === "answered");
  const latest = answered.at(-1);
  return (
    <section className="lab-panel" aria-labelledby="lab-timeline-title">
      <h2 id="lab-timeline-title">Timeline</h2>
      <p className="visually-hidden" aria-live="polite">
        {latest && `${latest.side} attempt on ${latest.procedurePath}: ${latest.outcome}`}
      </p>
      <div className="table-wrap">
        <table className="admin-table lab-timeline">
          <thead>
            <tr>
              <th scope="col">time</th>
              <th scope="col">side</th>
              <th scope="col">tab</th>
              <th scope="col">served by</th>
              <th scope="col">key</th>
              <th scope="col">outcome</th>
            </tr>
          </thead>
          <tbody>
            {answered
              .slice(-200)
              .reverse()
              .map((event) => (
                <tr key={event.id} data-side={event.side}>
                  <td>{new Date(event.createdAt).toLocaleTimeString()}</td>
                  <td>{event.side}</td>
                  <td>{event.tab ?? ""}</td>
                  <td>{event.servedBy}</td>
                  <td className="lab-key">{event.idempotencyKey ? event.idempotencyKey.slice(0, 8) : "(none)"}</td>
                  <td>{event.outcome}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function KeyInspector({ initialKey }: { initialKey: string }) {
  const client = useTRPCClient();
  const [key, setKey] = useState(initialKey);
  useEffect(() => setKey(initialKey), [initialKey]);
  const inspect = useMutation({ mutationFn: (wanted: string) => client.lab.inspectKey.query({ key: wanted }) });
  return (
    <section className="lab-panel" aria-labelledby="lab-inspector-title">
      <h2 id="lab-inspector-title">Key inspector</h2>
      <form
        className="name-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (key) inspect.mutate(key);
        }}
      >
        <label>
          Idempotency key{" "}
          <input className="name-form__input" value={key} onChange={(event) => setKey(event.target.value)} />
        </label>
        <button type="submit" className="button button--small">
          Look up
        </button>
      </form>
      {inspect.isSuccess &&
        (inspect.data ? (
          <dl className="lab-record" data-testid="key-record">
            <dt>status</dt>
            <dd>{inspect.data.status}</dd>
            <dt>recovery point</dt>
            <dd>{inspect.data.recoveryPoint}</dd>
            <dt>lease until</dt>
            <dd>{inspect.data.leaseExpiresAt ?? "nobody holds it"}</dd>
            <dt>procedure</dt>
            <dd>{inspect.data.procedurePath}</dd>
            <dt>fingerprint</dt>
            <dd className="lab-key">{inspect.data.fingerprint}</dd>
            <dt>first seen</dt>
            <dd>{inspect.data.firstSeenAt}</dd>
            <dt>expires</dt>
            <dd>{inspect.data.expiresAt}</dd>
            <dt>stored answer</dt>
            <dd>
              <code>{JSON.stringify(inspect.data.storedAnswer)}</code>
            </dd>
          </dl>
        ) : (
          <p className="notice">No record: this key was never used here, or its retention has passed.</p>
        ))}
    </section>
  );
}

function LabPanels() {
  const trpc = useTRPC();
  const [tab, setTab] = useState<string | null>(null);
  const [lastKey, setLastKey] = useState("");
  const events = useLabEvents();
  const start = useMutation(trpc.lab.start.mutationOptions());
  const { mutate: startLab } = start;
  useEffect(() => {
    setTab(tabName());
    startLab();
  }, [startLab]);
  if (!start.isSuccess || !tab) {
    return (
      <p className="notice" aria-busy="true">
        Opening the lab…
      </p>
    );
  }
  return (
    <div className="lab">
      <section className="lab-panel" aria-labelledby="lab-scenarios-title">
        <h2 id="lab-scenarios-title">Scenarios</h2>
        <p>
          Each runs twice: against an unprotected twin (no key, no unique constraint, lab-only tables) and against the
          shop's own procedures (<code>orders.place</code>, <code>payments.pay</code>). The lab's server causes each
          failure on request; it is a server of its own, so nothing done here reaches the shop's. This page: {tab},
          served by {start.data.servedBy}.
        </p>
        {scenarios.map((scenario) => (
          <ScenarioCard key={scenario.id} scenario={scenario} tab={tab} events={events} onKey={setLastKey} />
        ))}
        <PatternsCard />
      </section>
      <Timeline events={events} />
      <KeyInspector initialKey={lastKey} />
    </div>
  );
}

export function Lab() {
  const queryClient = useQueryClient();
  const [labClient] = useState(createBrowserClientOf<LabRouter>);
  return (
    <LabTRPCProvider trpcClient={labClient} queryClient={queryClient}>
      <LabPanels />
    </LabTRPCProvider>
  );
}
