/**
 * The run headline (`@protocol` runHeadline) in the editor's own places: the tooltips of the status
 * bar and the Runs view. The numbers are the summary strip's.
 */
import * as vscode from 'vscode';
import { headlineItems, type HeadlineInput } from '@protocol';

/** A Markdown tooltip: the title, then one line per fact of the headline, then `footer`. */
export function headlineTooltip(title: string, headline: HeadlineInput, footer: string[] = []): vscode.MarkdownString {
  const lines = headlineItems(headline).map(
    (i) => `- ${i.label}: **${escape(i.value)}**${i.detail ? ` — ${escape(i.detail)}` : ''}`,
  );
  const markdown = new vscode.MarkdownString(
    [title, '', ...lines, ...(footer.length > 0 ? ['', ...footer] : [])].join('\n'),
  );
  markdown.supportThemeIcons = true;
  return markdown;
}

/** Text shown as itself in Markdown (run names and error messages may hold `*`, `_`, `[`…). */
export function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
