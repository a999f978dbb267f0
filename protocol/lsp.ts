/**
 * Custom LSP messages between the extension and the language server. Each is declared once here,
 * with its direction, trigger and reaction; the method strings appear nowhere else.
 * Standard LSP (diagnostics, completion, hover, code actions, ...) needs no declaration.
 */
import { RequestType } from 'vscode-languageserver-protocol';

/**
 * The experiment templates the server can write (their text: server/src/experiment/templates.ts),
 * in the order New Experiment offers them; also the enum of the `sparsityStudio.newExperiment.template` setting.
 */
export const EXPERIMENT_TEMPLATE_KINDS = ['sapp', 'acdc', 'magnitude', 'teacher', 'ctr'] as const;
export type ExperimentTemplateKind = (typeof EXPERIMENT_TEMPLATE_KINDS)[number];

export function isExperimentTemplateKind(value: unknown): value is ExperimentTemplateKind {
  return (EXPERIMENT_TEMPLATE_KINDS as readonly unknown[]).includes(value);
}

export interface ExperimentTemplateParams {
  /** Experiment name, also the file name stem; letters, digits, `.`, `_`, `-`. */
  name: string;
  template: ExperimentTemplateKind;
}

export interface ExperimentTemplateResult {
  /** A complete experiment file that validates with no diagnostics. */
  text: string;
}

/**
 * client -> server request. Trigger: the "Sparsity Studio: New Experiment" command, after the user
 * chose a name and a template. Reaction: the server returns the file text; the client writes it.
 * An invalid name or template is a `InvalidParams` response error.
 */
export const ExperimentTemplateRequest = new RequestType<ExperimentTemplateParams, ExperimentTemplateResult, void>(
  'sparsity/experiment/template',
);
