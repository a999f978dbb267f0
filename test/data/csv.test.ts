import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openCsvDataset, readCsvWidthSync, splitCsvLine, type CsvDataConfig } from '../../server/src/data/csv';
import { DataSchema } from '../../server/src/experiment/schema';
import { assertDataError, assertDeterministicSplit, collect, tempDir } from './dataTestUtils';

const tmp = tempDir('csv');
after(tmp.remove);
const write = (name: string, text: string) => {
  const file = join(tmp.dir, name);
  writeFileSync(file, text);
  return file;
};
const config = (extra: Record<string, unknown>) =>
  DataSchema.parse({ source: 'csv', classes: 3, ...extra }) as CsvDataConfig;

/** `rows` rows `x1,label,x2` where x1 = row index and x2 = -row/2. */
function table(rows: number, header = 'x1,label,x2') {
  const lines = header ? [header] : [];
  for (let i = 0; i < rows; i++) lines.push(`${i},${i % 3},${-i / 2}`);
  return lines.join('\n') + '\n';
}

const all = { batchSize: 1000, epoch: 0, shuffleSeed: null };

describe('CSV lines', () => {
  it('splits plain and quoted fields', () => {
    assert.deepEqual(splitCsvLine('1,"a,b",""" q """,', ',', 'f', 1), ['1', 'a,b', '" q "', '']);
    assert.deepEqual(splitCsvLine('1;2;3', ';', 'f', 1), ['1', '2', '3']);
  });

  it('rejects broken quotes with the line', () => {
    assert.throws(() => splitCsvLine('1,"abc', ',', 'f.csv', 7), /f\.csv:7: unterminated quoted field/);
    assert.throws(() => splitCsvLine('"a"b,1', ',', 'f.csv', 2), /f\.csv:2: unexpected text after a closing quote/);
  });
});

