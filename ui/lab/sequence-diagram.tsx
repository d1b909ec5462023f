"use client";
/**
 * One side of a lab run as a sequence diagram, redrawn from the full list of events each time one arrives:
 * lanes for the client tabs, the server processes, the key store, the database and the provider; one arrow per
 * step in time order; and, on the protected side, a badge (`data-mark`) on the step where the guarantee acted.
 * The layout rules live in ./sequence-layout.ts; this only draws.
 */
import { useId, useMemo } from "react";
import {
  type Arrow,
  type LabSide,
  type LabTimelineEvent,
  type Lane,
  layoutSequence,
  sequenceGeometry,
} from "./sequence-layout";

/** An id usable inside `url(#…)` whatever React's useId looks like. */
function svgId(reactId: string, name: string): string {
  return `lab-seq-${reactId.replace(/[^A-Za-z0-9_-]/g, "")}-${name}`;
}

function seconds(ms: number): string {
  return `+${(ms / 1000).toFixed(2)} s`;
}

function LaneView({ lane, bottom }: { lane: Lane; bottom: number }) {
  const g = sequenceGeometry;
  return (
    <g className={`lab-diagram__lane${lane.absent ? " lab-diagram__lane--absent" : ""}`} data-lane={lane.kind}>
      <line className="lab-diagram__lifeline" x1={lane.x} y1={34} x2={lane.x} y2={bottom} />
      <rect
        className="lab-diagram__lane-box"
        x={lane.x - g.laneHalfWidth}
        y={6}
        width={g.laneHalfWidth * 2}
        height={28}
        rx={6}
      />
      <text className="lab-diagram__lane-label" x={lane.x} y={24} textAnchor="middle">
        {lane.label}
      </text>
    </g>
  );
}

function ArrowView({ arrow, heads }: { arrow: Arrow; heads: { plain: string; key: string; mark: string } }) {
  const { x1, x2, y } = arrow;
  const head = arrow.mark ? heads.mark : arrow.kind === "key-store" ? heads.key : heads.plain;
  const classes = [
    "lab-diagram__arrow",
    `lab-diagram__arrow--${arrow.kind}`,
    arrow.lost ? "lab-diagram__arrow--lost" : "",
    arrow.mark ? "lab-diagram__arrow--marked" : "",
  ].filter(Boolean);
  return (
    <g
      className={classes.join(" ")}
      data-step={arrow.step}
      data-attempt={arrow.attempt}
      data-lost={arrow.lost}
      data-event={arrow.eventId}
    >
      <text className="lab-diagram__time" x={4} y={y - 4}>
        {seconds(arrow.elapsedMs)}
      </text>
      <text className="lab-diagram__attempt" x={4} y={y + 10}>
        {`#${arrow.attempt}`}
      </text>
      <line
        className="lab-diagram__line"
        x1={x1}
        y1={y}
        x2={x2}
        y2={y}
        markerEnd={arrow.end === "head" ? `url(#${head})` : undefined}
      />
      {arrow.end === "cross" && (
        <path
          className="lab-diagram__cross"
          d={`M${x2 - 6},${y - 6} L${x2 + 6},${y + 6} M${x2 - 6},${y + 6} L${x2 + 6},${y - 6}`}
        />
      )}
      <text className="lab-diagram__label" x={arrow.labelX} y={y - 7} textAnchor="middle">
        {arrow.label}
      </text>
    </g>
  );
}

export function SequenceDiagram({ events, side, title }: { events: LabTimelineEvent[]; side: LabSide; title: string }) {
  const reactId = useId();
  const layout = useMemo(() => layoutSequence(events, side), [events, side]);
  const g = sequenceGeometry;
  const ids = {
    title: svgId(reactId, "title"),
    desc: svgId(reactId, "desc"),
    heads: { plain: svgId(reactId, "head"), key: svgId(reactId, "head-key"), mark: svgId(reactId, "head-mark") },
  };
  const bottom = layout.height - g.footerHeight;

  return (
    <figure className="lab-diagram" data-side={side}>
      {layout.arrows.length === 0 ? (
        <p className="lab-diagram__waiting">Waiting for the first attempt…</p>
      ) : (
        <svg
          className="lab-diagram__svg"
          role="img"
          aria-labelledby={ids.title}
          aria-describedby={ids.desc}
          width={layout.width}
          height={layout.height}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          data-attempts={layout.attempts}
        >
          <title id={ids.title}>{title}</title>
          <desc id={ids.desc}>{layout.summary}</desc>
          <defs>
            {(["plain", "key", "mark"] as const).map((kind) => (
              <marker
                key={kind}
                id={ids.heads[kind]}
                className={`lab-diagram__head lab-diagram__head--${kind}`}
                viewBox="0 0 10 10"
                refX={9}
                refY={5}
                markerWidth={7}
                markerHeight={7}
                orient="auto-start-reverse"
              >
                <path d="M0,0 L10,5 L0,10 z" />
              </marker>
            ))}
          </defs>
          <rect className="lab-diagram__paper" x={0} y={0} width={layout.width} height={layout.height} />
          {layout.lanes.map((lane) => (
            <LaneView key={lane.id} lane={lane} bottom={bottom} />
          ))}
          {layout.arrows.map((arrow) => {
            const key = `${arrow.eventId}-${arrow.step}`;
            if (!arrow.mark) return <ArrowView key={key} arrow={arrow} heads={ids.heads} />;
            const { mark } = arrow;
            return (
              <g key={key} className="lab-diagram__mark" data-mark={mark.name}>
                <rect
                  className="lab-diagram__band"
                  x={0}
                  y={arrow.y - g.rowHeight / 2 - 5}
                  width={layout.width}
                  height={g.rowHeight}
                />
                <ArrowView arrow={arrow} heads={ids.heads} />
                <rect
                  className="lab-diagram__badge"
                  x={mark.x}
                  y={mark.y - g.badgeHeight / 2}
                  width={mark.width}
                  height={g.badgeHeight}
                  rx={g.badgeHeight / 2}
                />
                <text
                  className="lab-diagram__badge-text"
                  x={mark.x + mark.width / 2}
                  y={mark.y + 4}
                  textAnchor="middle"
                >
                  {mark.label}
                </text>
              </g>
            );
          })}
        </svg>
      )}
      <figcaption>{title}</figcaption>
    </figure>
  );
}
