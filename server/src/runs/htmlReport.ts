/**
 * A self-contained HTML report of one run (no scripts, no external resources): the loss, sparsity
 * against the schedule's target with the phases as bands, evaluation metrics, per-layer sparsity,
 * and the final block-importance heatmaps with the kept/pruned overlay, all as inline SVG.
 *
 * Every value comes from a run folder, which anyone may have crafted: all markup is built with the
 * `markup` tag, which escapes every interpolated value unless it is itself `markup` (nothing is
 * escaped by hand, so nothing can be forgotten), and a strict CSP forbids anything active.
 */
import type { PhaseEvent, StepEvent } from '@protocol';
import { readSnapshot, type LoadedRun } from './runReader';

/** Markup built by `markup`: the only thing interpolated without escaping. */
class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (value: unknown) => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
/** The same escape for the sweep report, which is built from strings. */
export const esc = (s: string) => escape(s);

type Part = Html | string | number | boolean | null | undefined | Part[];

function interpolate(value: Part): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(interpolate).join('');
  return value === null || value === undefined ? '' : escape(value);
}

/**
 * A template whose interpolations are escaped (arrays joined, `Html` kept as it is). Not named
 * `html`: Prettier would reformat the text of templates with that tag, and so change the page.
 */
function markup(strings: TemplateStringsArray, ...values: Part[]): Html {
  return new Html(
    strings.reduce((out, text, i) => out + text + (i < values.length ? interpolate(values[i]!) : ''), ''),
  );
}

/** Scripts, forms, frames, plugins, links out and navigation are all refused: the report only shows. */
export const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; base-uri 'none'; frame-src 'none'; object-src 'none'";

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

interface Series {
  label: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
}

function lineChart(title: string, series: Series[], totalSteps: number, phases: PhaseEvent[], yMax?: number): Html {
  const w = 640;
  const h = 220;
  const m = { l: 48, r: 12, t: 24, b: 28 };
  const all = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const top = yMax ?? Math.max(1e-9, ...all);
  const x = (step: number) => m.l + ((w - m.l - m.r) * step) / Math.max(1, totalSteps);
  const y = (v: number) => m.t + (h - m.t - m.b) * (1 - Math.min(1, Math.max(0, v / top)));
  const bands = phases
    .filter((p) => p.kind !== 'dense')
    .map(
      (p) =>
        markup`<rect x="${x(p.startStep)}" y="${m.t}" width="${Math.max(0, x(p.endStep) - x(p.startStep))}" height="${h - m.t - m.b}" fill="${p.kind === 'sparse' ? '#d8e8f8' : '#fde9cf'}"><title>${p.label}</title></rect>`,
    );
  const lines = series.map(
    (s) =>
      markup`<polyline fill="none" stroke="${s.color}" stroke-width="1.5"${s.dashed ? markup` stroke-dasharray="4 3"` : ''} points="${s.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ')}"/>`,
  );
  const legend = series.map(
    (s, i) => markup`<text x="${m.l + 8 + i * 240}" y="16" fill="${s.color}" font-size="12">■ ${s.label}</text>`,
  );
  return markup`<figure><figcaption>${title}</figcaption><svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${title}">${bands}<line x1="${m.l}" y1="${h - m.b}" x2="${w - m.r}" y2="${h - m.b}" stroke="#888"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${h - m.b}" stroke="#888"/><text x="${m.l - 6}" y="${m.t + 4}" font-size="10" text-anchor="end">${top.toPrecision(2)}</text><text x="${m.l - 6}" y="${h - m.b}" font-size="10" text-anchor="end">0</text><text x="${w - m.r}" y="${h - 8}" font-size="10" text-anchor="end">step ${totalSteps}</text>${lines}${legend}</svg></figure>`;
}

function heatmap(name: string, gridRows: number, gridCols: number, scores: Float32Array, mask: Uint8Array): Html {
  const cell = Math.max(2, Math.min(12, Math.floor(480 / Math.max(gridRows, gridCols))));
  let max = 0;
  for (const v of scores) max = Math.max(max, v);
  const rects: Html[] = [];
  for (let r = 0; r < gridRows; r++)
    for (let c = 0; c < gridCols; c++) {
      const i = r * gridCols + c;
      const t = max > 0 ? scores[i]! / max : 0;
      const shade = Math.round(255 - 200 * t);
      const fill = mask[i] ? `rgb(${shade},${Math.round(shade * 0.9)},255)` : `rgb(${shade},${shade},${shade})`;
      rects.push(
        markup`<rect x="${c * cell}" y="${r * cell}" width="${cell}" height="${cell}" fill="${fill}"${mask[i] ? '' : markup` opacity="0.45"`}><title>block (${r}, ${c}) score ${scores[i]!.toFixed(4)} ${mask[i] ? 'kept' : 'pruned'}</title></rect>`,
      );
    }
  return markup`<figure><figcaption>${name}: ${gridRows}x${gridCols} blocks, blue = kept (darker = more important), grey = pruned</figcaption><svg viewBox="0 0 ${gridCols * cell} ${gridRows * cell}" width="${gridCols * cell}" height="${gridRows * cell}">${rects}</svg></figure>`;
}

