/**
 * `sparsity-studio backends [FILE] [--format text|json]`: what `backend: auto` picks here and why,
 * with the search for tfjs-node(-gpu) (every folder, every copy found and why it was or was not
 * used): the same report as the editor's Show Backend Information. FILE adds its folder and parents
 * to the search, as a run of it would.
 */
import { dirname, resolve } from 'node:path';
import { selectBackend } from '../engine/backends';
import { describeBackendInfo } from '../engine/backendSearch';
import { backendFolders } from '../runs/runExperiment';
import type { CommandSpec } from './args';
import type { CliIo, ParsedCommand } from './io';

export const BACKENDS: CommandSpec = {
  name: 'backends',
  summary: 'Show which compute backend `auto` picks here, and where tfjs-node(-gpu) was looked for.',
  positionals: { names: '[FILE]', min: 0, max: 1 },
  options: {
    format: {
      type: 'string',
      choices: ['text', 'json'],
      description: 'text (default): the report; json: the choice, every attempt and the search.',
    },
  },
  notes: [
    'Searched: SPARSITY_STUDIO_MODULE_PATHS (folders separated like PATH), the working directory, the',
    'folder of FILE and its parents, and the global npm root. exit status: 0, or 2 on bad usage.',
  ],
};

export async function backendsCommand({ options, positionals }: ParsedCommand, io: CliIo): Promise<number> {
  const file = positionals[0];
  const info = await selectBackend('auto', backendFolders(file ? dirname(resolve(file)) : process.cwd()));
  if (options['format'] === 'json') io.out(JSON.stringify(info, null, 2));
  else for (const line of describeBackendInfo(info)) io.out(line);
  return 0;
}
