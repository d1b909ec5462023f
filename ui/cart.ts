"use client";
/**
 * The shopper's cart, kept in this tab's sessionStorage beside the place-order intent it feeds: a reload keeps
 * both, and any change to the cart forgets that intent, because a different cart is a different order.
 */
import { useSyncExternalStore } from "react";
import { maxQuantity } from "@/shop/limits";
import { clearIntent, placeOrderIntent } from "./intent-key";

export interface CartLine {
  productId: number;
  quantity: number;
}

const storageKey = "eoc:cart";
const empty: CartLine[] = [];
const listeners = new Set<() => void>();
let cached: { raw: string | null; lines: CartLine[] } = { raw: null, lines: empty };

function readRaw(): string | null {
  try {
    return window.sessionStorage.getItem(storageKey);
  } catch {
    return cached.raw;
  }
}

function parse(raw: string | null): CartLine[] {
  try {
    const value: unknown = JSON.parse(raw ?? "[]");
    if (!Array.isArray(value)) return empty;
    return value.filter(
      (line): line is CartLine =>
        Number.isInteger(line?.productId) &&
        Number.isInteger(line?.quantity) &&
        line.quantity >= 1 &&
        line.quantity <= maxQuantity,
    );
  } catch {
    return empty;
  }
}

/** The same array for the same stored text, as useSyncExternalStore requires. */
function snapshot(): CartLine[] {
  const raw = readRaw();
  if (raw !== cached.raw) cached = { raw, lines: parse(raw) };
  return cached.lines;
}

function write(lines: CartLine[]): void {
  const sorted = [...lines].sort((a, b) => a.productId - b.productId);
  const raw = JSON.stringify(sorted);
  if (raw === readRaw()) return;
  try {
    window.sessionStorage.setItem(storageKey, raw);
  } catch {
    // Storage refused: the cart still lives in memory for this page.
  }
  cached = { raw, lines: sorted };
  clearIntent(placeOrderIntent);
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useCart(): CartLine[] {
  return useSyncExternalStore(subscribe, snapshot, () => empty);
}

const clamp = (quantity: number) => Math.min(maxQuantity, Math.max(1, Math.trunc(quantity)));

export const cartActions = {
  add(productId: number): void {
    const lines = snapshot();
    const line = lines.find((item) => item.productId === productId);
    write(
      line
        ? lines.map((item) => (item === line ? { productId, quantity: clamp(item.quantity + 1) } : item))
        : [...lines, { productId, quantity: 1 }],
    );
  },
  setQuantity(productId: number, quantity: number): void {
    if (!Number.isFinite(quantity)) return;
    write(snapshot().map((item) => (item.productId === productId ? { productId, quantity: clamp(quantity) } : item)));
  },
  remove(productId: number): void {
    write(snapshot().filter((item) => item.productId !== productId));
  },
  /** Empties the cart once its order is placed; that intent is done. */
  clear(): void {
    write([]);
  },
};

/** The canonical content of a place-order intent: the cart's lines in product order. */
export function cartContent(lines: CartLine[]): string {
  return JSON.stringify(lines.map(({ productId, quantity }) => ({ productId, quantity })));
}
