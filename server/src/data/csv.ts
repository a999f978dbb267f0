/**
 * The `csv` source: numeric features and an integer class label per row. The file is read whole
 * (CSV datasets that fit a classifier here are small); every bad row is a `DataError` with the
 * file and its 1-based line. Quotes: a field may be wrapped in `"` with `""` for a quote inside;
 * a quoted field cannot span lines.
 */
import { resolve } from 'node:path';
import type { DataConfig } from '../experiment/schema';
import { DataError, dataFileError, type Dataset } from './dataset';
import { MAX_WHOLE_FILE_BYTES, readRegularFileAsync, readRegularHead } from './regularFile';
import type { ConfigPath } from '../experiment/yamlDocument';
import { InMemorySplit, capIndices, firstRows, seededTestSplit, type InMemoryRows } from './inMemorySplit';

export type CsvDataConfig = Extract<DataConfig, { source: 'csv' }>;

export interface CsvOptions {
  delimiter: string;
  header: boolean;
  labelColumn: string | number;
  classes: number;
}

/** Splits one line into fields; throws a located `DataError` for a broken quote. */
export function splitCsvLine(
  line: string,
  delimiter: string,
  file: string,
  lineNo: number,
  key?: ConfigPath,
): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) {
          throw new DataError(`${file}:${lineNo}: unterminated quoted field`, file, lineNo, key);
        }
        value += line.slice(j, q);
        if (line[q + 1] === '"') {
          value += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i >= line.length) return fields;
      if (line[i] !== delimiter) {
        throw new DataError(
          `${file}:${lineNo}: unexpected text after a closing quote in field ${fields.length}`,
          file,
          lineNo,
          key,
        );
      }
      i += 1;
    } else {
      const end = line.indexOf(delimiter, i);
      if (end < 0) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, end));
      i = end + 1;
    }
  }
}

/** The lines of a text with their 1-based numbers, blank lines dropped, `\r\n` and a BOM handled. */
function* numberedLines(text: string): Generator<[lineNo: number, line: string]> {
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let lineNo = 1;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    if (line.trim() !== '') yield [lineNo, line];
    start = end + 1;
    lineNo += 1;
  }
}

/** Which column holds the label, from the header or a 0-based index. */
function labelIndex(
  columns: string[] | null,
  count: number,
  options: CsvOptions,
  file: string,
  lineNo: number,
): number {
  const key = ['data', 'label_column'];
  if (typeof options.labelColumn === 'number') {
    if (options.labelColumn >= count) {
      throw new DataError(
        `${file}:${lineNo}: label_column ${options.labelColumn} is out of range: the file has ${count} columns (0-based)`,
        file,
        lineNo,
        key,
      );
    }
    return options.labelColumn;
  }
  if (columns === null) {
    throw new DataError(
      `label_column '${options.labelColumn}' is a name, but header is false: give a 0-based column index`,
      file,
      lineNo,
      key,
    );
  }
  const index = columns.findIndex((c) => c.trim() === options.labelColumn);
  if (index < 0) {
    throw new DataError(
      `${file}:${lineNo}: no column named '${options.labelColumn}' in the header (${columns.map((c) => c.trim()).join(', ')})`,
      file,
      lineNo,
      key,
    );
  }
  return index;
}

export interface ParsedCsv extends InMemoryRows {
  /** Feature column names (header) or `column N` (0-based), the label column left out. */
  featureNames: string[];
}

