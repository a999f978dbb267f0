// Writes schemas/prune-experiment.schema.json from the zod schema (`npm run schema`).
// test/unit/experiment/jsonSchema.test.ts fails when the checked-in file is stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { experimentJsonSchema } from '../server/src/experiment/jsonSchema';

export const SCHEMA_FILE = join(__dirname, '..', 'schemas', 'prune-experiment.schema.json');

export function renderSchema(): string {
  return `${JSON.stringify(experimentJsonSchema(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(SCHEMA_FILE, renderSchema());
  console.log(`wrote ${SCHEMA_FILE}`);
}
