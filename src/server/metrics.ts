/**
 * @module
 * A small Prometheus registry (text exposition format 0.0.4): counters and histograms with labels.
 * Per process: each instance exposes its own `/metrics` and Prometheus sums them, as it does for any
 * horizontally scaled service.
 */

type Labels = Record<string, string>;

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}

export interface Histogram {
  observe(value: number, labels?: Labels): void;
}

export interface Metrics {
  counter(name: string, help: string): Counter;
  histogram(name: string, help: string, buckets?: readonly number[]): Histogram;
  /** The registry in Prometheus text format. */
  render(): string;
}

/** Latency buckets in seconds: from 1 ms (PGlite, loopback) to 10 s (a stuck database). */
export const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

const renderLabels = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map(
      (k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
    )
    .join(',');

/**
 * `labelKey(labels)`: the rendered label set, remembered by its names and values as given (a few per request
 * on the hot path; sorting and escaping each time cost ~1% of an ingest request's CPU).
 */
function labelKeys(): (labels: Labels) => string {
  const seen = new Map<string, string>();
  return (labels) => {
    let raw = '';
    for (const k in labels) raw += `${k}\u0000${labels[k]}\u0000`;
    let key = seen.get(raw);
    if (key === undefined) {
      key = renderLabels(labels);
      // Bounded like the series themselves: label values are routes, methods, statuses and outcomes.
      if (seen.size < 10_000) seen.set(raw, key);
    }
    return key;
  };
}

const withLabels = (name: string, key: string) => (key ? `${name}{${key}}` : name);

/** Makes an empty registry. Asking twice for the same name returns the same metric. */
export function createMetrics(): Metrics {
  const blocks = new Map<string, { render(): string; metric: Counter | Histogram }>();

  return {
    counter(name, help) {
      const existing = blocks.get(name);
      if (existing) return existing.metric as Counter;
      const values = new Map<string, number>();
      const labelKey = labelKeys();
      const metric: Counter = {
        inc(labels = {}, by = 1) {
          const key = labelKey(labels);
          values.set(key, (values.get(key) ?? 0) + by);
        },
      };
      blocks.set(name, {
        metric,
        render: () =>
          [
            `# HELP ${name} ${help}`,
            `# TYPE ${name} counter`,
            ...[...values].map(([k, n]) => `${withLabels(name, k)} ${n}`),
          ].join('\n'),
      });
      return metric;
    },
    histogram(name, help, buckets = LATENCY_BUCKETS) {
      const existing = blocks.get(name);
      if (existing) return existing.metric as Histogram;
      const series = new Map<string, { counts: number[]; sum: number; count: number }>();
      const labelKey = labelKeys();
      const metric: Histogram = {
        observe(value, labels = {}) {
          const key = labelKey(labels);
          let s = series.get(key);
          if (!s) {
            s = { counts: buckets.map(() => 0), sum: 0, count: 0 };
            series.set(key, s);
          }
          const counts = s.counts;
          for (let i = 0; i < buckets.length; i++)
            if (value <= (buckets[i] as number)) counts[i] = (counts[i] as number) + 1;
          s.sum += value;
          s.count++;
        },
      };
      blocks.set(name, {
        metric,
        render() {
          const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
          for (const [key, s] of series) {
            const sep = key ? ',' : '';
            buckets.forEach((b, i) => {
              lines.push(`${name}_bucket{${key}${sep}le="${b}"} ${s.counts[i]}`);
            });
            lines.push(`${name}_bucket{${key}${sep}le="+Inf"} ${s.count}`);
            lines.push(`${withLabels(`${name}_sum`, key)} ${s.sum}`);
            lines.push(`${withLabels(`${name}_count`, key)} ${s.count}`);
          }
          return lines.join('\n');
        },
      });
      return metric;
    },
    render: () => `${[...blocks.values()].map((b) => b.render()).join('\n')}\n`,
  };
}
