'use strict';
// A simulated runner for the native action's tests: a copy of the action
// with a test release.json, temp RUNNER_TEMP/RUNNER_TOOL_CACHE and file
// commands, a loopback release server, and a fake binary that records how
// it was run. (node --test also loads this file; it defines no tests.)

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const NATIVE = path.join(__dirname, '..');
const VERSION = 'v1.2.3';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

// fakeBinary is a node script run through its shebang. It appends one JSON
// line to $FAKE_RECORD (the path it was run as, its arguments, the INPUT_*
// variables, GITHUB_STATE as it was at start), prints a workflow command,
// and exits with $FAKE_EXIT (or is killed with $FAKE_SIGNAL).
function fakeBinary(extra = '') {
  return `#!${process.execPath}
'use strict';
const fs = require('fs');
const env = process.env;
const inputs = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('INPUT_')));
const state = env.GITHUB_STATE && fs.existsSync(env.GITHUB_STATE) ? fs.readFileSync(env.GITHUB_STATE, 'utf8') : null;
fs.appendFileSync(env.FAKE_RECORD, JSON.stringify({ argv0: __filename, args: process.argv.slice(2), inputs, state }) + '\\n');
process.stdout.write('::add-mask::printed-by-the-binary\\n');
if (env.FAKE_SIGNAL) process.kill(process.pid, env.FAKE_SIGNAL);
process.exit(Number(env.FAKE_EXIT || 0));
// ${extra}
`;
}

const BINARY = Buffer.from(fakeBinary());
const OTHER = Buffer.from(fakeBinary('not the released one'));

function tmpdir(t) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'oidc-native-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

function testRelease(overrides = {}) {
  return {
    version: VERSION,
    commit: COMMIT,
    sha256: {
      'oidc-exchange_linux_amd64': sha256(BINARY),
      'oidc-exchange_windows_amd64.exe': sha256(BINARY),
      'oidc-exchange_darwin_arm64': sha256(OTHER),
    },
    ...overrides,
  };
}

// makeAction copies the action's code into a temp directory beside a test
// release.json (a string is written verbatim), the way a checkout of a
// release ref looks.
function makeAction(t, release = testRelease()) {
  const dir = tmpdir(t);
  for (const f of ['action.yml', 'main.js', 'post.js', 'lib.js']) fs.copyFileSync(path.join(NATIVE, f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'release.json'), typeof release === 'string' ? release : JSON.stringify(release, null, 2));
  return dir;
}

// runner lays out the runner's directories and returns the environment a
// node action's step gets.
function runner(t, server) {
  const root = tmpdir(t);
  const p = (...x) => path.join(root, ...x);
  for (const d of ['temp', 'tool-cache', 'files']) fs.mkdirSync(p(d));
  for (const f of ['state', 'env', 'output']) fs.writeFileSync(p('files', f), '');
  const env = {
    PATH: process.env.PATH,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_TEMP: p('temp'),
    RUNNER_TOOL_CACHE: p('tool-cache'),
    GITHUB_STATE: p('files', 'state'),
    GITHUB_ENV: p('files', 'env'),
    GITHUB_OUTPUT: p('files', 'output'),
    'INPUT_PROVIDER': 'aws',
    'INPUT_ROLE-TO-ASSUME': 'arn:aws:iam::123456789012:role/ci',
    'INPUT_AWS-REGION': 'eu-west-1',
    FAKE_RECORD: p('record.jsonl'),
  };
  if (server) env.OIDC_EXCHANGE_RELEASE_URL = `${server.url}/releases/download`;
  return { root, env, toolDir: p('tool-cache', 'oidc-exchange', '1.2.3', 'x64') };
}

// records returns what the fake binary wrote, one object per run.
function records(env) {
  if (!fs.existsSync(env.FAKE_RECORD)) return [];
  return fs.readFileSync(env.FAKE_RECORD, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

// serve starts a loopback server. handler(req, res, n) answers the n-th
// request (1-based); the default serves BINARY for every path.
async function serve(t, handler = (req, res) => res.end(BINARY)) {
  const requests = [];
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    requests.push(req.url);
    handler(req, res, requests.length);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy(); // hanging handlers never answer
    return new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${server.address().port}`, requests };
}

// node runs one of the action's scripts the way the runner does: as a
// child process with the step's environment, stdout captured.
function node(script, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const errors = (stdout) => stdout.split(/\r?\n/).filter((l) => l.startsWith('::error::'));

// parseFileCommand reads GITHUB_STATE/GITHUB_ENV as the runner does
// (FileCommandManager): NAME=VALUE lines, or NAME<<DELIM, value lines, DELIM.
function parseFileCommand(text) {
  const out = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    const eq = line.indexOf('=');
    const hd = line.indexOf('<<');
    if (eq >= 0 && (hd < 0 || eq < hd)) {
      out[line.slice(0, eq)] = line.slice(eq + 1);
      continue;
    }
    if (hd < 0) throw new Error(`invalid line ${JSON.stringify(line)}`);
    const key = line.slice(0, hd);
    const delim = line.slice(hd + 2);
    const value = [];
    for (i++; lines[i] !== delim; i++) {
      if (i >= lines.length) throw new Error(`no closing ${delim}`);
      value.push(lines[i]);
    }
    out[key] = value.join('\n');
  }
  return out;
}

// filesUnder lists every file below dir, recursively.
function filesUnder(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : [p];
  });
}

module.exports = {
  NATIVE, VERSION, COMMIT, BINARY, OTHER, sha256, tmpdir, testRelease, makeAction, runner, records, serve, node,
  errors, parseFileCommand, filesUnder,
};
