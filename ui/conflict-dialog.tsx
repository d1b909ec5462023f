"use client";
import { useEffect, useId, useRef } from "react";

export interface ConflictChoice {
  /** The name this user tried to save. */
  mine: string;
  /** The other writer's saved name and the version it is at. */
  theirs: { name: string; version: number };
}

/**
 * Shown when a rename lost a race: the other writer's value beside this user's, and a choice between them.
 * A native modal <dialog>, so focus is trapped and Escape closes it (keeping the unsaved name for later).
 */
export function ConflictDialog({
  conflict,
  onKeepMine,
  onUseTheirs,
  onDismiss,
}: {
  conflict: ConflictChoice;
  onKeepMine(): void;
  onUseTheirs(): void;
  onDismiss(): void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descriptionId = useId();

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);

  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby={titleId}
      aria-describedby={descriptionId}
      onCancel={(event) => {
        event.preventDefault();
        onDismiss();
      }}
    >
      <h2 id={titleId} className="dialog__title">
        Someone else renamed this product
      </h2>
      <p id={descriptionId} className="dialog__text">
        While you were editing, another change was saved as version {conflict.theirs.version}. Choose the name to keep.
      </p>
      <div className="dialog__choices">
        <section className="choice" aria-label="Their name">
          <h3 className="choice__label">Theirs · version {conflict.theirs.version}</h3>
          <p className="choice__value" data-testid="conflict-theirs">
            {conflict.theirs.name}
          </p>
        </section>
        <section className="choice choice--mine" aria-label="Your name">
          <h3 className="choice__label">Yours · not saved</h3>
          <p className="choice__value" data-testid="conflict-mine">
            {conflict.mine}
          </p>
        </section>
      </div>
      <div className="dialog__actions">
        <button type="button" className="button button--quiet" onClick={onUseTheirs}>
          Use theirs
        </button>
        <button type="button" className="button" onClick={onKeepMine}>
          Keep mine
        </button>
      </div>
    </dialog>
  );
}
