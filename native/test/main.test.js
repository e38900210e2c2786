'use strict';
// main.js end to end: a copy of the action run as a child process against a
// loopback release server, in a simulated runner.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('./harness.js');

const skip = process.platform === 'win32' && 'the fake binary is a shebang script';
const ASSET_PATH = `/releases/download/${h.VERSION}/oidc-exchange_linux_amd64`;

test('happy path: downloads, verifies, caches, saves state, runs --native and propagates the exit code', { skip }, async (t) => {
  const server = await h.serve(t);
  const action = h.makeAction(t);
  const { env, toolDir } = h.runner(t, server);
  env.FAKE_EXIT = '4';

  const r = await h.node(path.join(action, 'main.js'), env);

  assert.equal(r.code, 4, r.stdout + r.stderr);
  assert.deepEqual(server.requests, [ASSET_PATH]);
  const bin = path.join(toolDir, 'oidc-exchange');
  assert.deepEqual(fs.readFileSync(bin), h.BINARY);
  assert.equal(fs.statSync(bin).mode & 0o777, 0o755);
  assert.ok(fs.existsSync(path.join(toolDir, '..', 'x64.complete')), 'tool-cache marker');
  assert.deepEqual(h.filesUnder(path.dirname(toolDir)).sort(), [bin, path.join(toolDir, '..', 'x64.complete')].sort(), 'no temp files left');

  const [rec, ...more] = h.records(env);
  assert.equal(more.length, 0);
  assert.equal(rec.argv0, bin);
  assert.deepEqual(rec.args, ['--native']);
  assert.equal(rec.inputs['INPUT_ROLE-TO-ASSUME'], 'arn:aws:iam::123456789012:role/ci');
  assert.equal(rec.inputs['INPUT_AWS-REGION'], 'eu-west-1');
  // The state was written before the binary ran.
  assert.equal(h.parseFileCommand(rec.state).oidc_exchange_binary, bin);
  assert.deepEqual(h.parseFileCommand(fs.readFileSync(env.GITHUB_STATE, 'utf8')), { oidc_exchange_binary: bin });
  // The binary's stdout reaches the runner untouched.
  assert.match(r.stdout, /^::add-mask::printed-by-the-binary$/m);
  assert.match(r.stdout, /^::debug::oidc-exchange v1\.2\.3 .*oidc-exchange_linux_amd64$/m);
  assert.match(r.stdout, /^::debug::cache miss: /m);
  assert.match(r.stdout, /^::debug::download: \d+ bytes, hashed while streaming, in \d+ ms$/m);
  assert.deepEqual(h.errors(r.stdout), []);
});

test('GITHUB_STATE uses the heredoc form with a random ghadelimiter_ delimiter', { skip }, async (t) => {
  const server = await h.serve(t);
  const action = h.makeAction(t);
  const { env, toolDir } = h.runner(t, server);
  fs.writeFileSync(env.GITHUB_STATE, 'earlier=value\n'); // another step's state survives
  assert.equal((await h.node(path.join(action, 'main.js'), env)).code, 0);
  const text = fs.readFileSync(env.GITHUB_STATE, 'utf8');
  const m = text.match(/^earlier=value\noidc_exchange_binary<<(ghadelimiter_[0-9a-f-]{36})\n(.*)\n\1\n$/);
  assert.ok(m, text);
  assert.equal(m[2], path.join(toolDir, 'oidc-exchange'));
  assert.deepEqual(h.parseFileCommand(text), { earlier: 'value', oidc_exchange_binary: m[2] });
});

test('a second run reuses the cache without a request', { skip }, async (t) => {
  const server = await h.serve(t);
  const action = h.makeAction(t);
  const { env } = h.runner(t, server);
  assert.equal((await h.node(path.join(action, 'main.js'), env)).code, 0);
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 0, r.stdout);
  assert.equal(server.requests.length, 1);
  assert.match(r.stdout, /^::debug::cache hit: /m);
  assert.match(r.stdout, /^::debug::verify of cached .*: \d+ ms$/m);
  assert.equal(h.records(env).length, 2);
});

test('a fresh download with the wrong checksum is refused and not run, and nothing is cached', { skip }, async (t) => {
  const server = await h.serve(t, (req, res) => res.end(h.OTHER));
  const action = h.makeAction(t);
  const { env, root } = h.runner(t, server);
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 1);
  const errs = h.errors(r.stdout);
  assert.equal(errs.length, 1, r.stdout);
  assert.match(errs[0], /refusing to run it/);
  assert.ok(errs[0].includes(h.sha256(h.BINARY)) && errs[0].includes(h.sha256(h.OTHER)), 'both hashes named');
  assert.ok(errs[0].includes(`${server.url}${ASSET_PATH}`), 'URL named');
  assert.deepEqual(h.records(env), [], 'binary not executed');
  assert.deepEqual(h.filesUnder(path.join(root, 'tool-cache')), []);
  assert.equal(fs.readFileSync(env.GITHUB_STATE, 'utf8'), '', 'no state: post has nothing to run');
  assert.equal(server.requests.length, 1, 'a checksum mismatch is not retried');
});

