import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intFlag } from '../../src/cli/flags.js';
import { assertThrowsMsg } from '../helpers.js';

test('intFlag parses positive integers and names the subcommand in its error', () => {
  assert.equal(intFlag('tune', 'workers', undefined), undefined);
  assert.equal(intFlag('tune', 'workers', '3'), 3);
  assertThrowsMsg(() => intFlag('tune', 'workers', '0'), /gradkit tune/, /--workers must be a positive whole number, got '0'/);
  assertThrowsMsg(() => intFlag('gradcheck', 'samples', '2.5'), /gradkit gradcheck/, /--samples/);
});
