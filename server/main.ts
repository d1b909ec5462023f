/**
 * The shop's server (`npm start`; `npm run dev` adds --dev): the shop's procedures and pages, and nothing else. No
 * instruments are installed here, so no request can ask it for a fault (the training lab is its own server,
 * server/lab/main.ts).
 */
import { runServer } from "./run";

await runServer({ name: "Shop", router: async () => (await import("./root")).appRouter });