test('a tampered cache is replaced by a fresh download, with a warning', { skip }, async (t) => {
  const server = await h.serve(t);
  const action = h.makeAction(t);
  const { env, toolDir } = h.runner(t, server);
  assert.equal((await h.node(path.join(action, 'main.js'), env)).code, 0);
  const bin = path.join(toolDir, 'oidc-exchange');
  fs.writeFileSync(bin, h.OTHER); // still executable, still marked complete

  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 0, r.stdout);
  assert.equal(server.requests.length, 2);
  const warnings = r.stdout.split('\n').filter((l) => l.startsWith('::warning::'));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /does not match release\.json.*downloading again/);
  assert.deepEqual(fs.readFileSync(bin), h.BINARY);
  assert.equal(h.records(env).length, 2, 'both runs ran the released binary');
});

test('a cached binary without its .complete marker is downloaded again', { skip }, async (t) => {
  const server = await h.serve(t);
  const action = h.makeAction(t);
  const { env, toolDir } = h.runner(t, server);
  fs.mkdirSync(toolDir, { recursive: true });
  fs.writeFileSync(path.join(toolDir, 'oidc-exchange'), 'half a download');
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 0, r.stdout);
  assert.equal(server.requests.length, 1);
  assert.deepEqual(fs.readFileSync(path.join(toolDir, 'oidc-exchange')), h.BINARY);
});

test('a development release.json fails with "not a release" before any request', { skip }, async (t) => {
  const server = await h.serve(t);
  const action = h.makeAction(t, fs.readFileSync(path.join(h.NATIVE, 'release.json'), 'utf8'));
  const { env } = h.runner(t, server);
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 1);
  const errs = h.errors(r.stdout);
  assert.equal(errs.length, 1);
  assert.match(errs[0], /^::error::this ref of oidc-exchange\/oidc-exchange\/native is not a release/);
  assert.match(errs[0], /native@v1/);
  assert.match(errs[0], /oidc-exchange\/oidc-exchange@main/);
  assert.deepEqual(server.requests, []);
  assert.deepEqual(h.records(env), []);
});

test('a malformed release.json is an error, not a skipped check', { skip }, async (t) => {
  const server = await h.serve(t);
  for (const [name, rel] of [
    ['uppercase sha', h.testRelease({ sha256: { 'oidc-exchange_linux_amd64': h.sha256(h.BINARY).toUpperCase() } })],
    ['no sha256', { version: h.VERSION, commit: h.COMMIT }],
    ['not JSON', '{"version": "v1.2.3",'],
  ]) {
    const action = h.makeAction(t, rel);
    const { env } = h.runner(t, server);
    const r = await h.node(path.join(action, 'main.js'), env);
    assert.equal(r.code, 1, name);
    const errs = h.errors(r.stdout);
    assert.equal(errs.length, 1, name);
    assert.match(errs[0], /release\.json/, name);
    assert.deepEqual(h.records(env), [], name);
  }
  assert.deepEqual(server.requests, []);
});

test('unsupported platforms fail naming the supported ones', { skip }, async (t) => {
  const server = await h.serve(t);
  const action = h.makeAction(t);
  for (const [os, arch] of [['Linux', 'X86'], ['Linux', 'ARM'], ['FreeBSD', 'X64']]) {
    const { env } = h.runner(t, server);
    Object.assign(env, { RUNNER_OS: os, RUNNER_ARCH: arch });
    const r = await h.node(path.join(action, 'main.js'), env);
    assert.equal(r.code, 1);
    const errs = h.errors(r.stdout);
    assert.equal(errs.length, 1);
    assert.ok(errs[0].includes(`unsupported runner ${os}/${arch}`), errs[0]);
    assert.match(errs[0], /Linux\/X64, Linux\/ARM64, macOS\/X64, macOS\/ARM64, Windows\/X64, Windows\/ARM64/);
  }
  assert.deepEqual(server.requests, []);
});

test('a platform the release has no checksum for fails before any request', { skip }, async (t) => {
  const server = await h.serve(t);
  const action = h.makeAction(t);
  const { env } = h.runner(t, server);
  env.RUNNER_ARCH = 'ARM64'; // the test release has linux_amd64 only
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 1);
  assert.match(h.errors(r.stdout)[0], /no checksum for oidc-exchange_linux_arm64/);
  assert.deepEqual(server.requests, []);
});

test('Windows runners get the .exe asset, cached as oidc-exchange.exe', { skip }, async (t) => {
  const server = await h.serve(t);
  const action = h.makeAction(t);
  const { env, toolDir } = h.runner(t, server);
  env.RUNNER_OS = 'Windows';
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 0, r.stdout);
  assert.deepEqual(server.requests, [`/releases/download/${h.VERSION}/oidc-exchange_windows_amd64.exe`]);
  assert.equal(h.records(env)[0].argv0, path.join(toolDir, 'oidc-exchange.exe'));
});

