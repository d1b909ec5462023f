/** The provider's test cards (contract §4) and what each one does. */
export const testCards = {
  "4242424242424242": { behaviour: "succeeds", label: "Visa ending 4242: succeeds" },
  "4000000000000002": { behaviour: "declined", label: "Card ending 0002: declined" },
  "4000000000000119": { behaviour: "fails-before-charging", label: "Card ending 0119: provider error (5xx)" },
  "4000000000000259": { behaviour: "charges-then-loses-response", label: "Card ending 0259: charged, answer lost" },
} as const;

export type TestCardNumber = keyof typeof testCards;

export const testCardNumbers = Object.keys(testCards) as [TestCardNumber, ...TestCardNumber[]];
