import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkOutputFiles } from './replace.js';

test('checkOutputFiles: two outputs of one command on one path are refused, even with --force', () => {
  const d = os.tmpdir();
  const a = path.join(d, 'untapped-same-output.csv');
  assert.throws(() => checkOutputFiles([a, path.join(d, '.', 'untapped-same-output.csv')], true), /are the same file; give each output its own name/);
  checkOutputFiles([a, path.join(d, 'untapped-other-output.csv'), undefined], false);
});
