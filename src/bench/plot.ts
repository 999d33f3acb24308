/**
 * The latency plot of REPORT.md, drawn by Vega-Lite (compiled to Vega, rendered to SVG without a
 * browser): one row per distribution, Tycho beside its baseline, on a log scale.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { BenchResults } from './results.js';

interface Point {
  /** Rows keep the report's order. */
  order: number;
  measurement: string;
  who: string;
  ms: number;
}

function points(r: BenchResults): Point[] {
  const out: Point[] = [];
  const rows: string[] = [];
  const add = (measurement: string, who: string, xs: number[]) => {
    if (!rows.includes(measurement)) rows.push(measurement);
    // A log scale has no 0: an overhead at or below 0 ms is drawn at 0.5 ms.
    xs.forEach((ms) => out.push({ order: rows.indexOf(measurement), measurement, who, ms: Math.max(ms, 0.5) }));
  };
  for (const l of r.ack.levels) {
    add(`ack, ${l.concurrency} concurrent`, 'Tycho', l.samples.tycho);
    add(`ack, ${l.concurrency} concurrent`, 'bare Bolt app', l.samples.baseline);
  }
  add('launch overhead', 'Tycho', r.launchOverhead.samples.tycho);
  add('launch overhead', 'bare client-node', r.launchOverhead.samples.baseline);
  add(`burst of ${r.burst.launches}: command → URL`, 'Tycho', r.burst.samples.perLaunch);
  add(`burst of ${r.burst.launches}: command → URL`, 'bare client-node', r.burst.samples.baselinePerLaunch);
  return out;
}

export async function latencySvg(r: BenchResults): Promise<string> {
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Latency distributions (ms, log scale): boxes are p25–p75, whiskers min–max', fontSize: 13 },
    data: { values: points(r) },
    facet: { row: { field: 'measurement', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left', labelFontSize: 12 }, sort: { field: 'order' } } },
    spec: {
      width: 560,
      height: 44,
      layer: [
        {
          mark: { type: 'boxplot', extent: 'min-max', size: 14 },
          encoding: {
            x: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'milliseconds' },
            y: { field: 'who', type: 'nominal', title: null },
            color: { field: 'who', type: 'nominal', legend: null, scale: { domain: ['Tycho', 'bare Bolt app', 'bare client-node'], range: ['#d62728', '#1f77b4', '#2ca02c'] } },
          },
        },
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
