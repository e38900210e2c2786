'use strict';
// native/action.yml mirrors the inputs and outputs of ../action.yml, less
// the container action's internal runner-temp input.

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

test('native/action.yml has the inputs and outputs of ../action.yml except runner-temp', () => {
  const root = iface(fs.readFileSync(path.join(h.NATIVE, '..', 'action.yml'), 'utf8'));
  const rt = root.indexOf('  runner-temp:');
  assert.ok(rt > 0, 'the root action has runner-temp');
  let end = rt + 1;
  while (root[end].startsWith('    ')) end++;
  const want = [...root.slice(0, rt), ...root.slice(end)];
  const got = iface(fs.readFileSync(path.join(h.NATIVE, 'action.yml'), 'utf8'));
  assert.deepEqual(got, want);
  assert.ok(got.length > 100, 'compared the whole interface');
});

test('native/action.yml runs main.js and post.js on node24, post always', () => {
  const text = fs.readFileSync(path.join(h.NATIVE, 'action.yml'), 'utf8');
  assert.match(text, /^name: oidc-exchange \(native\)$/m);
  assert.match(text, /^runs:\n  using: node24\n  main: main\.js\n  post: post\.js\n  post-if: always\(\)\n$/m);
  assert.doesNotMatch(text, /^  runner-temp:/m);
});
