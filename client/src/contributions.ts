/**
 * The commands and settings the extension contributes, as plain tables without `vscode`, so a unit
 * test can check them against package.json in both directions. The command ids and template kinds
 * are declared in protocol/ (the server uses them too); the titles and descriptions are the client's.
 */
import { COMMAND_IDS, type CommandId, type ExperimentTemplateKind } from '@protocol';

export const COMMANDS = {
  [COMMAND_IDS.newExperiment]: 'New Experiment',
  [COMMAND_IDS.runExperiment]: 'Run Experiment',
  [COMMAND_IDS.stopSession]: 'Stop Session',
  [COMMAND_IDS.resumeRun]: 'Resume Run',
  [COMMAND_IDS.openDashboard]: 'Open Dashboard',
  [COMMAND_IDS.previewSchedule]: 'Preview Schedule',
  [COMMAND_IDS.compareRuns]: 'Compare Runs…',
  [COMMAND_IDS.compareWith]: 'Compare With…',
  [COMMAND_IDS.exportRun]: 'Export Run',
  [COMMAND_IDS.deleteRun]: 'Delete Run',
  [COMMAND_IDS.refreshRuns]: 'Refresh Runs',
  [COMMAND_IDS.showBackendInfo]: 'Show Backend Information',
  [COMMAND_IDS.restartServer]: 'Restart Language Server',
  [COMMAND_IDS.showServerOutput]: 'Show Language Server Output',
  [COMMAND_IDS.runSweep]: 'Run Sweep',
  [COMMAND_IDS.stopSweep]: 'Stop Sweep',
  [COMMAND_IDS.openSweep]: 'Open Sweep',
} as const satisfies Record<CommandId, string>;

export const COMMAND_CATEGORY = 'Sparsity Studio';

/**
 * Setting keys (without the `sparsityStudio.` prefix) and their defaults. `engine.modulePaths` is
 * read by the server (`MODULE_PATHS_SETTING`, through workspace/configuration), the rest here.
 */
export const SETTINGS = {
  'trace.server': 'off' as 'off' | 'messages' | 'verbose',
  'newExperiment.template': 'sapp' as ExperimentTemplateKind,
  'engine.modulePaths': [] as string[],
} as const;
export type SettingKey = keyof typeof SETTINGS;

/** What each template starts from, in the New Experiment pick list and (with a full stop) the setting's enumDescriptions. */
export const TEMPLATE_DESCRIPTIONS = {
  sapp: 'SequentialAttention++ on a Fashion-MNIST MLP',
  acdc: 'ACDC baseline on a Fashion-MNIST MLP',
  magnitude: 'Block magnitude pruning on a Fashion-MNIST MLP',
  teacher: 'SA++ on a planted block-sparse teacher (support recovery)',
  ctr: 'SA++ on a click-through-rate model (Criteo layout)',
} as const satisfies Record<ExperimentTemplateKind, string>;

export const SETTINGS_SECTION = 'sparsityStudio';
export const RUNS_VIEW = 'sparsityStudio.runs';
export const LANGUAGE_ID = 'prune-yaml';
