'use strict';
// HTTPS through an HTTP CONNECT proxy, as on self-hosted runners behind a
// corporate proxy. The "release server" is a loopback TLS server with a
// throwaway certificate for release.test (made with openssl, trusted through
// NODE_EXTRA_CA_CERTS); the loopback proxy tunnels every CONNECT to it, so
// release.test is never resolved.

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const net = require('node:net');
const path = require('node:path');
const { test } = require('node:test');
const lib = require('../lib.js');
const h = require('./harness.js');

function hasOpenSSL() {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const skip = (process.platform === 'win32' && 'the fake binary is a shebang script') || (!hasOpenSSL() && 'no openssl to make a test certificate');

test('proxyFor reads HTTPS_PROXY and NO_PROXY like @actions/http-client', () => {
  const u = (s) => new URL(s);
  const P = { HTTPS_PROXY: 'http://proxy.corp:3128' };
  assert.equal(lib.proxyFor(u('https://github.com/x'), {}), null);
  assert.equal(lib.proxyFor(u('https://github.com/x'), P).host, 'proxy.corp:3128');
  assert.deepEqual(lib.proxyFor(u('https://github.com/x'), { https_proxy: 'proxy.corp:8080' }), { host: 'proxy.corp:8080', hostname: 'proxy.corp', port: '8080', auth: null });
  assert.equal(lib.proxyFor(u('http://127.0.0.1:9/x'), P), null, 'plain http is loopback only, never proxied');
  assert.equal(lib.proxyFor(u('https://localhost/x'), P), null, 'loopback bypasses the proxy');
  for (const noProxy of ['github.com', 'GitHub.com', '.github.com', 'example.org, github.com', 'github.com:443', '*']) {
    assert.equal(lib.proxyFor(u('https://objects.github.com/x'), { ...P, NO_PROXY: noProxy }), null, noProxy);
  }
  assert.notEqual(lib.proxyFor(u('https://github.com/x'), { ...P, no_proxy: 'github.com:8443' }), null, 'other port');
  assert.notEqual(lib.proxyFor(u('https://notgithub.com/x'), { ...P, NO_PROXY: 'github.com' }), null);
  assert.deepEqual(lib.proxyFor(u('https://github.com/x'), { HTTPS_PROXY: 'http://u:p%40ss@[::1]:3128' }),
    { host: '[::1]:3128', hostname: '::1', port: '3128', auth: `Basic ${Buffer.from('u:p@ss').toString('base64')}` });
  assert.throws(() => lib.proxyFor(u('https://github.com/x'), { HTTPS_PROXY: 'http://u:%zz@proxy.corp' }), /not valid percent-encoding/);
  assert.throws(() => lib.proxyFor(u('https://github.com/x'), { HTTPS_PROXY: 'https://proxy.corp' }), /only an http:\/\/ proxy/);
  assert.throws(() => lib.proxyFor(u('https://github.com/x'), { HTTPS_PROXY: 'http://user:secret@[bad' }), (err) => !err.message.includes('secret'));
});

// world starts the TLS release server and the CONNECT proxy.
async function world(t, proxyAnswer) {
  const dir = h.tmpdir(t);
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=release.test',
    '-addext', 'subjectAltName=DNS:release.test', '-keyout', key, '-out', cert], { stdio: 'ignore' });

  const gets = [];
  const origin = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
    gets.push(req.url);
    res.end(h.BINARY);
  });
  await new Promise((resolve) => origin.listen(0, '127.0.0.1', resolve));

  const connects = [];
  const proxy = net.createServer((client) => {
    client.once('data', (head) => {
      const text = head.toString('latin1');
      connects.push(text.split('\r\n\r\n')[0]);
      if (proxyAnswer) return client.end(`HTTP/1.1 ${proxyAnswer}\r\n\r\n`);
      const upstream = net.connect(origin.address().port, '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        client.pipe(upstream).pipe(client);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    origin.closeAllConnections();
    origin.close();
    proxy.close();
  });
  return { cert, gets, connects, proxyURL: `http://ci%20user:p%40ss@127.0.0.1:${proxy.address().port}` };
}

test('the download goes through HTTPS_PROXY with CONNECT and verified TLS', { skip }, async (t) => {
  const w = await world(t);
  const action = h.makeAction(t);
  const { env } = h.runner(t);
  Object.assign(env, {
    OIDC_EXCHANGE_RELEASE_URL: 'https://release.test/releases/download',
    HTTPS_PROXY: w.proxyURL,
    NO_PROXY: 'github.com',
    NODE_EXTRA_CA_CERTS: w.cert,
  });
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(w.connects.length, 1);
  assert.match(w.connects[0], /^CONNECT release\.test:443 HTTP\/1\.1\r\n/);
  const auth = Buffer.from('ci user:p@ss').toString('base64');
  assert.match(w.connects[0], new RegExp(`\r\nproxy-authorization: Basic ${auth}`, 'i'));
  assert.deepEqual(w.gets, [`/releases/download/${h.VERSION}/oidc-exchange_linux_amd64`]);
  assert.equal(h.records(env).length, 1);
  assert.ok(!r.stdout.includes('p@ss') && !r.stdout.includes('p%40ss'), 'proxy password not logged');
});

test('without the test CA the tunnelled TLS is not trusted', { skip }, async (t) => {
  const w = await world(t);
  const action = h.makeAction(t);
  const { env } = h.runner(t);
  Object.assign(env, { OIDC_EXCHANGE_RELEASE_URL: 'https://release.test/releases/download', HTTPS_PROXY: w.proxyURL, OIDC_EXCHANGE_NATIVE_TEST_TIMEOUT_MS: '100' });
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 1);
  assert.match(h.errors(r.stdout)[0], /self.signed certificate/i);
  assert.deepEqual(w.gets, []);
  assert.deepEqual(h.records(env), []);
});

test('a proxy that refuses CONNECT with 407 fails at once', { skip }, async (t) => {
  const w = await world(t, '407 Proxy Authentication Required');
  const action = h.makeAction(t);
  const { env } = h.runner(t);
  Object.assign(env, { OIDC_EXCHANGE_RELEASE_URL: 'https://release.test/releases/download', HTTPS_PROXY: w.proxyURL, NODE_EXTRA_CA_CERTS: w.cert });
  const r = await h.node(path.join(action, 'main.js'), env);
  assert.equal(r.code, 1);
  assert.equal(w.connects.length, 1);
  const err = h.errors(r.stdout)[0];
  assert.match(err, /CONNECT release\.test:443 \(proxy 127\.0\.0\.1:\d+\) answered HTTP 407/);
  assert.ok(!err.includes('p@ss') && !err.includes('p%40ss'));
});
