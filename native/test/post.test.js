'use strict';
// post.js end to end: it runs the binary main saved in GITHUB_STATE, after
// checking it again against release.json.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('./harness.js');

const skip = process.platform === 'win32' && 'the fake binary is a shebang script';

// afterMain runs main.js and returns the environment the runner gives the
// post step: main's state as STATE_<name> variables.
async function afterMain(t) {
  const server = await h.serve(t);
  const action = h.makeAction(t);
  const { env, toolDir } = h.runner(t, server);
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 0, r.stdout);
  const postEnv = { ...env };
  for (const [k, v] of Object.entries(h.parseFileCommand(fs.readFileSync(env.GITHUB_STATE, 'utf8')))) postEnv[`STATE_${k}`] = v;
  return { server, action, env: postEnv, bin: path.join(toolDir, 'oidc-exchange') };
}

test('post runs the saved binary with --native --post and propagates its exit code', { skip }, async (t) => {
  const { server, action, env, bin } = await afterMain(t);
  assert.equal(env.STATE_oidc_exchange_binary, bin);
  env.FAKE_EXIT = '3';
  const r = await h.node(path.join(action, 'post.js'), env);
  assert.equal(r.code, 3, r.stdout);
  const recs = h.records(env);
  assert.equal(recs.length, 2);
  assert.equal(recs[1].argv0, bin);
  assert.deepEqual(recs[1].args, ['--native', '--post']);
  assert.equal(recs[1].inputs['INPUT_ROLE-TO-ASSUME'], 'arn:aws:iam::123456789012:role/ci');
  assert.match(r.stdout, /^::add-mask::printed-by-the-binary$/m);
  assert.equal(server.requests.length, 1, 'post downloads nothing');
});

test('post without saved state does nothing and succeeds, even on a development ref', { skip }, async (t) => {
  const action = h.makeAction(t, fs.readFileSync(path.join(h.NATIVE, 'release.json'), 'utf8'));
  const { env } = h.runner(t);
  const r = await h.node(path.join(action, 'post.js'), env);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '');
  assert.deepEqual(h.records(env), []);
});

test('post refuses a saved binary that no longer matches release.json', { skip }, async (t) => {
  const { action, env, bin } = await afterMain(t);
  fs.writeFileSync(bin, h.OTHER);
  const r = await h.node(path.join(action, 'post.js'), env);
  assert.equal(r.code, 1);
  const errs = h.errors(r.stdout);
  assert.equal(errs.length, 1);
  assert.match(errs[0], /no longer matches release\.json .*refusing to run it/);
  assert.ok(errs[0].includes(h.sha256(h.BINARY)) && errs[0].includes(h.sha256(h.OTHER)));
  assert.equal(h.records(env).length, 1, 'only main ran a binary');
});

test('post refuses a missing or relative saved path', { skip }, async (t) => {
  const { action, env, bin } = await afterMain(t);
  for (const [saved, why] of [[`${bin}.gone`, /unreadable \(ENOENT\).*refusing to run it/], ['oidc-exchange', /not absolute; refusing to run it/]]) {
    const r = await h.node(path.join(action, 'post.js'), { ...env, STATE_oidc_exchange_binary: saved });
    assert.equal(r.code, 1);
    assert.match(h.errors(r.stdout)[0], why);
  }
  assert.equal(h.records(env).length, 1);
});
