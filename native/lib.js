'use strict';
// The native action: download the release binary for this runner, check it
// against the SHA-256 committed beside this file (release.json), cache it in
// the runner's tool cache and run it. Node built-ins only, so the action
// needs no install step and no bundle.

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const net = require('net');
const os = require('os');
const path = require('path');
const { Transform } = require('stream');
const { pipeline } = require('stream/promises');
const { spawn } = require('child_process');
const tls = require('tls');

const ASSETS = [
  'oidc-exchange_darwin_amd64',
  'oidc-exchange_darwin_arm64',
  'oidc-exchange_linux_amd64',
  'oidc-exchange_linux_arm64',
  'oidc-exchange_windows_amd64.exe',
  'oidc-exchange_windows_arm64.exe',
];
const DEFAULT_RELEASE_URL = 'https://github.com/oidc-exchange/oidc-exchange/releases/download';
const STATE_KEY = 'oidc_exchange_binary';
// The same patterns tools/releasepin uses when it writes release.json.
const VERSION_RE = /^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z][0-9A-Za-z.-]*)?$/;
const COMMIT_RE = /^[0-9a-f]{40}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;

const TIMEOUT_MS = 30000; // per attempt without a byte received
const ATTEMPT_MS_FACTOR = 10; // a whole attempt may take 10 idle timeouts (5 min)
const ATTEMPTS = 3;
const BACKOFF_MS = [1000, 3000];
const MAX_BYTES = 200 * 1024 * 1024;
const MAX_REDIRECTS = 5;

// ShimError is a failure of the shim itself. retryable marks the download
// failures worth another attempt (network, timeouts, 5xx, 408, 429).
class ShimError extends Error {
  constructor(message, retryable = false) {
    super(message);
    this.retryable = retryable;
  }
}