/** Parses a whole CSV text into features and labels. `key` is the config key of the file. */
export function parseCsv(text: string, options: CsvOptions, file: string, key: ConfigPath): ParsedCsv {
  const lines = numberedLines(text);
  let columns: string[] | null = null;
  let firstLineNo = 1;
  let pending: [number, string] | undefined;
  const first = lines.next();
  if (first.done) throw new DataError(`${file}: the CSV file is empty`, file, undefined, key);
  if (options.header) {
    [firstLineNo] = first.value;
    columns = splitCsvLine(first.value[1], options.delimiter, file, firstLineNo, key);
  } else {
    pending = first.value;
    firstLineNo = first.value[0];
  }
  const width = columns?.length ?? splitCsvLine(first.value[1], options.delimiter, file, firstLineNo, key).length;
  if (width < 2) {
    throw new DataError(
      `${file}:${firstLineNo}: only one column with delimiter '${options.delimiter}': a CSV needs features and a label (is data.delimiter right?)`,
      file,
      firstLineNo,
      ['data', 'delimiter'],
    );
  }
  const label = labelIndex(columns, width, options, file, firstLineNo);
  const stride = width - 1;
  let capacity = 1024;
  let features = new Float32Array(capacity * stride);
  let labels = new Int32Array(capacity);
  let count = 0;
  const name = (c: number) => (columns ? `'${(columns[c] ?? '').trim()}'` : `${c}`);
  const rows = pending ? [pending, ...lines] : lines;
  for (const [lineNo, line] of rows) {
    const fields = splitCsvLine(line, options.delimiter, file, lineNo, key);
    if (fields.length !== width) {
      throw new DataError(`${file}:${lineNo}: ${fields.length} fields, expected ${width}`, file, lineNo, key);
    }
    if (count === capacity) {
      capacity *= 2;
      const grownFeatures = new Float32Array(capacity * stride);
      grownFeatures.set(features);
      features = grownFeatures;
      const grownLabels = new Int32Array(capacity);
      grownLabels.set(labels);
      labels = grownLabels;
    }
    let f = count * stride;
    for (let c = 0; c < width; c++) {
      const raw = (fields[c] ?? '').trim();
      const value = raw === '' ? NaN : Number(raw);
      if (c === label) {
        if (!Number.isInteger(value) || value < 0 || value >= options.classes) {
          throw new DataError(
            `${file}:${lineNo}: label '${raw}' in column ${name(c)} is not an integer in [0, ${options.classes}) (data.classes is ${options.classes})`,
            file,
            lineNo,
            key,
          );
        }
        labels[count] = value;
      } else {
        if (!Number.isFinite(value)) {
          throw new DataError(
            `${file}:${lineNo}: value '${raw}' in column ${name(c)} is not a number`,
            file,
            lineNo,
            key,
          );
        }
        features[f++] = value;
      }
    }
    count += 1;
  }
  if (count === 0) throw new DataError(`${file}: no data rows after the header`, file, undefined, key);
  const featureNames: string[] = [];
  for (let c = 0; c < width; c++)
    if (c !== label) featureNames.push(columns ? (columns[c] ?? '').trim() : `column ${c}`);
  return { features: features.slice(0, count * stride), stride, labels: labels.slice(0, count), featureNames };
}

async function readCsv(path: string, options: CsvOptions, key: ConfigPath): Promise<ParsedCsv> {
  let text: string;
  try {
    text = (await readRegularFileAsync(path, MAX_WHOLE_FILE_BYTES)).toString('utf8');
  } catch (error) {
    throw dataFileError(error, 'CSV file', key);
  }
  return parseCsv(text, options, path, key);
}

/** The number of fields on the first non-blank line, reading only the start of the file (for the probe). */
export function readCsvWidthSync(path: string, delimiter: string, key?: ConfigPath): { width: number; line: number } {
  let text: string;
  try {
    text = readRegularHead(path, 65_536).toString('utf8');
  } catch (error) {
    throw dataFileError(error, 'CSV file', key);
  }
  const next = numberedLines(text).next();
  if (next.done) throw new DataError(`${path}: the CSV file is empty`, path, undefined, key);
  const [line, content] = next.value;
  return { width: splitCsvLine(content, delimiter, path, line, key).length, line };
}

export async function openCsvDataset(data: CsvDataConfig, baseDir: string, seed: number): Promise<Dataset> {
  const options: CsvOptions = {
    delimiter: data.delimiter,
    header: data.header,
    labelColumn: data.label_column,
    classes: data.classes,
  };
  const trainPath = resolve(baseDir, data.path);
  const train = await readCsv(trainPath, options, ['data', 'path']);
  let trainSplit: InMemorySplit;
  let testSplit: InMemorySplit;
  let origin: string;
  if (data.test_path !== undefined) {
    const testPath = resolve(baseDir, data.test_path);
    const test = await readCsv(testPath, options, ['data', 'test_path']);
    if (test.stride !== train.stride) {
      throw new DataError(
        `${testPath}: ${test.stride} feature columns, but ${data.path} has ${train.stride}`,
        testPath,
        undefined,
        ['data', 'test_path'],
      );
    }
    trainSplit = new InMemorySplit(train, firstRows(train.labels.length, data.train_examples), data.shuffle);
    testSplit = new InMemorySplit(test, firstRows(test.labels.length, data.test_examples));
    origin = `test from ${data.test_path}`;
  } else {
    if (train.labels.length < 2) {
      throw new DataError(`${trainPath}: one data row cannot be split into train and test`, trainPath, undefined, [
        'data',
        'path',
      ]);
    }
    const split = seededTestSplit(train.labels.length, data.test_split, seed);
    trainSplit = new InMemorySplit(train, capIndices(split.train, data.train_examples), data.shuffle);
    testSplit = new InMemorySplit(train, capIndices(split.test, data.test_examples));
    origin = `test = seeded ${data.test_split} of the file`;
  }
  return {
    task: 'classification',
    inputShape: [train.stride],
    classes: data.classes,
    train: trainSplit,
    test: testSplit,
    description: `csv ${data.path}: ${trainSplit.size} train / ${testSplit.size} test examples of ${train.stride} features (${origin})`,
    close: () => Promise.resolve(),
  };
}
