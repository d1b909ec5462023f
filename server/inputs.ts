/** Input shapes shared by procedures: bounded to what the columns behind them can hold. */
import { z } from "zod";
import { productNameMaxLength } from "@/shop/limits";

/** MySQL's signed INT, the type of every id and amount column: anything larger is a 400, never a driver error. */
export const maxInt = 2_147_483_647;

/** A row id (products, categories, orders, payments). */
export const rowId = z.number().int().positive().max(maxInt);

/** An amount in cents. */
export const amountCents = z.number().int().positive().max(maxInt);

/**
 * Characters a name must never hold: C0/C1 controls (NUL, terminal escapes), bidirectional overrides and isolates
 * (text that displays in another order than it is stored), and lone surrogates (not text; stored, they would come
 * back as something else).
 */
const forbiddenInName = /[\p{Cc}\u202A-\u202E\u2066-\u2069]|\p{Cs}/u;
/** Invisible characters that make a name look blank: format characters (zero-width space, joiners, BOM) and spaces. */
const invisible = /[\p{Cf}\p{Z}\s]/gu;

/**
 * A display name: NFC-normalised and trimmed (surrounding white space, newlines included, goes), 1–120 characters,
 * nothing hidden inside, not blank to the eye.
 */
export const displayName = z
  .string()
  .transform((name) => name.normalize("NFC").trim())
  .refine((name) => !forbiddenInName.test(name), "must not contain control, direction-override or broken characters")
  .refine((name) => name.replace(invisible, "").length > 0, "must not be empty")
  .refine(
    (name) => Array.from(name).length <= productNameMaxLength,
    `must be at most ${productNameMaxLength} characters`,
  );
