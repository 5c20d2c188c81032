import type { Summary, Target } from './report.js';
import type { Spread } from './stats.js';

function num(v: number): string {
  if (!Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}
const withSpread = (s: Spread) => `${num(s.median)} ±${(s.rel * 100).toFixed(0)}%`;
const ratio = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(2)}×`);

/** A plain-text table: one row per runner, thread count and concurrency mode. */
export function renderTable(summaries: Summary[]): string {
  const header = [
    'runner', 'thr', 'mode', 'prefill tok/s', 'TTFT ms', 'decode tok/s', 'e2e ms', 'RSS MB (model)',
    'overhead µs/tok', 'decode×', 'TTFT×', 'prefill×', 'RSS×', 'same tokens',
  ];
  const rows = summaries.map((s) => {
    const mode = s.mode === 'sequential' ? `b${s.streams}` : `${s.mode} ×${s.concurrency}`;
    if (!s.medians || !s.spread) {
      const why = (s.error ?? 'unknown').split('\n')[0];
      return [s.runner, String(s.threads), mode, `failed: ${why.length > 90 ? `${why.slice(0, 87)}...` : why}`, ...Array(10).fill('')];
    }
    const m = s.medians;
    return [
      s.runner, String(s.threads), mode, withSpread(s.spread.prefill_tps), withSpread(s.spread.ttft_ms),
      withSpread(s.spread.decode_tps) + (s.speedup_vs_single_stream ? ` (${s.speedup_vs_single_stream.toFixed(2)}× single)` : ''),
      withSpread(s.spread.e2e_ms), `${num(m.peak_rss_mb)} (${num(m.model_rss_mb)})`,
      s.binding_overhead_us_per_token === null ? '-' : num(s.binding_overhead_us_per_token),
      ratio(s.ratios?.decode_ratio_to_native), ratio(s.ratios?.ttft_ratio_to_native),
      ratio(s.ratios?.prefill_ratio_to_native), ratio(s.ratios?.rss_ratio_to_native),
      s.tokens_match_native === null ? '-' : s.tokens_match_native ? 'yes' : 'no',
    ];
  });
  const ok = rows.filter((r) => !r[3].startsWith('failed'));
  const widths = header.map((h, i) => Math.max(h.length, ...(i < 3 ? rows : ok).map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 3 || c.startsWith('failed') ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < 3 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function renderTargets(targets: Target[]): string {
  return targets
    .map((t) => `${t.met === null ? 'n/a ' : t.met ? 'met ' : 'MISS'}  ${t.name} ${t.target}: ${t.value === null ? 'not measured' : num(t.value)}`)
    .join('\n');
}
