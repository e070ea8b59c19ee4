import { z } from 'zod';

/**
 * RFC 3339 `date-time` (section 5.6): `T` or `t` between date and time (a space is also
 * taken, as the RFC's note and ws2 allow), fractional seconds up to nanoseconds, `Z`, `z`
 * or a numeric offset.
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * The instant an RFC 3339 timestamp names, or undefined when the text is not one or names no
 * real calendar date and time. JavaScript's own parser rolls impossible dates over
 * (`2026-02-30` becomes 2 March, hour 24 the next day); this one refuses them: months 1-12,
 * days within their month (29 February only in leap years), hours 0-23, minutes and seconds
 * 0-59, offsets up to 23:59. A leap second (`:60`) is refused too: JavaScript dates cannot
 * hold one, and rounding it would silently name another instant.
 */
export function parseTimestamp(text: string): Date | undefined {
  const match = DATE_TIME.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const [offsetHour, offsetMinute] = [Number(match[10] ?? 0), Number(match[11] ?? 0)];
  if (offsetHour > 23 || offsetMinute > 59) return undefined;
  const date = text.slice(0, 10);
  const offset = match[8] ? 'Z' : `${match[9]}${match[10]}:${match[11]}`;
  // Every field is checked, so the ISO form JavaScript reads exactly is the same instant.
  const time = Date.parse(`${date}T${match[4]}:${match[5]}:${match[6]}${match[7] ?? ''}${offset}`);
  return Number.isFinite(time) ? new Date(time) : undefined;
}

/** True when `text` is an RFC 3339 timestamp of a real calendar date and time. */
export function isTimestamp(text: string): boolean {
  return parseTimestamp(text) !== undefined;
}

/** An RFC 3339 timestamp field of a REST request (the OpenAPI document says `date-time`). */
export const timestampField = z
  .string()
  .refine(isTimestamp, 'must be an RFC 3339 date-time of a real calendar date and time (e.g. 2026-01-31T12:00:00Z)')
  .meta({ format: 'date-time' });
