'use strict';
// Unit tests of lib.js: release.json validation, platform selection, URL
// policy, workflow-command escaping, the state file and the downloader.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');
const lib = require('../lib.js');
const h = require('./harness.js');

const debugLines = [];
lib.log.debug = (m) => debugLines.push(m); // keep the TAP output clean

function loadFrom(t, content) {
  const dir = h.tmpdir(t);
  if (content !== undefined) fs.writeFileSync(path.join(dir, 'release.json'), typeof content === 'string' ? content : JSON.stringify(content));
  return () => lib.loadRelease(dir);
}

test('the committed release.json is the development form', () => {
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(h.NATIVE, 'release.json'), 'utf8')), { version: '', commit: '', sha256: {} });
  assert.throws(() => lib.loadRelease(h.NATIVE), /is not a release/);
});

test('loadRelease accepts a release and a prerelease', (t) => {
  assert.deepEqual(loadFrom(t, h.testRelease())(), h.testRelease());
  assert.equal(loadFrom(t, h.testRelease({ version: 'v2.0.0-rc.1' }))().version, 'v2.0.0-rc.1');
});

test('loadRelease rejects every malformed release.json', (t) => {
  const sha = h.sha256(h.BINARY);
  const cases = {
    'missing file': undefined,
    'not JSON': '{',
    'JSON null': 'null',
    'JSON array': '[]',
    'missing commit': { version: h.VERSION, sha256: { 'oidc-exchange_linux_amd64': sha } },
    'extra key': { ...h.testRelease(), skip: true },
    'version without v': h.testRelease({ version: '1.2.3' }),
    'version two parts': h.testRelease({ version: 'v1.2' }),
    'version leading zero': h.testRelease({ version: 'v1.02.3' }),
    'version build metadata': h.testRelease({ version: 'v1.2.3+meta' }),
    'version number': h.testRelease({ version: 1 }),
    'version empty only': h.testRelease({ version: '' }),
    'short commit': h.testRelease({ commit: 'abc123' }),
    'uppercase commit': h.testRelease({ commit: h.COMMIT.toUpperCase() }),
    'sha256 array': h.testRelease({ sha256: [sha] }),
    'sha256 null': h.testRelease({ sha256: null }),
    'sha256 empty': h.testRelease({ sha256: {} }),
    'sha256 uppercase': h.testRelease({ sha256: { 'oidc-exchange_linux_amd64': sha.toUpperCase() } }),
    'sha256 short': h.testRelease({ sha256: { 'oidc-exchange_linux_amd64': sha.slice(1) } }),
    'sha256 with prefix': h.testRelease({ sha256: { 'oidc-exchange_linux_amd64': `sha256:${sha}` } }),
    'sha256 not a string': h.testRelease({ sha256: { 'oidc-exchange_linux_amd64': 1 } }),
    'unknown asset': h.testRelease({ sha256: { SHA256SUMS: sha } }),
    'windows asset without .exe': h.testRelease({ sha256: { 'oidc-exchange_windows_amd64': sha } }),
    'dev form with a commit': { version: '', commit: h.COMMIT, sha256: {} },
  };
  for (const [name, content] of Object.entries(cases)) {
    const load = loadFrom(t, content);
    assert.throws(load, (err) => {
      assert.ok(err instanceof lib.ShimError, name);
      assert.match(err.message, /release\.json/, name);
      assert.doesNotMatch(err.message, /this ref of/, name); // not mistaken for the development form
      return true;
    }, name);
  }
});

