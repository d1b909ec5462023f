import { hostname } from "node:os";

/** Which server process answered: every answer names it, and the lab's timeline shows it. */
export const servedByHeader = "x-served-by";
export const servedBy = `${hostname()}/${process.pid}`;
