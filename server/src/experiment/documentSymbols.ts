/** The outline of an experiment file: its sections and keys, nested as written. */
import { isMap, isScalar, isSeq, type ExperimentDocument, type Range } from './yamlDocument';

export interface ExperimentSymbol {
  name: string;
  /** The value as text for scalars (`sapp`, `0.9`), the item count for lists. */
  detail: string;
  kind: 'section' | 'list' | 'value';
  range: Range;
  selectionRange: Range;
  children: ExperimentSymbol[];
}

export function documentSymbols(doc: ExperimentDocument): ExperimentSymbol[] {
  const walk = (node: unknown): ExperimentSymbol[] => {
    if (!isMap(node)) return [];
    const symbols: ExperimentSymbol[] = [];
    for (const pair of node.items) {
      if (!isScalar(pair.key) || !pair.key.range) continue;
      const keyRange = pair.key.range;
      const value = pair.value as { range?: [number, number, number] } | null;
      const end = value?.range ? value.range[1] : keyRange[1];
      const kind = isMap(pair.value) ? 'section' : isSeq(pair.value) ? 'list' : 'value';
      const detail = isScalar(pair.value)
        ? String(pair.value.value)
        : isSeq(pair.value)
          ? `${pair.value.items.length} item${pair.value.items.length === 1 ? '' : 's'}`
          : '';
      symbols.push({
        name: String(pair.key.value),
        detail,
        kind,
        range: doc.lines.range(keyRange[0], Math.max(end, keyRange[1])),
        selectionRange: doc.lines.range(keyRange[0], keyRange[1]),
        children: walk(pair.value),
      });
    }
    return symbols;
  };
  return walk(doc.yaml.contents);
}