test('selectTarget maps RUNNER_OS/RUNNER_ARCH, and process.platform/arch only when unset', () => {
  const cases = [
    [{ RUNNER_OS: 'Linux', RUNNER_ARCH: 'X64' }, 'oidc-exchange_linux_amd64', 'x64', 'oidc-exchange'],
    [{ RUNNER_OS: 'Linux', RUNNER_ARCH: 'ARM64' }, 'oidc-exchange_linux_arm64', 'arm64', 'oidc-exchange'],
    [{ RUNNER_OS: 'macOS', RUNNER_ARCH: 'X64' }, 'oidc-exchange_darwin_amd64', 'x64', 'oidc-exchange'],
    [{ RUNNER_OS: 'macOS', RUNNER_ARCH: 'ARM64' }, 'oidc-exchange_darwin_arm64', 'arm64', 'oidc-exchange'],
    [{ RUNNER_OS: 'Windows', RUNNER_ARCH: 'X64' }, 'oidc-exchange_windows_amd64.exe', 'x64', 'oidc-exchange.exe'],
    [{ RUNNER_OS: 'Windows', RUNNER_ARCH: 'ARM64' }, 'oidc-exchange_windows_arm64.exe', 'arm64', 'oidc-exchange.exe'],
  ];
  for (const [env, asset, cacheArch, binName] of cases) {
    assert.deepEqual(lib.selectTarget(env, 'freebsd', 'ia32'), { asset, cacheArch, binName });
  }
  assert.equal(lib.selectTarget({}, 'darwin', 'arm64').asset, 'oidc-exchange_darwin_arm64');
  assert.equal(lib.selectTarget({}, 'win32', 'x64').asset, 'oidc-exchange_windows_amd64.exe');
  assert.equal(lib.selectTarget({ RUNNER_ARCH: 'ARM64' }, 'linux', 'x64').asset, 'oidc-exchange_linux_arm64');
  for (const [env, platform, arch] of [
    [{ RUNNER_OS: 'Linux', RUNNER_ARCH: 'X86' }, 'linux', 'x64'],
    [{ RUNNER_OS: 'Linux', RUNNER_ARCH: 'ARM' }, 'linux', 'x64'],
    [{ RUNNER_OS: 'linux', RUNNER_ARCH: 'X64' }, 'linux', 'x64'],
    [{}, 'freebsd', 'x64'],
    [{}, 'linux', 'ia32'],
  ]) {
    assert.throws(() => lib.selectTarget(env, platform, arch), /unsupported runner .*Linux\/X64, Linux\/ARM64/);
  }
});

test('checkURL allows https, and http to loopback only', () => {
  for (const ok of ['https://github.com/x', 'http://127.0.0.1:8080/x', 'http://localhost/x', 'http://[::1]:9/x']) {
    assert.doesNotThrow(() => lib.checkURL(new URL(ok)), ok);
  }
  for (const bad of ['http://github.com/x', 'http://127.0.0.2/x', 'http://localhost.example.com/x', 'ftp://127.0.0.1/x', 'file:///etc/passwd']) {
    assert.throws(() => lib.checkURL(new URL(bad)), /refusing to download from/, bad);
  }
});

test('escapeData escapes %, CR and LF like actions/toolkit', () => {
  assert.equal(lib.escapeData('100% done\r\nnext::error::x'), '100%25 done%0D%0Anext::error::x');
});

test('the test timeout hook shortens the timeout and caps the backoff; the defaults are 30 s and 1 s, 3 s', () => {
  assert.deepEqual(lib.timeouts({}), { idleMs: 30000, attemptMs: 300000, backoffMs: [1000, 3000] });
  assert.deepEqual(lib.timeouts({ OIDC_EXCHANGE_NATIVE_TEST_TIMEOUT_MS: '200' }), { idleMs: 200, attemptMs: 2000, backoffMs: [200, 200] });
  assert.equal(lib.timeouts({ OIDC_EXCHANGE_NATIVE_TEST_TIMEOUT_MS: 'soon' }).idleMs, 30000);
});

test('saveState appends heredoc entries the runner parses back', (t) => {
  const file = path.join(h.tmpdir(t), 'state');
  const env = { GITHUB_STATE: file };
  lib.saveState('a', 'C:\\hosted tool cache\\oidc-exchange.exe', env);
  lib.saveState('b', 'x=y<<z', env);
  const text = fs.readFileSync(file, 'utf8');
  assert.equal(text.split(os.EOL).filter((l) => l.startsWith('ghadelimiter_')).length, 2);
  assert.match(text, new RegExp(`^a<<(ghadelimiter_[0-9a-f-]{36})${os.EOL}`));
  assert.deepEqual(h.parseFileCommand(text), { a: 'C:\\hosted tool cache\\oidc-exchange.exe', b: 'x=y<<z' });
  assert.doesNotThrow(() => lib.saveState('a', 'v', {})); // no GITHUB_STATE: nothing to write to
});