// escapeData is actions/toolkit's escaping of a workflow command's message.
function escapeData(s) {
  return String(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function command(name, message) {
  process.stdout.write(`::${name}::${escapeData(message)}${os.EOL}`);
}
const log = {
  debug: (m) => command('debug', m),
  warning: (m) => command('warning', m),
  error: (m) => command('error', m),
};

// loadRelease reads and strictly validates release.json from this action's
// own directory: a malformed file is an error, never a reason to skip the
// check. The development form (all empty) gets its own explanation.
function loadRelease(dir = __dirname) {
  const file = path.join(dir, 'release.json');
  let rel;
  try {
    rel = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ShimError(`cannot read ${file}: ${err.message}`);
  }
  const bad = (why) => new ShimError(`${file} is malformed: ${why}`);
  if (rel === null || typeof rel !== 'object' || Array.isArray(rel)) throw bad('not a JSON object');
  const keys = Object.keys(rel).sort().join(',');
  if (keys !== 'commit,sha256,version') throw bad(`keys are [${keys}], want exactly version, commit, sha256`);
  const { version, commit, sha256 } = rel;
  if (sha256 === null || typeof sha256 !== 'object' || Array.isArray(sha256)) throw bad('sha256 is not an object');
  if (version === '' && commit === '' && Object.keys(sha256).length === 0) {
    throw new ShimError(
      'this ref of oidc-exchange/oidc-exchange/native is not a release: its binary checksums are written ' +
        'into native/release.json at release time. Pin a release such as oidc-exchange/oidc-exchange/native@v1 ' +
        'or a release commit SHA, or use the container action oidc-exchange/oidc-exchange@main for unreleased code.',
    );
  }
  if (typeof version !== 'string' || !VERSION_RE.test(version)) throw bad(`version ${JSON.stringify(version)} is not vMAJOR.MINOR.PATCH[-PRERELEASE]`);
  if (typeof commit !== 'string' || !COMMIT_RE.test(commit)) throw bad(`commit ${JSON.stringify(commit)} is not 40 lower-case hex digits`);
  const names = Object.keys(sha256);
  if (names.length === 0) throw bad('sha256 is empty');
  for (const name of names) {
    if (!ASSETS.includes(name)) throw bad(`sha256 names ${JSON.stringify(name)}, which is not a release asset`);
    if (typeof sha256[name] !== 'string' || !SHA256_RE.test(sha256[name])) {
      throw bad(`sha256 of ${name} is not 64 lower-case hex digits`);
    }
  }
  return { version, commit, sha256 };
}

// selectTarget maps the runner's OS and architecture to a release asset.
// RUNNER_OS/RUNNER_ARCH describe the job's runner; process.platform/arch are
// only a fallback for when the runner did not set them.
function selectTarget(env = process.env, platform = process.platform, arch = process.arch) {
  const osName = env.RUNNER_OS || { linux: 'Linux', darwin: 'macOS', win32: 'Windows' }[platform] || platform;
  const archName = env.RUNNER_ARCH || { x64: 'X64', arm64: 'ARM64' }[arch] || arch;
  const goos = { Linux: 'linux', macOS: 'darwin', Windows: 'windows' }[osName];
  const goarch = { X64: 'amd64', ARM64: 'arm64' }[archName];
  if (!goos || !goarch) {
    throw new ShimError(
      `unsupported runner ${osName}/${archName}: oidc-exchange (native) runs on Linux, macOS and Windows ` +
        'with X64 or ARM64 (Linux/X64, Linux/ARM64, macOS/X64, macOS/ARM64, Windows/X64, Windows/ARM64)',
    );
  }
  const exe = goos === 'windows' ? '.exe' : '';
  return {
    asset: `oidc-exchange_${goos}_${goarch}${exe}`,
    cacheArch: goarch === 'amd64' ? 'x64' : 'arm64', // the tool cache's names
    binName: `oidc-exchange${exe}`,
  };
}

function isLoopback(hostname) {
  return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(hostname);
}

// show renders a URL for a message: without user:password (a mirror URL
// may carry them) and without the query (a CDN URL's is a signature).
function show(u) {
  const x = typeof u === 'string' ? new URL(u) : u;
  return `${x.protocol}//${x.host}${x.pathname}`;
}

// checkURL allows https anywhere and http only to this machine. It runs on
// the first URL and on every redirect before anything connects to it.
function checkURL(u) {
  if (u.protocol === 'https:') return;
  if (u.protocol === 'http:' && isLoopback(u.hostname)) return;
  throw new ShimError(`refusing to download from ${show(u)}: only https (or http to localhost) is allowed`);
}

// proxyFor returns the http:// proxy (host, hostname, port, auth header)
// for an https URL from HTTPS_PROXY or
// https_proxy, or null when there is none or NO_PROXY/no_proxy exempts the
// host (matched the way @actions/http-client matches it). Self-hosted runners
// behind a proxy get these variables from the runner; the Go binary honours
// them too. Plain http is loopback only, so it never goes through a proxy.
function proxyFor(u, env) {
  const raw = env.https_proxy || env.HTTPS_PROXY;
  if (u.protocol !== 'https:' || !raw || isLoopback(u.hostname)) return null;
  const host = u.hostname.toUpperCase();
  const hosts = [host, `${host}:${u.port || 443}`];
  const exempt = (env.no_proxy || env.NO_PROXY || '').split(',').map((x) => x.trim().toUpperCase()).filter(Boolean);
  if (exempt.some((x) => x === '*' || hosts.some((h) => h === x || h.endsWith(x.startsWith('.') ? x : `.${x}`)))) return null;
  let p;
  try {
    p = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new ShimError('HTTPS_PROXY is not a URL'); // it may hold a password: do not echo it
  }
  if (p.protocol !== 'http:') throw new ShimError(`HTTPS_PROXY: only an http:// proxy is supported, not ${p.protocol}`);
  let auth = null;
  if (p.username || p.password) {
    try {
      auth = `Basic ${Buffer.from(`${decodeURIComponent(p.username)}:${decodeURIComponent(p.password)}`).toString('base64')}`;
    } catch {
      throw new ShimError('HTTPS_PROXY: the user or password is not valid percent-encoding');
    }
  }
  return { host: p.host, hostname: p.hostname.replace(/^\[|\]$/g, ''), port: p.port || 80, auth };
}

// tunnel opens a CONNECT tunnel to u's host through proxy and resolves to
// the socket; TLS then runs end to end through it.
function tunnel(proxy, u, o, track) {
  return new Promise((resolve, reject) => {
    const target = `${u.hostname}:${u.port || 443}`;
    const headers = { host: target };
    if (proxy.auth) headers['proxy-authorization'] = proxy.auth;
    const req = http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: target, headers, agent: false });
    track(req);
    req.on('connect', (res, socket) => {
      if (res.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(httpError(`CONNECT ${target} (proxy ${proxy.host})`, res));
    });
    req.on('error', (err) => reject(err instanceof ShimError ? err : new ShimError(`proxy ${proxy.host}: ${err.message}`, true)));
    req.setTimeout(o.idleMs, () => req.destroy(new ShimError(`proxy ${proxy.host}: no answer to CONNECT ${target} for ${o.idleMs} ms`, true)));
    req.end();
  });
}

// timeouts are 30 s without data per attempt, a whole attempt at most ten of
// those. OIDC_EXCHANGE_NATIVE_TEST_TIMEOUT_MS is a test-only hook that
// replaces the 30 s and caps the backoff at it, so tests stay fast.
function timeouts(env = process.env) {
  const t = Number(env.OIDC_EXCHANGE_NATIVE_TEST_TIMEOUT_MS);
  const idleMs = Number.isInteger(t) && t > 0 ? t : TIMEOUT_MS;
  return { idleMs, attemptMs: idleMs * ATTEMPT_MS_FACTOR, backoffMs: BACKOFF_MS.map((b) => Math.min(b, idleMs)) };
}

// httpError is the failure of a request (e.g. "GET <url>") answered with
// an unexpected status.
function httpError(request, res) {
  const s = res.statusCode;
  const retryable = s >= 500 || s === 408 || s === 429;
  return new ShimError(`${request} answered HTTP ${s} ${res.statusMessage || ''}`.trim(), retryable);
}

// download fetches url into dest, following redirects, and returns the
// SHA-256 of what it wrote. Only transient failures are retried.
async function download(url, dest, opts = {}) {
  const env = opts.env || process.env;
  const o = { attempts: ATTEMPTS, maxBytes: MAX_BYTES, env, ...timeouts(env), ...opts };
  const shown = show(url);
  for (let attempt = 1; ; attempt++) {
    try {
      return await downloadOnce(url, dest, o);
    } catch (err) {
      const retryable = !(err instanceof ShimError) || err.retryable;
      if (!retryable) throw err;
      if (attempt >= o.attempts) throw new ShimError(`downloading ${shown} failed after ${attempt} attempts: ${err.message}`);
      const wait = o.backoffMs[Math.min(attempt - 1, o.backoffMs.length - 1)];
      log.debug(`download attempt ${attempt} failed (${err.message}); retrying in ${wait} ms`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

async function downloadOnce(url, dest, o) {
  let current = new URL(url);
  const shown = show(url);
  let req; // the request in flight
  let res; // and its response, once there is one
  const tunnels = []; // proxy tunnels this attempt opened
  // Destroying the response (or, before there is one, the request) makes
  // the pending await fail with err.
  const abort = (err) => (res || req).destroy(err);
  const deadline = setTimeout(() => abort(new ShimError(`GET ${shown} took longer than ${o.attemptMs} ms`, true)), o.attemptMs);
  try {
    for (let hops = 0; ; hops++) {
      checkURL(current);
      res = undefined;
      const proxy = proxyFor(current, o.env);
      const socket = proxy && (await tunnel(proxy, current, o, (r) => (req = r)));
      if (socket) tunnels.push(socket);
      res = await new Promise((resolve, reject) => {
        const headers = { 'user-agent': 'oidc-exchange-native', accept: 'application/octet-stream' };
        const host = current.hostname;
        const options = socket
          ? { headers, createConnection: () => tls.connect({ socket, host, servername: net.isIP(host) ? undefined : host }) }
          : { headers, agent: false };
        req = (current.protocol === 'https:' ? https : http).get(current, options, resolve);
        req.on('error', reject);
        const where = show(current);
        req.setTimeout(o.idleMs, () => abort(new ShimError(`GET ${where}: no data for ${o.idleMs} ms`, true)));
      });
      if ([301, 302, 303, 307, 308].includes(res.statusCode)) {
        res.resume();
        if (!res.headers.location) throw new ShimError(`GET ${show(current)}: HTTP ${res.statusCode} without a Location`);
        if (hops >= MAX_REDIRECTS) throw new ShimError(`GET ${shown}: more than ${MAX_REDIRECTS} redirects`);
        let next;
        try {
          next = new URL(res.headers.location, current);
        } catch {
          throw new ShimError(`GET ${show(current)}: HTTP ${res.statusCode} to an invalid Location`);
        }
        log.debug(`redirected to ${show(next)}`);
        current = next;
        continue;
      }
      if (res.statusCode !== 200) {
        res.resume();
        throw httpError(`GET ${show(current)}`, res);
      }
      const length = Number(res.headers['content-length']);
      if (length > o.maxBytes) {
        res.resume();
        throw new ShimError(`GET ${shown}: ${length} bytes is more than the ${o.maxBytes} a release binary may have`);
      }
      const hash = crypto.createHash('sha256');
      let bytes = 0;
      const meter = new Transform({
        transform(chunk, _enc, cb) {
          bytes += chunk.length;
          if (bytes > o.maxBytes) return cb(new ShimError(`GET ${shown}: more than the ${o.maxBytes} bytes a release binary may have`));
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      await pipeline(res, meter, fs.createWriteStream(dest, { mode: 0o600 }));
      return { sha256: hash.digest('hex'), bytes };
    }
  } finally {
    clearTimeout(deadline);
    // Connections are not reused: none may outlive the attempt.
    if (req) req.destroy();
    for (const t of tunnels) t.destroy();
  }
}

async function sha256File(file) {
  const hash = crypto.createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

// cacheRoot is the tool cache, or a directory in the job's temp directory
// (cleaned after the job, so no reuse) when the tool cache is not usable.
function cacheRoot(env, version, target) {
  const sub = (root) => path.join(root, 'oidc-exchange', version.replace(/^v/, ''));
  if (env.RUNNER_TOOL_CACHE) {
    const dir = sub(env.RUNNER_TOOL_CACHE);
    try {
      fs.mkdirSync(path.join(dir, target.cacheArch), { recursive: true });
      fs.accessSync(path.join(dir, target.cacheArch), fs.constants.W_OK);
      return dir;
    } catch (err) {
      log.debug(`tool cache ${env.RUNNER_TOOL_CACHE} is not writable (${err.code || err.message}); using RUNNER_TEMP`);
    }
  } else {
    log.debug('RUNNER_TOOL_CACHE is not set; using RUNNER_TEMP');
  }
  const dir = sub(path.join(env.RUNNER_TEMP || os.tmpdir(), 'oidc-exchange-native'));
  fs.mkdirSync(path.join(dir, target.cacheArch), { recursive: true });
  return dir;
}

// ensureBinary returns the path of a cached binary whose SHA-256 is the one
// release.json pins, downloading it if the cache has no such file. The cache
// of a self-hosted runner is shared and writable, so a hit is re-hashed on
// every run.
async function ensureBinary(release, target, env = process.env) {
  const want = release.sha256[target.asset];
  if (!want) throw new ShimError(`release ${release.version} has no checksum for ${target.asset} in release.json`);
  const base = (env.OIDC_EXCHANGE_RELEASE_URL || DEFAULT_RELEASE_URL).replace(/\/+$/, '');
  const url = `${base}/${release.version}/${target.asset}`;
  if (!URL.canParse(url)) throw new ShimError('OIDC_EXCHANGE_RELEASE_URL is not a URL'); // do not echo it: it may hold a password
  const versionDir = cacheRoot(env, release.version, target);
  const toolDir = path.join(versionDir, target.cacheArch);
  const bin = path.join(toolDir, target.binName);
  const marker = path.join(versionDir, `${target.cacheArch}.complete`);

  if (fs.existsSync(marker) && fs.existsSync(bin)) {
    const t0 = Date.now();
    const got = await sha256File(bin).catch((err) => `unreadable (${err.code || err.message})`);
    log.debug(`verify of cached ${bin}: ${Date.now() - t0} ms`);
    if (got === want) {
      log.debug(`cache hit: ${bin}`);
      return bin;
    }
    log.warning(`the cached ${bin} does not match release.json (expected sha256 ${want}, got ${got}); deleting it and downloading again`);
    fs.rmSync(marker, { force: true });
    fs.rmSync(bin, { force: true, recursive: true });
  } else {
    log.debug(`cache miss: ${bin}`);
  }

  log.debug(`downloading ${show(url)}`);
  // A temp file beside the target: rename is atomic within a directory, so
  // concurrent jobs never see a half-written binary.
  const tmp = path.join(toolDir, `.${target.binName}.${crypto.randomUUID()}.tmp`);
  try {
    const t0 = Date.now();
    const got = await download(url, tmp, { env });
    log.debug(`download: ${got.bytes} bytes, hashed while streaming, in ${Date.now() - t0} ms`);
    if (got.sha256 !== want) {
      throw new ShimError(`the binary downloaded from ${show(url)} does not match release.json (expected sha256 ${want}, got ${got.sha256}); refusing to run it`);
    }
    if (process.platform !== 'win32') fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, bin);
    fs.writeFileSync(marker, '');
    return bin;
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    try {
      fs.rmdirSync(toolDir); // only if empty: leave nothing behind a failure
    } catch {
      // not empty or already gone
    }
    throw err;
  }
}

// saveState appends name=value to GITHUB_STATE in the runner's heredoc form,
// as actions/toolkit's file-command does.
function saveState(name, value, env = process.env) {
  const file = env.GITHUB_STATE;
  if (!file) {
    log.debug('GITHUB_STATE is not set; the post step will have nothing to clean up');
    return;
  }
  const delim = `ghadelimiter_${crypto.randomUUID()}`;
  if (name.includes(delim) || value.includes(delim)) throw new ShimError('state value contains the delimiter');
  fs.appendFileSync(file, `${name}<<${delim}${os.EOL}${value}${os.EOL}${delim}${os.EOL}`, 'utf8');
}

// run executes the binary with the whole environment and inherited stdio
// (its stdout carries workflow commands), and resolves to its exit code.
function run(bin, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: 'inherit', shell: false, env: process.env });
    // A cancelled job signals the action; let the binary clean up and decide.
    const forward = (sig) => child.kill(sig);
    const signals = ['SIGINT', 'SIGTERM'];
    for (const s of signals) process.on(s, forward);
    const done = () => signals.forEach((s) => process.removeListener(s, forward));
    child.on('error', (err) => {
      done();
      reject(new ShimError(`cannot run ${bin}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      done();
      if (signal) log.debug(`${bin} was killed by ${signal}`);
      resolve(code === null ? 1 : code);
    });
  });
}

async function main(env = process.env) {
  const release = loadRelease();
  const target = selectTarget(env);
  log.debug(`oidc-exchange ${release.version} (commit ${release.commit}), asset ${target.asset}`);
  const bin = await ensureBinary(release, target, env);
  // Before running: the binary may fail half way and still need its cleanup.
  saveState(STATE_KEY, bin, env);
  return run(bin, ['--native']);
}

async function post(env = process.env) {
  const bin = env[`STATE_${STATE_KEY}`];
  if (!bin) return 0; // main never got as far as running the binary
  const release = loadRelease();
  const target = selectTarget(env);
  const want = release.sha256[target.asset];
  if (!want) throw new ShimError(`release ${release.version} has no checksum for ${target.asset} in release.json`);
  if (!path.isAbsolute(bin)) throw new ShimError(`saved binary path ${bin} is not absolute; refusing to run it`);
  const got = await sha256File(bin).catch((err) => `unreadable (${err.code || err.message})`);
  if (got !== want) {
    throw new ShimError(`${bin} no longer matches release.json (expected sha256 ${want}, got ${got}); refusing to run it`);
  }
  return run(bin, ['--native', '--post']);
}

// entry runs main or post and turns the outcome into the exit code: the
// binary's own, or 1 with one ::error:: line for a failure of the shim.
function entry(fn) {
  fn().then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      log.error(err instanceof ShimError ? err.message : `oidc-exchange (native): ${err.stack || err}`);
      process.exitCode = 1;
    },
  );
}

module.exports = {
  ASSETS, STATE_KEY, ShimError, log, escapeData, loadRelease, selectTarget, checkURL, proxyFor, timeouts,
  download, sha256File, ensureBinary, saveState, run, main, post, entry,
};
