/**
 * The ids of the commands the extension contributes. The client registers every one
 * (client/src/commands.ts) and lists it in package.json; the server's code lenses name some of
 * them, so the ids are part of the contract between the two. test/unit/client/manifest.test.ts
 * checks package.json, the client's table and the lens commands against each other.
 */
export const COMMAND_IDS = {
  newExperiment: 'sparsityStudio.newExperiment',
  runExperiment: 'sparsityStudio.runExperiment',
  stopSession: 'sparsityStudio.stopSession',
  resumeRun: 'sparsityStudio.resumeRun',
  openDashboard: 'sparsityStudio.openDashboard',
  previewSchedule: 'sparsityStudio.previewSchedule',
  compareRuns: 'sparsityStudio.compareRuns',
  compareWith: 'sparsityStudio.compareWith',
  exportRun: 'sparsityStudio.exportRun',
  deleteRun: 'sparsityStudio.deleteRun',
  refreshRuns: 'sparsityStudio.refreshRuns',
  showBackendInfo: 'sparsityStudio.showBackendInfo',
  restartServer: 'sparsityStudio.restartServer',
  showServerOutput: 'sparsityStudio.showServerOutput',
  runSweep: 'sparsityStudio.runSweep',
  stopSweep: 'sparsityStudio.stopSweep',
  openSweep: 'sparsityStudio.openSweep',
} as const;
export type CommandId = (typeof COMMAND_IDS)[keyof typeof COMMAND_IDS];

/**
 * The commands the server's code lenses above an experiment invoke, each with one argument:
 * `runExperiment`, `runSweep` and `previewSchedule` the document's URI, `stopSession` the session
 * id, `stopSweep` the sweep id, `openDashboard` the run folder, `openSweep` the sweep folder.
 */
export const LENS_COMMANDS = [
  COMMAND_IDS.runExperiment,
  COMMAND_IDS.previewSchedule,
  COMMAND_IDS.stopSession,
  COMMAND_IDS.openDashboard,
  COMMAND_IDS.runSweep,
  COMMAND_IDS.stopSweep,
  COMMAND_IDS.openSweep,
] as const satisfies readonly CommandId[];
export type LensCommandId = (typeof LENS_COMMANDS)[number];
