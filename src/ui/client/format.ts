/** Numbers and times for people. */

export function seconds(value: number): string {
  if (value < 60) return `${value.toFixed(value < 10 ? 1 : 0)}s`;
  const minutes = Math.floor(value / 60);
  if (minutes < 60) return `${minutes}m ${Math.floor(value % 60)}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

export function count(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)}k` : String(value);
}

export function usd(value: number | undefined): string {
  return value === undefined ? '—' : `$${value < 0.01 ? value.toFixed(4) : value.toFixed(2)}`;
}

export function clock(epochMs: number | undefined): string {
  if (epochMs === undefined) return '—';
  return new Date(epochMs).toLocaleString();
}

export function ago(epochMs: number | undefined, now = Date.now()): string {
  if (epochMs === undefined) return '—';
  return `${seconds(Math.max(0, (now - epochMs) / 1000))} ago`;
}

/** The middle of a long id cut out: `t_1234…`. */
export function short(text: string, max = 24): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
