import type { ReactNode } from "react";

/** The heading of an admin section with its reload button. */
export function AdminToolbar(props: {
  titleId: string;
  title: ReactNode;
  reloadLabel: string;
  reloading: boolean;
  onReload: () => void;
}) {
  return (
    <div className="admin__toolbar">
      <h2 id={props.titleId} className="admin__title">
        {props.title}
      </h2>
      <button
        type="button"
        className="button button--quiet button--small"
        onClick={props.onReload}
        disabled={props.reloading}
      >
        {props.reloading ? "Reloading…" : props.reloadLabel}
      </button>
    </div>
  );
}
