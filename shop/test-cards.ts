/**
 * The test cards the checkout offers (contract §4), as the shop knows them: what a shopper is told each one does.
 * The simulated provider keeps its own list of what each card makes it do (provider/cards.ts); the browser never
 * loads the provider's code.
 */
export const testCards = {
  "4242424242424242": { label: "Visa ending 4242: succeeds" },
  "4000000000000002": { label: "Card ending 0002: declined" },
  "4000000000000119": { label: "Card ending 0119: provider error (5xx)" },
  "4000000000000259": { label: "Card ending 0259: charged, answer lost" },
} as const;

export type TestCardNumber = keyof typeof testCards;

export const testCardNumbers = Object.keys(testCards) as [TestCardNumber, ...TestCardNumber[]];
