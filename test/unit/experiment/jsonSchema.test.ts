import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { experimentJsonSchema, schemaAtPath } from '../../../server/src/experiment/jsonSchema';
import { SCHEMA_FILE, renderSchema } from '../../../scripts/generateSchema';

describe('the generated JSON Schema', () => {
  it('is checked in and up to date (run `npm run schema` when this fails)', () => {
    assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), renderSchema());
  });

  it('is draft-07 and documents every key with markdown', () => {
    const schema = experimentJsonSchema();
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    const undocumented: string[] = [];
    const walk = (s: typeof schema, path: string) => {
      for (const [key, child] of Object.entries(s.properties ?? {})) {
        if (!child.markdownDescription) undocumented.push(`${path}.${key}`);
        walk(child, `${path}.${key}`);
      }
      for (const branch of [...(s.oneOf ?? []), ...(s.anyOf ?? [])]) walk(branch, path);
    };
    walk(schema, '');
    assert.deepEqual(undocumented, []);
  });

  it('resolves the schema at a path through the discriminators', () => {
    assert.equal(
      schemaAtPath(['pruning', 'schedule', 'sparse_share'], { pruning: { method: 'acdc' } })?.type,
      'number',
    );
    assert.equal(schemaAtPath(['pruning', 'schedule', 'sparse_share'], { pruning: { method: 'sapp' } }), undefined);
    assert.deepEqual(schemaAtPath(['backend'], {})?.enum, ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']);
  });
});
