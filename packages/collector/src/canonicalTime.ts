// Most SDKs send timestamps exactly as Date#toISOString writes them. Reading
// those by arithmetic costs about half of Date.parse, which tries every ISO
// 8601 variant; validation uses it instead of the regular expression that used
// to spot them, and the COPY writer instead of Date.parse.

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two decimal digits at `at` as a number, or -1. */
function twoDigits(s: string, at: number): number {
  const tens = s.charCodeAt(at) - 48;
  const units = s.charCodeAt(at + 1) - 48;
  return tens >= 0 && tens <= 9 && units >= 0 && units <= 9 ? tens * 10 + units : -1;
}

function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/**
 * Days from 1970-01-01 to a date of the proleptic Gregorian calendar. Years are
 * counted from March, so that February, and its leap day, ends each one; then
 * whole 400-year cycles (146,097 days) and the years, centuries and leap years
 * within the last.
 */
function daysSinceEpoch(year: number, month: number, day: number): number {
  const y = month > 2 ? year : year - 1;
  const cycle = Math.floor(y / 400);
  const yearOfCycle = y - cycle * 400;
  // Days from March 1st to the first of the month: 31,30,31,30,31 repeating, which (153m + 2) / 5 counts.
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfCycle = yearOfCycle * 365 + Math.floor(yearOfCycle / 4) - Math.floor(yearOfCycle / 100) + dayOfYear;
  // 719,468 days from 0000-03-01 to 1970-01-01.
  return cycle * 146_097 + dayOfCycle - 719_468;
}

/**
 * Milliseconds since 1970 of a timestamp in the form Date#toISOString writes
 * (`YYYY-MM-DDTHH:MM:SS.sssZ`) with every field in range: year 0001 to 9999, a
 * day the month has (leap years counted), hour 00-23. `NaN` for anything else,
 * including other valid ISO 8601 forms, which callers read the long way.
 */
export function canonicalMillis(s: string): number {
  if (
    s.length !== 24 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 ||
    s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46 || s.charCodeAt(23) !== 90
  ) {
    return NaN;
  }
  const century = twoDigits(s, 0);
  const yearOfCentury = twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  const centis = twoDigits(s, 20);
  const millis = s.charCodeAt(22) - 48;
  if ((century | yearOfCentury | month | day | hour | minute | second | centis) < 0 || !(millis >= 0 && millis <= 9)) return NaN;
  const year = century * 100 + yearOfCentury;
  if (year === 0 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return NaN;
  if (day > DAYS_IN_MONTH[month - 1]! && !(month === 2 && day === 29 && isLeap(year))) return NaN;
  return ((daysSinceEpoch(year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + centis * 10 + millis;
}
