/**
 * The shop's own input limits, shared by the server's validation, the browser's forms and the tests, so that the
 * three never disagree.
 */

/** The longest product name, in characters (code points), as MariaDB counts varchar(120). */
export const productNameMaxLength = 120;

/** The most of one product a cart line may hold. */
export const maxQuantity = 99;

/** The most lines one order may hold. */
export const maxCartLines = 50;
