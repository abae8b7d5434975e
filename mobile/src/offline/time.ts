// When a copy was saved, as a person reads it: today's time, or the date and time.

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** "14:05" today, "11月28日 14:05" on another day, "2025年11月28日 14:05" another year (phone's clock). */
export function savedAtText(savedAt: number, now: number = Date.now()): string {
  const d = new Date(savedAt);
  const today = new Date(now);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.toDateString() === today.toDateString()) return time;
  const day = `${d.getMonth() + 1}月${d.getDate()}日 ${time}`;
  return d.getFullYear() === today.getFullYear() ? day : `${d.getFullYear()}年${day}`;
}
