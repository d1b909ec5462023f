/**
 * The benchmark's server (`npm run bench` starts it): the shop's server as it is, plus the unguarded baselines the
 * bench measures the shop against (scripts/bench-router.ts). The shop's own entry never serves them.
 */
import { runServer } from "../server/run";

await runServer({
  name: "Bench",
  async router() {
    const [{ appRouter }, { benchRouter }, { mergeRouters, createTRPCRouter }] = await Promise.all([
      import("../server/root"),
      import("./bench-router"),
      import("../server/trpc"),
    ]);
    return mergeRouters(appRouter, createTRPCRouter({ bench: benchRouter }));
  },
});
