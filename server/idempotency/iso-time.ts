/**
 * `date.toISOString()`, several times faster: V8 formats every call from scratch (with snprintf), and each
 * idempotent answer writes two timestamps. The day's part ("2026-11-29T") comes from `toISOString` once per
 * day seen; the time of day is arithmetic.
 */
const dayMs = 86_400_000;
const dayPrefixes = new Map<number, string>();
/** A few days' prefixes: the current day and the retention window's end, with room for clock edges. */
const maxDayPrefixes = 16;

const twoDigits = Array.from({ length: 60 }, (_, value) => String(value).padStart(2, "0"));
const threeDigits = Array.from({ length: 1000 }, (_, value) => String(value).padStart(3, "0"));

function dayPrefix(day: number, date: Date): string {
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    const iso = date.toISOString();
    prefix = iso.slice(0, iso.indexOf("T") + 1);
    if (dayPrefixes.size >= maxDayPrefixes) dayPrefixes.clear();
    dayPrefixes.set(day, prefix);
  }
  return prefix;
}

export function isoTimestamp(date: Date): string {
  const time = date.getTime();
  // An invalid date throws RangeError from toISOString, as it would have.
  if (!Number.isFinite(time)) return date.toISOString();
  const day = Math.floor(time / dayMs);
  const inDay = time - day * dayMs;
  const hours = Math.floor(inDay / 3_600_000);
  const minutes = Math.floor(inDay / 60_000) % 60;
  const seconds = Math.floor(inDay / 1000) % 60;
  return `${dayPrefix(day, date)}${twoDigits[hours]}:${twoDigits[minutes]}:${twoDigits[seconds]}.${threeDigits[inDay % 1000]}Z`;
}