export function renderReport(run: LoadedRun): string {
  const { info, events } = run;
  const phases = events.filter((e): e is PhaseEvent => e.type === 'phase');
  const steps = events.filter((e): e is StepEvent => e.type === 'step');
  const evals = events.flatMap((e) => (e.type === 'eval' ? [e] : []));
  const snapshot = events.flatMap((e) => (e.type === 'snapshot' ? [e] : [])).at(-1);
  const charts = [
    lineChart(
      'Training loss',
      [{ label: 'loss', color: '#c0392b', points: steps.map((s) => [s.step, s.loss]) }],
      info.totalSteps,
      phases,
    ),
    lineChart(
      'Sparsity against the schedule (bands: orange sparsify, blue sparse)',
      [
        {
          label: 'global sparsity (all kernels)',
          color: '#2c3e50',
          points: steps.map((s) => [s.step, s.globalSparsity]),
        },
        {
          label: 'target per pruned layer',
          color: '#e67e22',
          dashed: true,
          points: steps.map((s) => [s.step, s.targetSparsity]),
        },
      ],
      info.totalSteps,
      phases,
      1,
    ),
    lineChart(
      'Held-out accuracy',
      [{ label: 'accuracy', color: '#27ae60', points: evals.map((e) => [e.step, e.metrics.accuracy ?? 0]) }],
      info.totalSteps,
      phases,
      1,
    ),
  ];
  const layerRows = (info.final?.sparsity.layers ?? []).map(
    (l) =>
      markup`<tr><td>${l.name}</td><td>${l.pruned ? 'pruned' : 'dense'}</td><td>${l.keptBlocks}/${l.blocks}</td><td>${pct(l.blockSparsity)}</td><td>${pct(l.entrySparsity)}</td></tr>`,
  );
  const heatmaps = snapshot
    ? readSnapshot(run.dir, snapshot).map((l) => heatmap(l.name, l.gridRows, l.gridCols, l.scores, l.mask))
    : markup`<p>No snapshot in this run.</p>`;
  const m = info.final?.metrics;
  const facts = [
    ['status', info.status + (info.error ? `: ${info.error.message}` : '')],
    ['method', info.method],
    ['seed', String(info.seed)],
    [
      'backend',
      `${info.backend.name} (${
        info.backend.attempts
          .filter((a) => !a.used)
          .map((a) => `${a.backend} skipped: ${a.reason}`)
          .join('; ') || 'forced'
      })`,
    ],
    ['steps', `${info.step} / ${info.totalSteps}`],
    ['final accuracy', m?.accuracy !== undefined ? pct(m.accuracy) : 'n/a'],
    [
      'support precision@k',
      m?.support_precision !== undefined
        ? `${m.support_precision.toFixed(3)} (chance ${m.support_precision_chance?.toFixed(3) ?? 'n/a'})`
        : 'n/a',
    ],
    ['global sparsity', info.final ? pct(info.final.sparsity.global) : 'n/a'],
    ['median step', info.timing.step_ms_median !== null ? `${info.timing.step_ms_median.toFixed(1)} ms` : 'n/a'],
    ['config hash', info.configHash.slice(0, 16)],
  ];
  return markup`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${info.name} · Sparsity Studio report</title>
<meta http-equiv="Content-Security-Policy" content="${new Html(REPORT_CSP)}">
<style>body{font:14px system-ui,sans-serif;margin:24px;max-width:1100px;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}</style>
</head><body>
<h1>${info.name} <small>(${info.id})</small></h1>
<table>${facts.map(([k, v]) => markup`<tr><th>${k}</th><td>${v}</td></tr>`)}</table>
<h2>Curves</h2>${charts}
<h2>Per-layer sparsity</h2><table><tr><th>layer</th><th>status</th><th>kept blocks</th><th>block sparsity (masked blocks)</th><th>entry sparsity (zero weights)</th></tr>${layerRows}</table>
<h2>Final block importance${snapshot ? markup` (step ${snapshot.step}, ${snapshot.score})` : ''}</h2>${heatmaps}
</body></html>
`.text;
}
