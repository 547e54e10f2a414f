import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/index.js';
import { loadCsv, parseCsv, parseCsvRows, setFileReader } from '../../src/data/index.js';
import { assertThrowsMsg } from '../helpers.js';

test('parses a header, numeric features and text class labels', () => {
  const text = 'sepal,petal,species\n5.1,1.4,setosa\r\n6.0,4.5,versicolor\n\n5.0,1.3,setosa\n';
  const d = parseCsv(text, { target: 'species' });
  assert.deepEqual(d.columns, ['sepal', 'petal']);
  assert.deepEqual(d.x.shape, [3, 2]);
  assert.deepEqual([...d.x.dataSync()].map((v) => Math.round(v * 10) / 10), [5.1, 1.4, 6.0, 4.5, 5.0, 1.3]);
  assert.deepEqual(d.classes, ['setosa', 'versicolor']);
  assert.equal(d.y!.dtype, 'int32');
  assert.deepEqual([...d.y!.dataSync()], [0, 1, 0]);
  assert.equal(d.dataset.length, 3);
});

test('headerless files, numeric targets, ignored columns and quoted cells', () => {
  const d = parseCsv('1,2,0.5\n3,4,1.5\n', { target: 2 });
  assert.deepEqual(d.columns, ['column0', 'column1']);
  assert.equal(d.y!.dtype, 'float32');
  assert.deepEqual(d.y!.shape, [2, 1]);
  const textLabels = parseCsv('5.1,1.4,setosa\n6.0,4.5,versicolor\n', { target: 2 });
  assert.equal(textLabels.x.shape[0], 2, 'a text label column alone does not make row 1 a header');
  assert.deepEqual(textLabels.classes, ['setosa', 'versicolor']);
  assertThrowsMsg(() => parseCsv('a,b\n1,2\n', { header: false }), /line 1, column 1 \(column0\): "a" is not a number/);
  const labels = parseCsv('a;b;id;label\n1;2;x;1\n3;4;y;0\n', { delimiter: ';', target: 'label', ignore: ['id'] });
  assert.deepEqual(labels.columns, ['a', 'b']);
  assert.deepEqual([...labels.y!.dataSync()], [1, 0]);
  const rows = parseCsvRows('"a, ""quoted""",b\n"multi\nline",c\n');
  assert.deepEqual(rows.map((r) => r.cells), [['a, "quoted"', 'b'], ['multi\nline', 'c']]);
  assert.deepEqual(rows.map((r) => r.line), [1, 2]);
});

test('malformed input is reported with line and column', () => {
  assertThrowsMsg(() => parseCsv('a,b\n1,2\n3\n'), /line 3 has 1 fields, expected 2/);
  assertThrowsMsg(() => parseCsv('a,b\n1,2\n3,oops\n'), /line 3, column 2 \(b\): "oops" is not a number/);
  assertThrowsMsg(() => parseCsv('a,b\n1,\n'), /line 2, column 2 \(b\): is empty/);
  assertThrowsMsg(() => parseCsvRows('a,"b\n1,2\n'), /line 1, column 2: a quoted field is never closed/);
  assertThrowsMsg(() => parseCsvRows('"a"x,b\n'), /line 1, column 1: unexpected "x" after a closing quote/);
  assertThrowsMsg(() => parseCsv('a,b\n1,2\n', { target: 'c' }), /target "c" is not a column; columns are a, b/);
  assertThrowsMsg(() => parseCsv('a,b\n1,2\n2,-1\n', { target: 'b', targetType: 'class' }), /line 3, column 2 \(b\): class label -1/);
  assertThrowsMsg(() => parseCsv(''), /no rows/);
});

test('loadCsv reads through the platform file reader', async () => {
  try {
    setFileReader(async (p) => {
      if (p === 'mem://data.csv') return 'x,y\n1,0\n2,1\n';
      throw new Error('no such file');
    });
    const d = await loadCsv('mem://data.csv', { target: 'y' });
    assert.deepEqual([...d.y!.dataSync()], [0, 1]);
    await assert.rejects(loadCsv('mem://missing.csv'), /loadCsv: could not read mem:\/\/missing.csv: no such file/);
    setFileReader(async () => 'a\n1\nq\n');
    await assert.rejects(loadCsv('bad.csv'), /loadCsv\(bad.csv\): line 3, column 1 \(a\)/);
  } finally {
    setFileReader(null);
  }
});

test('loadCsv reads a real file with the default (Node) reader', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradkit-csv-'));
  try {
    const file = join(dir, 'd.csv');
    writeFileSync(file, 'u,v,label\n0.5,1,cat\n2,3,dog\n');
    const d = await loadCsv(file, { target: 'label' });
    assert.deepEqual([...d.x.dataSync()], [0.5, 1, 2, 3]);
    assert.deepEqual(d.classes, ['cat', 'dog']);
    await assert.rejects(loadCsv(join(dir, 'missing.csv')), /loadCsv: could not read .*missing.csv: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
