/**
 * The training lab's server (`npm run serve` and `npm run demo` start it beside the shop, on LAB_PORT): the shop's
 * code and pages as they are, plus the lab's procedures, with the lab's instruments installed (faults, the
 * timeline, per-trainee bounds). Its own processes, port and connection pools, on the shop's database and
 * provider: a crash fault kills a lab process (its supervisor starts another), a held claim holds a lab pool's
 * connection, and the shop's processes never see either. Tests that need a fault start this entry too.
 */
import { setPriority } from "node:os";
import { runServer } from "../run";

// The lab's pages know they are the lab's (they are rendered by Next, which reads the environment, not our modules).
process.env.EOC_SERVER_ROLE = "lab";
// On a machine it shares with the shop, the shop's processes come first for the CPU (children inherit it).
setPriority(Number(process.env.LAB_NICE ?? 10));

const retentionIntervalMs = 10 * 60_000;

await runServer({
  name: "Training lab",
  router: async () => (await import("./root")).labAppRouter,
  // One ledger of what each trainee holds, whichever process its requests land on.
  supervise: async () => (await import("./bounds")).keepLabLedger(),
  async prepare() {
    const [{ installInstruments }, { labInstruments }, { deleteLabRecords, labRetentionMs }, { appDatabase }] =
      await Promise.all([import("../instruments"), import("./instruments"), import("./retention"), import("../db")]);
    installInstruments(labInstruments);
    // The lab's rows are kept a day, by the lab itself: the shop's background work knows nothing of them.
    setInterval(() => {
      deleteLabRecords(appDatabase().db, new Date(Date.now() - labRetentionMs)).catch((error: unknown) =>
        console.error("lab: old rows could not be deleted:", error instanceof Error ? error.message : error),
      );
    }, retentionIntervalMs).unref();
  },
});
