/** Translations from the pure experiment types to LSP types. Nothing else lives here. */
import {
  CodeActionKind,
  CompletionItemKind,
  DiagnosticSeverity,
  InsertTextFormat,
  MarkupKind,
  SymbolKind,
  type CodeAction,
  type CompletionItem,
  type Diagnostic,
  type DocumentSymbol,
} from 'vscode-languageserver/node';
import type { CodeActionEntry } from '../experiment/codeActions';
import type { CompletionEntry } from '../experiment/completion';
import { DIAGNOSTIC_SOURCE, type ExperimentDiagnostic, type Severity } from '../experiment/diagnostics';
import type { ExperimentSymbol } from '../experiment/documentSymbols';

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function toDiagnostic(d: ExperimentDiagnostic): Diagnostic {
  return {
    range: d.range,
    severity: SEVERITY[d.severity],
    code: d.code,
    source: DIAGNOSTIC_SOURCE,
    message: d.message,
  };
}

const COMPLETION_KIND: Record<CompletionEntry['kind'], CompletionItemKind> = {
  key: CompletionItemKind.Property,
  value: CompletionItemKind.EnumMember,
  snippet: CompletionItemKind.Snippet,
  layer: CompletionItemKind.Reference,
};

export function toCompletionItem(entry: CompletionEntry): CompletionItem {
  return {
    label: entry.label,
    kind: COMPLETION_KIND[entry.kind],
    detail: entry.detail,
    documentation: entry.documentation ? { kind: MarkupKind.Markdown, value: entry.documentation } : undefined,
    textEdit: { range: entry.replace, newText: entry.insertText },
    insertTextFormat: entry.snippet ? InsertTextFormat.Snippet : InsertTextFormat.PlainText,
    sortText: entry.sortText,
    preselect: entry.preselect,
    filterText: entry.kind === 'snippet' ? undefined : entry.label,
  };
}

export function toCodeAction(uri: string, action: CodeActionEntry): CodeAction {
  return {
    title: action.title,
    kind: CodeActionKind.QuickFix,
    diagnostics: [toDiagnostic(action.diagnostic)],
    isPreferred: action.preferred ?? false,
    edit: { changes: { [uri]: action.edits } },
  };
}

const SYMBOL_KIND: Record<ExperimentSymbol['kind'], SymbolKind> = {
  section: SymbolKind.Module,
  list: SymbolKind.Array,
  value: SymbolKind.Property,
};

export function toDocumentSymbol(symbol: ExperimentSymbol): DocumentSymbol {
  return {
    name: symbol.name,
    detail: symbol.detail,
    kind: SYMBOL_KIND[symbol.kind],
    range: symbol.range,
    selectionRange: symbol.selectionRange,
    children: symbol.children.map(toDocumentSymbol),
  };
}
