/** Input shapes shared by procedures: bounded to what the columns behind them can hold. */
import { z } from "zod";

/** MySQL's signed INT, the type of every id and amount column: anything larger is a 400, never a driver error. */
export const maxInt = 2_147_483_647;

/** A row id (products, categories, orders, payments). */
export const rowId = z.number().int().positive().max(maxInt);

/** An amount in cents. */
export const amountCents = z.number().int().positive().max(maxInt);