test('HTTP 404 fails at once, naming the URL and the status', { skip }, async (t) => {
  const server = await h.serve(t, (req, res) => res.writeHead(404).end('no'));
  const action = h.makeAction(t);
  const { env } = h.runner(t, server);
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 1);
  assert.equal(server.requests.length, 1);
  const errs = h.errors(r.stdout);
  assert.equal(errs.length, 1);
  assert.ok(errs[0].includes(`GET ${server.url}${ASSET_PATH} answered HTTP 404`), errs[0]);
});

test('HTTP 503 is retried and the next 200 succeeds', { skip }, async (t) => {
  const server = await h.serve(t, (req, res, n) => (n === 1 ? res.writeHead(503).end() : res.end(h.BINARY)));
  const action = h.makeAction(t);
  const { env } = h.runner(t, server);
  env.OIDC_EXCHANGE_NATIVE_TEST_TIMEOUT_MS = '500'; // also caps the backoff
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 0, r.stdout);
  assert.equal(server.requests.length, 2);
  assert.match(r.stdout, /^::debug::download attempt 1 failed \(GET .* answered HTTP 503/m);
  assert.equal(h.records(env).length, 1);
});

test('a server that never answers is bounded by the timeout: 3 attempts, then failure', { skip }, async (t) => {
  const server = await h.serve(t, () => {}); // accepts, never answers
  const action = h.makeAction(t);
  const { env } = h.runner(t, server);
  env.OIDC_EXCHANGE_NATIVE_TEST_TIMEOUT_MS = '150';
  const start = Date.now();
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 1);
  assert.ok(Date.now() - start < 5000, `took ${Date.now() - start} ms`);
  assert.equal(server.requests.length, 3);
  assert.match(h.errors(r.stdout)[0], /failed after 3 attempts: .*no data for 150 ms/);
  assert.deepEqual(h.records(env), []);
});

test('a redirect to another loopback URL is followed', { skip }, async (t) => {
  const cdn = await h.serve(t);
  const server = await h.serve(t, (req, res) => res.writeHead(302, { location: `${cdn.url}/blob?sig=x` }).end());
  const action = h.makeAction(t);
  const { env } = h.runner(t, server);
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 0, r.stdout);
  assert.deepEqual(server.requests, [ASSET_PATH]);
  assert.deepEqual(cdn.requests, ['/blob?sig=x']);
  assert.ok(!r.stdout.includes('sig=x'), 'the signed query is not logged');
});

test('a redirect to plain http on another host is refused without following it', { skip }, async (t) => {
  const server = await h.serve(t, (req, res) => res.writeHead(302, { location: 'http://downloads.example.com/oidc-exchange' }).end());
  const action = h.makeAction(t);
  const { env } = h.runner(t, server);
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 1);
  assert.equal(server.requests.length, 1, 'refused, not retried');
  assert.match(h.errors(r.stdout)[0], /refusing to download from http:\/\/downloads\.example\.com\/oidc-exchange/);
  assert.deepEqual(h.records(env), []);
});

test('without RUNNER_TOOL_CACHE, or with an unusable one, the binary is kept under RUNNER_TEMP', { skip }, async (t) => {
  const server = await h.serve(t);
  const action = h.makeAction(t);
  for (const unusable of [undefined, 'a file']) {
    const { env, root } = h.runner(t, server);
    if (unusable) {
      env.RUNNER_TOOL_CACHE = path.join(root, 'not-a-dir');
      fs.writeFileSync(env.RUNNER_TOOL_CACHE, '');
    } else {
      delete env.RUNNER_TOOL_CACHE;
    }
    const r = await h.node(path.join(action, 'main.js'), env);
    assert.equal(r.code, 0, r.stdout);
    const bin = path.join(env.RUNNER_TEMP, 'oidc-exchange-native', 'oidc-exchange', '1.2.3', 'x64', 'oidc-exchange');
    assert.equal(h.records(env)[0].argv0, bin);
    assert.match(r.stdout, /^::debug::(RUNNER_TOOL_CACHE is not set|tool cache .* is not writable)/m);
    assert.deepEqual(h.filesUnder(path.join(root, 'tool-cache')), []);
  }
});

test('a binary killed by a signal makes the action exit 1', { skip }, async (t) => {
  const server = await h.serve(t);
  const action = h.makeAction(t);
  const { env } = h.runner(t, server);
  env.FAKE_SIGNAL = 'SIGKILL';
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 1);
  assert.equal(h.records(env).length, 1);
});

test('credentials in OIDC_EXCHANGE_RELEASE_URL are used but never printed', { skip }, async (t) => {
  const auth = [];
  const server = await h.serve(t, (req, res) => {
    auth.push(req.headers.authorization);
    res.writeHead(404).end();
  });
  const action = h.makeAction(t);
  const { env } = h.runner(t, server);
  env.OIDC_EXCHANGE_RELEASE_URL = server.url.replace('//', '//mirror:s3cret@') + '/releases/download';
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 1);
  assert.deepEqual(auth, [`Basic ${Buffer.from('mirror:s3cret').toString('base64')}`]);
  assert.ok(h.errors(r.stdout)[0].includes(`GET ${server.url}${ASSET_PATH} answered HTTP 404`));
  assert.ok(!r.stdout.includes('s3cret'), r.stdout);
});
