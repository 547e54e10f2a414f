import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import { backendName, setBackend } from '../../src/index.js';
import { train } from '../../src/index.js';

function memEnv() {
  const out: string[] = [];
  return { storage: train.memoryStorage(), sink: { write: (s: string) => void out.push(s) }, out };
}

test('--backend picks the backend a command computes on; an unknown name is a usage error listing the choices', async () => {
  const before = backendName();
  try {
    const env = memEnv();
    assert.equal(await main(['info', '--backend', 'reference'], env), 0);
    assert.match(env.out.join(''), /backend in use: reference:/);
    const bad = memEnv();
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (errors.push(s), true)) as typeof process.stderr.write;
    try {
      assert.equal(await main(['train', '--backend', 'cuda'], bad), 2);
    } finally {
      process.stderr.write = write;
    }
    assert.match(errors.join(''), /gradkit: --backend must be one of .*reference.*wasm.*webgpu, auto; got 'cuda'/);
  } finally {
    setBackend(before);
  }
});
