/**
 * The commands and settings the extension contributes, as plain tables without `vscode`, so a unit
 * test can check them against package.json in both directions.
 */
export const COMMANDS = {
  'sparsityStudio.newExperiment': 'New Experiment',
  'sparsityStudio.runExperiment': 'Run Experiment',
  'sparsityStudio.stopSession': 'Stop Session',
  'sparsityStudio.resumeRun': 'Resume Run',
  'sparsityStudio.openDashboard': 'Open Dashboard',
  'sparsityStudio.previewSchedule': 'Preview Schedule',
  'sparsityStudio.compareRuns': 'Compare Runs',
  'sparsityStudio.exportRun': 'Export Run',
  'sparsityStudio.deleteRun': 'Delete Run',
  'sparsityStudio.refreshRuns': 'Refresh Runs',
  'sparsityStudio.showBackendInfo': 'Show Backend Information',
  'sparsityStudio.restartServer': 'Restart Language Server',
  'sparsityStudio.showServerOutput': 'Show Language Server Output',
} as const;
export type CommandId = keyof typeof COMMANDS;

export const COMMAND_CATEGORY = 'Sparsity Studio';

/** Setting keys (without the `sparsityStudio.` prefix) and their defaults. */
export const SETTINGS = {
  'trace.server': 'off' as 'off' | 'messages' | 'verbose',
  'newExperiment.template': 'sapp' as 'sapp' | 'acdc' | 'magnitude' | 'teacher' | 'ctr',
} as const;
export type SettingKey = keyof typeof SETTINGS;

export const SETTINGS_SECTION = 'sparsityStudio';
export const RUNS_VIEW = 'sparsityStudio.runs';
export const LANGUAGE_ID = 'prune-yaml';
