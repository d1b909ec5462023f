import { shopProcedures } from "../root";
import { createTRPCRouter } from "../trpc";
import { labRouter } from "./router";

/** The lab server's procedures: the shop's, as they are (the protected side), and the lab's own. */
export const labAppRouter = createTRPCRouter({ ...shopProcedures, lab: labRouter });

export type LabRouter = typeof labAppRouter;
