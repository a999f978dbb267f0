/**
 * Colours and fonts from the `--vscode-*` CSS variables VS Code sets on the page, re-read when the
 * body's theme class changes (VS Code swaps `vscode-light`/`vscode-dark`/`vscode-high-contrast`).
 */
export type ThemeKind = 'light' | 'dark' | 'high-contrast';
export type Rgb = [number, number, number];

export interface Theme {
  kind: ThemeKind;
  background: string;
  foreground: string;
  muted: string;
  grid: string;
  focus: string;
  /** Line colours, in order: blue, orange, green, purple, red, yellow. */
  series: string[];
  target: string;
  sparsifyBand: string;
  sparseBand: string;
  fontFamily: string;
  fontSize: number;
}

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  if (value !== '') return value;
  const body = document.body ? getComputedStyle(document.body).getPropertyValue(name).trim() : '';
  return body !== '' ? body : fallback;
}

let probe: CanvasRenderingContext2D | null | undefined;

/** Any CSS colour as RGB (through a 1x1 canvas, so `#abc`, `rgb()` and names all work). */
export function parseColor(color: string): Rgb {
  probe ??= document.createElement('canvas').getContext('2d', { willReadFrequently: true });
  if (!probe) return [0, 0, 0];
  probe.clearRect(0, 0, 1, 1);
  probe.fillStyle = '#000';
  probe.fillStyle = color;
  probe.fillRect(0, 0, 1, 1);
  const [r = 0, g = 0, b = 0] = probe.getImageData(0, 0, 1, 1).data;
  return [r, g, b];
}

export function withAlpha(color: string, alpha: number): string {
  const [r, g, b] = parseColor(color);
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

export function themeKind(): ThemeKind {
  const classes = document.body.classList;
  if (classes.contains('vscode-high-contrast') || classes.contains('vscode-high-contrast-light'))
    return 'high-contrast';
  return classes.contains('vscode-light') ? 'light' : 'dark';
}

export function readTheme(): Theme {
  const kind = themeKind();
  const light = kind === 'light';
  const sparsify = cssVar('--vscode-charts-orange', '#d18616');
  const sparse = cssVar('--vscode-charts-green', '#89d185');
  return {
    kind,
    background: cssVar('--vscode-editor-background', light ? '#ffffff' : '#1e1e1e'),
    foreground: cssVar('--vscode-editor-foreground', light ? '#333333' : '#cccccc'),
    muted: cssVar('--vscode-descriptionForeground', light ? '#717171' : '#9d9d9d'),
    grid: withAlpha(cssVar('--vscode-editor-foreground', light ? '#333333' : '#cccccc'), 0.12),
    focus: cssVar('--vscode-focusBorder', '#007fd4'),
    series: [
      cssVar('--vscode-charts-blue', '#3794ff'),
      sparsify,
      sparse,
      cssVar('--vscode-charts-purple', '#b180d7'),
      cssVar('--vscode-charts-red', '#f14c4c'),
      cssVar('--vscode-charts-yellow', '#cca700'),
    ],
    target: cssVar('--vscode-charts-foreground', light ? '#616161' : '#cccccc'),
    sparsifyBand: withAlpha(sparsify, 0.14),
    sparseBand: withAlpha(sparse, 0.1),
    fontFamily: cssVar('--vscode-font-family', 'system-ui, sans-serif'),
    fontSize: Number.parseFloat(cssVar('--vscode-font-size', '13')) || 13,
  };
}

/** The theme a panel draws with: read at start, and again when VS Code switches theme. */
export class PanelTheme {
  current: Theme = readTheme();

  reread(): void {
    this.current = readTheme();
  }
}

/** Calls `onChange` when VS Code switches theme (the body class changes). */
export function watchTheme(onChange: () => void): void {
  new MutationObserver(onChange).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

// Captured while the bundle runs synchronously; null afterwards.
const ownScript = document.currentScript instanceof HTMLScriptElement ? document.currentScript.src : '';

/**
 * Links the panel's stylesheet (`<bundle>.css`, emitted by esbuild next to the script) unless the
 * host page already did. A `<link>` from the page's own origin satisfies `style-src`, unlike an
 * inline `<style>`.
 */
export function ensureStylesheet(): void {
  if (ownScript === '' || document.querySelector('link[rel="stylesheet"][data-dashboard]')) return;
  const href = ownScript.replace(/\.js(\?.*)?$/, '.css');
  if ([...document.querySelectorAll('link[rel="stylesheet"]')].some((l) => (l as HTMLLinkElement).href === href))
    return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  link.dataset.dashboard = '';
  document.head.append(link);
}
