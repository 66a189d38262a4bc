// Months are the customer's local months: an October in Europe/Amsterdam
// starts at 2026-09-30T22:00:00Z. The API speaks UTC instants only.

/** offsetMs is how far tz's wall clock is ahead of UTC at instant t. */
function offsetMs(t: number, tz: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(t));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second")) - t;
}

/** zonedMidnight is the UTC instant of local midnight on y-m-d in tz. */
export function zonedMidnight(y: number, m: number, d: number, tz: string): Date {
  const wall = Date.UTC(y, m - 1, d);
  let t = wall - offsetMs(wall, tz);
  t = wall - offsetMs(t, tz); // again, in case a DST change lies between
  return new Date(t);
}

/** monthRange is [start, end) of month "YYYY-MM" in tz, as UTC ISO strings. */
export function monthRange(month: string, tz: string): { start: string; end: string } {
  const [y, m] = month.split("-").map(Number);
  const start = zonedMidnight(y, m, 1, tz);
  const end = m === 12 ? zonedMidnight(y + 1, 1, 1, tz) : zonedMidnight(y, m + 1, 1, tz);
  return { start: iso(start), end: iso(end) };
}

/** iso is RFC 3339 without milliseconds, as the API echoes it. */
const iso = (d: Date) => d.toISOString().replace(".000Z", "Z");

/** currentMonth is the month tz's wall clock is in now, "YYYY-MM". */
export function currentMonth(tz: string, now = new Date()): string {
  const p = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit" }).formatToParts(now);
  return `${p.find((x) => x.type === "year")?.value}-${p.find((x) => x.type === "month")?.value}`;
}

/** previousMonths lists n months before month, oldest first. */
export function previousMonths(month: string, n: number): string[] {
  const [y, m] = month.split("-").map(Number);
  const out: string[] = [];
  for (let i = n; i >= 1; i--) {
    const d = new Date(Date.UTC(y, m - 1 - i, 1));
    out.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`);
  }
  return out;
}

/** localDay formats an instant as the local date in tz, "YYYY-MM-DD". */
export function localDay(instant: string | undefined, tz: string): string {
  if (!instant) return "";
  return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(instant));
}

/** localTime formats an instant as "YYYY-MM-DD HH:mm" in tz. */
export function localTime(instant: string | undefined, tz: string): string {
  if (!instant) return "";
  const d = new Date(instant);
  const time = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(d);
  return `${localDay(instant, tz)} ${time}`;
}

/** dayStart is the UTC instant of local midnight of a "YYYY-MM-DD" date in tz. */
export function dayStart(date: string, tz: string): string {
  const [y, m, d] = date.split("-").map(Number);
  return iso(zonedMidnight(y, m, d, tz));
}
