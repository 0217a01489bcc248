import type { SimulationResult } from "../../simulator";

/*
 * Charts of simulation results: a Vega-Lite spec built here (plain data, testable), compiled and
 * rendered to SVG headlessly by Vega. Vega and Vega-Lite are ES modules, loaded on demand.
 */

/** A Vega-Lite specification (kept loose: it is data handed to the compiler). */
export type VegaLiteSpec = Record<string, unknown>;

/** Seconds per point on the time axis: coarser for longer runs, so a chart has at most ~120 steps. */
export function bucketSeconds(totalSeconds: number): number {
  return totalSeconds <= 1200 ? 10 : totalSeconds <= 3600 ? 30 : 60;
}

/** Client outcomes and breaker states over time, for one simulation. */
export function timelineSpec(result: SimulationResult, title: string): VegaLiteSpec {
  const { timeline } = result;
  const bucket = bucketSeconds(timeline.seconds);
  const perMinute = 60 / bucket;
  const traffic: { t: number; series: string; perMinute: number }[] = [];
  const breakers: { t: number; backend: string; unitsOpen: number }[] = [];
  const series: [string, number[]][] = [
    ["offered", timeline.offered],
    ["succeeded", timeline.successes],
    ["429 to clients", timeline.throttled],
    ["503 to clients", timeline.unavailable],
    ["other errors", timeline.otherErrors],
  ];
  for (let start = 0; start < timeline.seconds; start += bucket) {
    for (const [name, values] of series) {
      const sum = values.slice(start, start + bucket).reduce((a, b) => a + b, 0);
      traffic.push({ t: start, series: name, perMinute: Math.round(sum * perMinute * 100) / 100 });
    }
    for (const [backend, values] of Object.entries(timeline.breakersOpen)) {
      breakers.push({
        t: start,
        backend,
        unitsOpen: values.slice(start, start + bucket).reduce((a, b) => Math.max(a, b), 0),
      });
    }
  }
  const x = { field: "t", type: "quantitative", title: "seconds since start" };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: title,
      subtitle: `success ${(result.successRate * 100).toFixed(1)} %, ${result.clientRequests} requests`,
    },
    // The two panels colour different things (outcomes, backends).
    resolve: { scale: { color: "independent" }, legend: { color: "independent" } },
    vconcat: [
      {
        width: 720,
        height: 220,
        data: { values: traffic },
        mark: { type: "line", interpolate: "step-after" },
        encoding: {
          x,
          y: { field: "perMinute", type: "quantitative", title: "requests per minute" },
          color: {
            field: "series",
            type: "nominal",
            title: null,
            sort: series.map(([name]) => name),
            scale: {
              domain: series.map(([name]) => name),
              range: ["#9e9e9e", "#2e7d32", "#ef6c00", "#c62828", "#6a1b9a"],
            },
          },
        },
      },
      {
        width: 720,
        height: 120,
        data: { values: breakers },
        mark: { type: "line", interpolate: "step-after" },
        encoding: {
          x,
          y: {
            field: "unitsOpen",
            type: "quantitative",
            title: "breaker open (units)",
            scale: { domain: [0, result.gatewayUnits] },
            axis: { tickMinStep: 1 },
          },
          // Backends are `<instance>/<deployment>`: show the whole label.
          color: { field: "backend", type: "nominal", title: "backend", legend: { labelLimit: 0 } },
        },
      },
    ],
  };
}

/** Compiles a Vega-Lite spec and renders it to SVG without a browser. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const vegaLite = await import("vega-lite");
  const vega = await import("vega");
  const compiled = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
