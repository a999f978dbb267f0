/**
 * What the editor says when a session ends, without `vscode` (so plain Node tests read it): a
 * completed run with its result and Open Dashboard / Compare with…, a failed one with its reason
 * and Show Log; nothing for a stop the user asked for.
 */
import { headlineItems, headlineLine, headlineOfSession, type HeadlineInput, type SessionSummary } from '@protocol';

export const OPEN_DASHBOARD = 'Open Dashboard';
export const COMPARE_WITH = 'Compare with…';
export const SHOW_LOG = 'Show Log';

/** The headline on one line without the status and backend (the message says those): for notifications. */
export function headlineText(headline: HeadlineInput): string {
  return headlineLine(headlineItems(headline).filter((i) => i.key !== 'status' && i.key !== 'backend'));
}

export function endMessage(s: SessionSummary): { text: string; actions: string[]; error: boolean } | undefined {
  switch (s.state) {
    case 'completed':
      return {
        text: `Sparsity Studio: ${s.name} (${s.method}) completed — ${headlineText(headlineOfSession(s))}.`,
        actions: [OPEN_DASHBOARD, COMPARE_WITH],
        error: false,
      };
    case 'failed':
      return {
        text: `Sparsity Studio: ${s.name} (${s.method}) failed at step ${s.step}: ${s.error ?? 'no reason given'}`,
        actions: [SHOW_LOG, OPEN_DASHBOARD],
        error: true,
      };
    default:
      return undefined;
  }
}
