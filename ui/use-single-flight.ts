import { useMemo, useRef } from "react";

/**
 * One call in flight per control. `disabled={isPending}` lands a render after `mutate()`, so a second click or
 * submit in between would send a second request; `start()` refuses it at once.
 */
export function useSingleFlight() {
  const inFlight = useRef(false);
  return useMemo(
    () => ({
      /** False when a call is already in flight; otherwise marks one and returns true. */
      start: () => {
        if (inFlight.current) return false;
        inFlight.current = true;
        return true;
      },
      /** The call has settled: the next one may go. */
      end: () => {
        inFlight.current = false;
      },
    }),
    [],
  );
}
