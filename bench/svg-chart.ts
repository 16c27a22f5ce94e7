import type { BenchSeries } from './harness';

/**
 * A small line chart as a standalone SVG: one line per series, linear or log axes, a legend. Written here
 * rather than pulled in: the charting packages that render SVG without a browser (vega, chart.js + canvas) are
 * far heavier than the hundred lines this needs.
 */
const WIDTH = 720;
const HEIGHT = 400;
const MARGIN = { top: 40, right: 190, bottom: 56, left: 76 };
const INSET = 6;
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export function lineChartSvg(series: readonly BenchSeries[]): string {
  const first = series[0];
  if (!first) throw new Error('a chart needs at least one series');
  const points = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  // Inset by a few pixels so that a line along an axis limit stays visible inside the frame.
  const x = axis(points.map((p) => p.x), Boolean(first.logX), MARGIN.left + INSET, WIDTH - MARGIN.right - INSET);
  const y = axis(points.map((p) => p.y), Boolean(first.logY), HEIGHT - MARGIN.bottom - INSET, MARGIN.top + INSET, true);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2 - MARGIN.right / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(first.chartTitle)}</text>`,
  );
  for (const tick of x.ticks) {
    const px = x.scale(tick);
    parts.push(
      `<line x1="${px}" y1="${MARGIN.top}" x2="${px}" y2="${HEIGHT - MARGIN.bottom}" stroke="#e5e5e5"/>`,
      `<text x="${px}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${label(tick)}</text>`,
    );
  }
  for (const tick of y.ticks) {
    const py = y.scale(tick);
    parts.push(
      `<line x1="${MARGIN.left}" y1="${py}" x2="${WIDTH - MARGIN.right}" y2="${py}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 6}" y="${py + 4}" text-anchor="end">${label(tick)}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${WIDTH - MARGIN.left - MARGIN.right}" height="${HEIGHT - MARGIN.top - MARGIN.bottom}" fill="none" stroke="#333"/>`,
    `<text x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - 14}" text-anchor="middle">${escape(first.xLabel)}${first.logX ? ' (log scale)' : ''}</text>`,
    `<text transform="translate(18 ${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2}) rotate(-90)" text-anchor="middle">${escape(first.yLabel)}${first.logY ? ' (log scale)' : ''}</text>`,
  );
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const visible = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    const path = visible.map((p, j) => `${j === 0 ? 'M' : 'L'}${x.scale(p.x).toFixed(1)},${y.scale(p.y).toFixed(1)}`).join(' ');
    if (path) parts.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const p of visible) parts.push(`<circle cx="${x.scale(p.x).toFixed(1)}" cy="${y.scale(p.y).toFixed(1)}" r="3.5" fill="${colour}"><title>${escape(s.name)}: x=${label(p.x)}, y=${label(p.y)}</title></circle>`);
    const ly = MARGIN.top + 10 + i * 34;
    const lx = WIDTH - MARGIN.right + 12;
    parts.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 18}" y2="${ly}" stroke="${colour}" stroke-width="3"/>`, `<text x="${lx + 24}" y="${ly + 4}">${escape(s.name)}</text>`);
    if (s.note) parts.push(`<text x="${lx + 24}" y="${ly + 18}" font-size="10" fill="#555">${escape(s.note)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

interface Axis {
  scale(value: number): number;
  readonly ticks: number[];
}

function axis(values: number[], log: boolean, from: number, to: number, fromZero = false): Axis {
  if (log) {
    const positive = values.filter((v) => v > 0);
    const lo = Math.floor(Math.log10(Math.min(...positive, 1)));
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...positive, 10))));
    const ticks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
    return { ticks, scale: (v) => from + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (to - from) };
  }
  let lo = Math.min(...values, fromZero ? 0 : Infinity);
  let hi = Math.max(...values);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi === lo) hi = lo + 1;
  const step = niceStep((hi - lo) / 5);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let t = lo; t <= hi + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return { ticks, scale: (v) => from + ((v - lo) / (hi - lo)) * (to - from) };
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

function label(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${+(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${+(value / 1e3).toPrecision(3)}k`;
  return String(+value.toPrecision(3));
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