// The downloader against a loopback server, with small limits.
const fast = { idleMs: 150, attemptMs: 1500, backoffMs: [10], maxBytes: 1024 };

test('download retries 429, 408 and 5xx but not 403', async (t) => {
  for (const [status, requests, ok] of [[429, 2, true], [408, 2, true], [500, 2, true], [403, 1, false]]) {
    const server = await h.serve(t, (req, res, n) => (n === 1 ? res.writeHead(status).end() : res.end('payload')));
    const dest = path.join(h.tmpdir(t), 'f');
    const p = lib.download(`${server.url}/f`, dest, fast);
    if (ok) assert.deepEqual(await p, { sha256: h.sha256('payload'), bytes: 7 });
    else await assert.rejects(p, new RegExp(`answered HTTP ${status}`));
    assert.equal(server.requests.length, requests, String(status));
  }
});

test('download gives up after 3 attempts of 5xx', async (t) => {
  const server = await h.serve(t, (req, res) => res.writeHead(502).end());
  await assert.rejects(lib.download(`${server.url}/f`, path.join(h.tmpdir(t), 'f'), fast), /failed after 3 attempts: .*HTTP 502/);
  assert.equal(server.requests.length, 3);
});

test('download bounds a body that stops half way', async (t) => {
  const server = await h.serve(t, (req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('only the first bytes');
  });
  const start = Date.now();
  await assert.rejects(lib.download(`${server.url}/f`, path.join(h.tmpdir(t), 'f'), fast), /failed after 3 attempts: .*no data for 150 ms/);
  assert.equal(server.requests.length, 3);
  assert.ok(Date.now() - start < 3000);
});

test('download bounds a body that trickles forever by the attempt deadline', async (t) => {
  const server = await h.serve(t, (req, res) => {
    res.writeHead(200);
    const timer = setInterval(() => res.write('x'), 20);
    res.on('close', () => clearInterval(timer));
  });
  const opts = { ...fast, maxBytes: 1e9, attempts: 1 };
  await assert.rejects(lib.download(`${server.url}/f`, path.join(h.tmpdir(t), 'f'), opts), /took longer than 1500 ms/);
});

test('download caps the size, announced or streamed, without retrying', async (t) => {
  const big = Buffer.alloc(2048);
  const announced = await h.serve(t, (req, res) => res.end(big));
  await assert.rejects(lib.download(`${announced.url}/f`, path.join(h.tmpdir(t), 'f'), fast), /2048 bytes is more than the 1024/);
  const chunked = await h.serve(t, (req, res) => {
    res.write(big.subarray(0, 1000));
    setTimeout(() => res.end(big.subarray(1000)), 20);
  });
  await assert.rejects(lib.download(`${chunked.url}/f`, path.join(h.tmpdir(t), 'f'), fast), /more than the 1024 bytes/);
  assert.equal(announced.requests.length + chunked.requests.length, 2);
});

test('download follows a bounded number of redirects and needs a Location', async (t) => {
  const loop = await h.serve(t, (req, res) => res.writeHead(301, { location: '/again' }).end());
  await assert.rejects(lib.download(`${loop.url}/f`, path.join(h.tmpdir(t), 'f'), fast), /more than 5 redirects/);
  assert.equal(loop.requests.length, 6);
  const bare = await h.serve(t, (req, res) => res.writeHead(302).end());
  await assert.rejects(lib.download(`${bare.url}/f`, path.join(h.tmpdir(t), 'f'), fast), /HTTP 302 without a Location/);
  assert.equal(bare.requests.length, 1);
});

test('download refuses a plain-http release URL off this machine before connecting', async (t) => {
  await assert.rejects(lib.download('http://github.com/f', path.join(h.tmpdir(t), 'f'), fast), /refusing to download from http:\/\/github\.com\/f/);
});
