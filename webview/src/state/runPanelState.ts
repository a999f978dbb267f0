/**
 * What the run panel keeps across a reload of its webview (`setState`/`getState`): the tab shown,
 * the heatmap's layer, step and whether it follows the run, its colour scale and zoom. Read back
 * through `parseSavedRunPanel`, since what `getState` returns is whatever was stored, by any version.
 */
import type { SavedImportanceState } from './importanceState';
import { ZOOMS, type ColourScale, type Zoom } from './heatmapLayout';

export type RunTab = 'curves' | 'blocks';
export const RUN_TABS: readonly RunTab[] = ['curves', 'blocks'];

export interface SavedRunPanel {
  tab: RunTab;
  importance: SavedImportanceState;
  scale: ColourScale;
  zoom: Zoom;
}

export const DEFAULT_RUN_PANEL: SavedRunPanel = { tab: 'curves', importance: {}, scale: 'run', zoom: 1 };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The saved state's well-formed fields; anything else (a foreign or older shape) falls back to the defaults. */
export function parseSavedRunPanel(raw: unknown): SavedRunPanel {
  if (!isRecord(raw)) return { ...DEFAULT_RUN_PANEL, importance: {} };
  const importance: SavedImportanceState = {};
  const saved = isRecord(raw['importance']) ? raw['importance'] : {};
  if (typeof saved['layer'] === 'string') importance.layer = saved['layer'];
  if (Number.isInteger(saved['step']) && (saved['step'] as number) >= 0) importance.step = saved['step'] as number;
  if (typeof saved['latest'] === 'boolean') importance.latest = saved['latest'];
  const tab = RUN_TABS.find((t) => t === raw['tab']) ?? DEFAULT_RUN_PANEL.tab;
  const scale: ColourScale = raw['scale'] === 'step' ? 'step' : 'run';
  const zoom = ZOOMS.find((z) => z === raw['zoom']) ?? DEFAULT_RUN_PANEL.zoom;
  return { tab, importance, scale, zoom };
}