describe('csv source', () => {
  const train = write('train.csv', table(120));

  it('reads features without the label column, by name, with a seeded disjoint test split', async () => {
    const data = await openCsvDataset(config({ path: 'train.csv', test_split: 0.25 }), tmp.dir, 5);
    assert.deepEqual(data.inputShape, [2]);
    assert.equal(data.train.size, 90);
    assert.equal(data.test.size, 30);
    const rowsOf = async (split: typeof data.train) =>
      (await collect(split, all)).flatMap((b) =>
        Array.from({ length: b.size }, (_, i) => {
          const x1 = b.features[2 * i]!;
          assert.equal(b.features[2 * i + 1], -x1 / 2 + 0, 'the label column is skipped');
          assert.equal(b.labels[i], x1 % 3);
          return x1;
        }),
      );
    const ids = [...(await rowsOf(data.train)), ...(await rowsOf(data.test))].sort((a, b) => a - b);
    assert.deepEqual(
      ids,
      Array.from({ length: 120 }, (_, i) => i),
      'train and test partition the file',
    );
    await assertDeterministicSplit(data.train, 8);
  });

  it('takes the label by 0-based index without a header, a delimiter, a test file and caps', async () => {
    write('semi.csv', table(40, '').replaceAll(',', ';'));
    write('semi-test.csv', table(10, '').replaceAll(',', ';'));
    const data = await openCsvDataset(
      config({
        path: 'semi.csv',
        test_path: 'semi-test.csv',
        header: false,
        label_column: 1,
        delimiter: ';',
        train_examples: 25,
        test_examples: 4,
      }),
      tmp.dir,
      1,
    );
    assert.equal(data.train.size, 25);
    assert.equal(data.test.size, 4);
    const [batch] = await collect(data.test, all);
    assert.deepEqual(Array.from(batch!.features), [0, 0, 1, -0.5, 2, -1, 3, -1.5]);
    assert.deepEqual(Array.from(batch!.labels), [0, 1, 2, 0]);
  });

  it('accepts quotes, CRLF, a BOM and blank lines', async () => {
    write('quoted.csv', '\ufeff"x1","label","x2"\r\n"1",2,"3.5"\r\n\r\n4,0,-1e2\r\n');
    const data = await openCsvDataset(config({ path: 'quoted.csv', test_path: 'quoted.csv' }), tmp.dir, 1);
    const [batch] = await collect(data.test, all);
    assert.deepEqual(Array.from(batch!.features), [1, 3.5, 4, -100]);
    assert.deepEqual(Array.from(batch!.labels), [2, 0]);
  });

  it('reads the column count from the first line only (probe)', () => {
    assert.deepEqual(readCsvWidthSync(train, ','), { width: 3, line: 1 });
  });

  const bad = [
    ['a row with too few fields', 'x1,label,x2\n1,0,2\n3,1\n', 3, /:3: 2 fields, expected 3/],
    [
      'a non-numeric value',
      'x1,label,x2\n1,0,2\n3,1,4\n5,2,abc\n',
      4,
      /:4: value 'abc' in column 'x2' is not a number/,
    ],
    ['an empty value', 'x1,label,x2\n1,0,\n', 2, /:2: value '' in column 'x2' is not a number/],
    [
      'a label out of range',
      'x1,label,x2\n1,0,2\n\n3,3,4\n',
      4,
      /:4: label '3' in column 'label' is not an integer in \[0, 3\)/,
    ],
    ['a fractional label', 'x1,label,x2\n1,0.5,2\n', 2, /:2: label '0.5' in column 'label' is not an integer/],
  ] as const;
  for (const [what, text, line, message] of bad) {
    it(`rejects ${what} with its 1-based line`, async () => {
      const file = write(`bad-${line}-${what.length}.csv`, text);
      await assertDataError(openCsvDataset(config({ path: file }), tmp.dir, 1), {
        message,
        file,
        line,
        key: ['data', 'path'],
      });
    });
  }

  it('locates a bad row of the test file at test_path', async () => {
    const file = write('bad-test.csv', 'x1,label,x2\n1,0,2\n1,0,2,4\n');
    await assertDataError(openCsvDataset(config({ path: train, test_path: file }), tmp.dir, 1), {
      message: /:3: 4 fields, expected 3/,
      file,
      line: 3,
      key: ['data', 'test_path'],
    });
  });

  it('rejects an unknown label column, a name without header, a missing or empty file', async () => {
    await assertDataError(openCsvDataset(config({ path: train, label_column: 'y' }), tmp.dir, 1), {
      message: /no column named 'y' in the header \(x1, label, x2\)/,
      file: train,
      line: 1,
      key: ['data', 'label_column'],
    });
    await assertDataError(openCsvDataset(config({ path: train, label_column: 5 }), tmp.dir, 1), {
      message: /label_column 5 is out of range: the file has 3 columns/,
      key: ['data', 'label_column'],
    });
    await assertDataError(openCsvDataset(config({ path: train, header: false }), tmp.dir, 1), {
      message: /label_column 'label' is a name, but header is false/,
      key: ['data', 'label_column'],
    });
    const missing = join(tmp.dir, 'missing.csv');
    await assertDataError(openCsvDataset(config({ path: 'missing.csv' }), tmp.dir, 1), {
      message: /CSV file not found: .*missing\.csv/,
      file: missing,
      key: ['data', 'path'],
    });
    const empty = write('empty.csv', '\n\n');
    await assertDataError(openCsvDataset(config({ path: empty }), tmp.dir, 1), {
      message: /the CSV file is empty/,
      file: empty,
    });
    const wrongDelimiter = write('tabs.csv', 'x1\tlabel\n1\t0\n');
    await assertDataError(openCsvDataset(config({ path: wrongDelimiter }), tmp.dir, 1), {
      message: /only one column with delimiter ','.*is data\.delimiter right/,
      key: ['data', 'delimiter'],
    });
  });
});
