/** Quick fixes: the fixes the validator attached to the diagnostics that touch a range. */
import type { ExperimentDiagnostic, Fix } from './diagnostics';
import type { Range } from './yamlDocument';

export interface CodeActionEntry extends Fix {
  diagnostic: ExperimentDiagnostic;
}

const before = (a: Range['start'], b: Range['start']) =>
  a.line < b.line || (a.line === b.line && a.character <= b.character);

/** The fixes of the diagnostics whose range (or wider `fixRange`) touches `range`. */
export function codeActions(diagnostics: ExperimentDiagnostic[], range: Range): CodeActionEntry[] {
  return diagnostics
    .filter((d) => {
      const at = d.fixRange ?? d.range;
      return before(at.start, range.end) && before(range.start, at.end);
    })
    .flatMap((d) => d.fixes.map((fix) => ({ ...fix, diagnostic: d })));
}

/** Applies edits to a text (edits must not overlap); used by tests and the CLI's `--fix`. */
export function applyEdits(
  text: string,
  edits: { range: Range; newText: string }[],
  offsetAt: (p: Range['start']) => number,
): string {
  const sorted = [...edits].sort((a, b) => offsetAt(b.range.start) - offsetAt(a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, offsetAt(e.range.start)) + e.newText + out.slice(offsetAt(e.range.end));
  return out;
}
