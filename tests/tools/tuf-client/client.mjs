// A standard TUF client (tuf-js, the TUF client npm and sigstore-js use) run against a
// repository directory ecluse wrote, so ecluse's metadata is checked by someone else's reading
// of the specification, not only by its own.
//
// Usage: node client.mjs --root TRUSTED_ROOT.json --dir SERVED_DIR [--target PATH ...] [--all]
//   Serves SERVED_DIR over HTTP on 127.0.0.1 (metadata at /metadata/, targets at /targets/),
//   refreshes a fresh tuf-js Updater that trusts TRUSTED_ROOT.json, then looks up and
//   downloads each named target (with --all: every target of the verified targets.json).
//   Prints one JSON line, {"ok":true,"targets":[{path,length,sha256}…]} or
//   {"ok":false,"error":"…"}, and exits 0 or 1. Gives up after 60 seconds.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const HARD_TIMEOUT_MS = 60_000;

function report(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
}

// A proxy from the environment must not see (or answer) requests to our loopback server.
for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) {
  delete process.env[name];
}

function parseCommandLine() {
  const { values } = parseArgs({
    options: {
      root: { type: 'string' },
      dir: { type: 'string' },
      target: { type: 'string', multiple: true, default: [] },
      all: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.root || !values.dir) {
    throw new Error('usage: node client.mjs --root TRUSTED_ROOT.json --dir SERVED_DIR [--target PATH ...] [--all]');
  }
  return values;
}

// Serves the files under `dir`, GET only, nothing outside it (no directory listings).
function serve(dir) {
  const root = fs.realpathSync(dir);
  const server = http.createServer((req, res) => {
    let file = null;
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      const candidate = path.resolve(root, '.' + decodeURIComponent(url.pathname));
      if (req.method === 'GET' && candidate.startsWith(root + path.sep)) {
        file = candidate;
      }
    } catch {
      file = null;
    }
    fs.readFile(file ?? '', (err, data) => {
      if (file === null || err) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
      res.end(data);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

async function run(args, server, work) {
  const { Updater } = await import('tuf-js');
  const base = `http://127.0.0.1:${server.address().port}`;
  const metadataDir = path.join(work, 'metadata');
  const targetDir = path.join(work, 'targets');
  fs.mkdirSync(metadataDir);
  fs.mkdirSync(targetDir);
  fs.copyFileSync(args.root, path.join(metadataDir, 'root.json'));
  const updater = new Updater({
    metadataDir,
    metadataBaseUrl: `${base}/metadata`,
    targetDir,
    targetBaseUrl: `${base}/targets`,
    config: { fetchTimeout: 10_000, fetchRetries: 0 },
  });
  await updater.refresh();
  let wanted = args.target;
  if (args.all) {
    // Persisted by refresh() only after verification: the verified targets.json.
    const verified = JSON.parse(fs.readFileSync(path.join(metadataDir, 'targets.json'), 'utf8'));
    wanted = Object.keys(verified.signed.targets);
  }
  const targets = [];
  for (const targetPath of wanted) {
    const info = await updater.getTargetInfo(targetPath);
    if (!info) {
      throw new Error(`target ${targetPath} is not in the verified targets.json`);
    }
    const file = await updater.downloadTarget(info);
    targets.push({ path: targetPath, length: fs.statSync(file).size, sha256: sha256(file) });
  }
  return targets;
}

async function main() {
  const timer = setTimeout(() => {
    report({ ok: false, error: `timed out after ${HARD_TIMEOUT_MS / 1000} s` });
    process.exit(1);
  }, HARD_TIMEOUT_MS);
  timer.unref();
  let server = null;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ecluse-tuf-js-'));
  try {
    const args = parseCommandLine();
    server = await serve(args.dir);
    const targets = await run(args, server, work);
    report({ ok: true, targets });
    process.exitCode = 0;
  } catch (err) {
    const name = err?.constructor?.name ?? 'Error';
    report({ ok: false, error: `${name}: ${err?.message ?? String(err)}` });
    process.exitCode = 1;
  } finally {
    server?.closeAllConnections?.();
    server?.close();
    fs.rmSync(work, { recursive: true, force: true });
    clearTimeout(timer);
  }
}

await main();
