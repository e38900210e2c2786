'use strict';
// native/action.yml mirrors the inputs and outputs of ../action.yml, less
// the container action's internal inputs, which pass host paths through
// its args.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('./harness.js');

// interface returns the text from `inputs:` up to the next top-level key
// after `outputs:` (runs:), without trailing blank lines.
function iface(text) {
  const lines = text.split(/\r?\n/);
  const start = lines.indexOf('inputs:');
  const outputs = lines.indexOf('outputs:');
  assert.ok(start >= 0 && outputs > start, 'inputs: then outputs:');
  let end = outputs + 1;
  while (end < lines.length && !/^\S/.test(lines[end])) end++;
  const body = lines.slice(start, end);
  while (body[body.length - 1] === '') body.pop();
  return body;
}

const internalInputs = ['runner-temp', 'github-workspace'];

test('native/action.yml has the inputs and outputs of ../action.yml except the internal ones', () => {
  let want = iface(fs.readFileSync(path.join(h.NATIVE, '..', 'action.yml'), 'utf8'));
  for (const name of internalInputs) {
    const at = want.indexOf(`  ${name}:`);
    assert.ok(at > 0, `the root action has ${name}`);
    let end = at + 1;
    while (want[end].startsWith('    ')) end++;
    want = [...want.slice(0, at), ...want.slice(end)];
  }
  const got = iface(fs.readFileSync(path.join(h.NATIVE, 'action.yml'), 'utf8'));
  assert.deepEqual(got, want);
  assert.ok(got.length > 100, 'compared the whole interface');
});

test('native/action.yml runs main.js and post.js on node24, post always', () => {
  const text = fs.readFileSync(path.join(h.NATIVE, 'action.yml'), 'utf8');
  assert.match(text, /^name: oidc-exchange \(native\)$/m);
  assert.match(text, /^runs:\n  using: node24\n  main: main\.js\n  post: post\.js\n  post-if: always\(\)\n$/m);
  for (const name of internalInputs) assert.doesNotMatch(text, new RegExp(`^  ${name}:`, 'm'));
});
