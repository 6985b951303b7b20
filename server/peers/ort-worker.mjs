// onnxruntime's side of `make bench-peers`: the same line protocol as our worker
// (server/cmd/benchpeers/worker), over an ONNX file exported by ganomaly.
//
//   node ort-worker.mjs node   onnxruntime-node, CPU execution provider, 1 thread
//   node ort-worker.mjs web    onnxruntime-web's wasm backend (SIMD), 1 thread
//
// Requests, one JSON line each on stdin; one JSON line back on stdout:
//   {"op":"load","name":N,"onnx":M.onnx,"input":X.f32,"channels":C,"size":S}
//   {"op":"run","name":N,"batch":B,"iters":K,"out":DIR}   → {"ok":true,"seconds":T}
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const backend = process.argv[2];
let ort;
let options;
if (backend === 'node') {
  ort = await import('onnxruntime-node');
  options = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
} else if (backend === 'web') {
  ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1; // threads need cross-origin isolation in a page; measure one
  ort.env.wasm.proxy = false;
  options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
} else {
  console.error('usage: node ort-worker.mjs node|web');
  process.exit(2);
}

const models = new Map();

function f32(path) {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

async function handle(req) {
  if (req.op === 'load') {
    const session = await ort.InferenceSession.create(readFileSync(req.onnx), options);
    models.set(req.name, { session, x: f32(req.input), c: req.channels, s: req.size });
    return {};
  }
  if (req.op === 'run') {
    const m = models.get(req.name);
    if (!m) throw new Error(`model ${req.name} not loaded`);
    const per = m.c * m.s * m.s;
    const x = new ort.Tensor('float32', m.x.subarray(0, req.batch * per), [req.batch, m.c, m.s, m.s]);
    const start = process.hrtime.bigint();
    let out;
    for (let i = 0; i < req.iters; i++) out = await m.session.run({ x });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (req.out) {
      for (const name of ['z', 'xhat', 'zhat']) {
        const d = out[name].data;
        writeFileSync(join(req.out, name + '.f32'), Buffer.from(d.buffer, d.byteOffset, d.byteLength));
      }
    }
    return { seconds };
  }
  throw new Error(`unknown op ${req.op}`);
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  let reply;
  try {
    reply = { ok: true, ...(await handle(JSON.parse(line))) };
  } catch (e) {
    reply = { ok: false, error: String(e && e.message || e) };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
}
