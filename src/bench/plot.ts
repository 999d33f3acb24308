/**
 * The latency plot of REPORT.md, drawn by Vega-Lite (compiled to Vega, rendered to SVG without a
 * browser): one row per measurement, Tycho beside its baseline, on a log scale, with the same
 * percentiles the tables give.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { BenchResults } from './results.js';
import type { Dist } from './stats.js';

interface Row {
  /** Rows keep the report's order. */
  order: number;
  measurement: string;
  who: string;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function rows(r: BenchResults): Row[] {
  const out: Row[] = [];
  const names: string[] = [];
  // A log scale has no 0: a figure at or below 0 ms is drawn at 0.5 ms.
  const pos = (x: number) => Math.max(x, 0.5);
  const add = (measurement: string, who: string, d: Dist) => {
    if (d.n === 0) return;
    if (!names.includes(measurement)) names.push(measurement);
    out.push({ order: names.indexOf(measurement), measurement, who, min: pos(d.min), p50: pos(d.p50), p95: pos(d.p95), p99: pos(d.p99), max: pos(d.max) });
  };
  for (const l of r.ack.levels) {
    add(`ack, ${l.concurrency} concurrent`, 'Tycho', l.tycho);
    add(`ack, ${l.concurrency} concurrent`, 'bare Bolt app', l.baseline);
  }
  add('launch overhead', 'Tycho', r.launchOverhead.tycho);
  add('launch overhead', 'bare client-node', r.launchOverhead.baseline);
  add(`burst of ${r.burst.launches}: command → URL`, 'Tycho', r.burst.perLaunch);
  add(`burst of ${r.burst.launches}: command → URL`, 'bare client-node', r.burst.baselinePerLaunch);
  return out;
}

export async function latencySvg(r: BenchResults): Promise<string> {
  const x = (field: keyof Row, title?: string) => ({ field, type: 'quantitative' as const, scale: { type: 'log' as const }, title: title ?? null });
  const y = { field: 'who', type: 'nominal' as const, title: null };
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Latency (ms, log scale): thin line min–max, bar p50 to p99, white tick p95', fontSize: 13 },
    data: { values: rows(r) },
    facet: { row: { field: 'measurement', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left', labelFontSize: 12 }, sort: { field: 'order' } } },
    spec: {
      width: 460,
      height: 40,
      layer: [
        { mark: { type: 'rule', color: '#888' }, encoding: { x: x('min', 'milliseconds'), x2: { field: 'max' }, y } },
        {
          mark: { type: 'bar', height: 12 },
          encoding: {
            x: x('p50'),
            x2: { field: 'p99' },
            y,
            color: { field: 'who', type: 'nominal', legend: null, scale: { domain: ['Tycho', 'bare Bolt app', 'bare client-node'], range: ['#d62728', '#1f77b4', '#2ca02c'] } },
          },
        },
        { mark: { type: 'tick', color: 'white', thickness: 2, size: 12 }, encoding: { x: x('p95'), y } },
      ],
    },
    resolve: { scale: { y: 'independent' } },
    config: { font: 'sans-serif' },
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
