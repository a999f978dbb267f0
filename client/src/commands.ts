/** Command implementations, one per id of the COMMANDS table. */
import * as vscode from 'vscode';
import { ExperimentTemplateRequest, type ExperimentTemplateKind } from '@protocol';
import { COMMANDS, type CommandId } from './contributions';
import type { Ctx } from './ctx';

/** Arguments that let tests and other extensions skip the prompts of New Experiment. */
export interface NewExperimentArgs {
  name?: string;
  template?: ExperimentTemplateKind;
  folder?: string;
}

const TEMPLATE_PICKS: { label: ExperimentTemplateKind; description: string }[] = [
  { label: 'sapp', description: 'SequentialAttention++ on a Fashion-MNIST MLP' },
  { label: 'acdc', description: 'ACDC baseline on a Fashion-MNIST MLP' },
  { label: 'magnitude', description: 'Block magnitude pruning on a Fashion-MNIST MLP' },
  { label: 'teacher', description: 'SA++ on a planted block-sparse teacher (support F1)' },
  { label: 'ctr', description: 'SA++ on a click-through-rate model (Criteo layout)' },
];

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

async function newExperiment(ctx: Ctx, args: NewExperimentArgs = {}): Promise<vscode.Uri | undefined> {
  const name =
    args.name ??
    (await vscode.window.showInputBox({
      title: 'New pruning experiment',
      prompt: 'Experiment name (also the file name)',
      value: 'my-experiment',
      validateInput: (v) =>
        NAME_PATTERN.test(v) ? undefined : 'Letters, digits, ".", "_" and "-", at most 64 characters',
    }));
  if (!name) return undefined;
  const template =
    args.template ??
    (
      await vscode.window.showQuickPick(
        TEMPLATE_PICKS.map((p) => ({ ...p, picked: p.label === ctx.config.get('newExperiment.template') })),
        { title: 'Start from', placeHolder: ctx.config.get('newExperiment.template') },
      )
    )?.label;
  if (!template) return undefined;
  const folder = args.folder
    ? vscode.Uri.file(args.folder)
    : vscode.window.activeTextEditor?.document.uri.scheme === 'file'
      ? vscode.Uri.joinPath(vscode.window.activeTextEditor.document.uri, '..')
      : vscode.workspace.workspaceFolders?.[0]?.uri;
  if (!folder) {
    void vscode.window.showErrorMessage('Open a folder first: the experiment file is written into it.');
    return undefined;
  }
  let text: string;
  try {
    ({ text } = await ctx.client.sendRequest(ExperimentTemplateRequest, { name, template }));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`Sparsity Studio: no experiment written: ${reason}`);
    return undefined;
  }
  let uri = vscode.Uri.joinPath(folder, `${name}.prune.yaml`);
  for (let n = 2; await exists(uri); n++) uri = vscode.Uri.joinPath(folder, `${name}-${n}.prune.yaml`);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  await vscode.window.showTextDocument(uri);
  return uri;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

const HANDLERS: Record<CommandId, (ctx: Ctx, ...args: never[]) => unknown> = {
  'sparsityStudio.newExperiment': newExperiment,
  'sparsityStudio.restartServer': (ctx) => ctx.restart(),
  'sparsityStudio.showServerOutput': (ctx) => ctx.output.show(true),
};

export function registerCommands(ctx: Ctx): void {
  for (const id of Object.keys(COMMANDS) as CommandId[]) {
    const handler = HANDLERS[id] as (ctx: Ctx, ...args: unknown[]) => unknown;
    ctx.register(vscode.commands.registerCommand(id, (...args: unknown[]) => handler(ctx, ...args)));
  }
}
