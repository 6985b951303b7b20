// Runs an ONNX file exported by `ganomaly export --onnx` in onnxruntime-node (CPU,
// one thread) and writes its outputs as raw little-endian float32 files, for the Go
// tests that compare them with the pure-Go model.
//
//   node ort-run.mjs MODEL.onnx INPUT.f32 N C S OUTDIR
//
// INPUT.f32 holds N images of C channels, S×S pixels, NCHW float32.
// Writes OUTDIR/{xhat,z,zhat,score}.f32 and OUTDIR/dims.json (each output's dims).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

const [model, input, nArg, cArg, sArg, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: node ort-run.mjs MODEL.onnx INPUT.f32 N C S OUTDIR');
  process.exit(2);
}
const [n, c, side] = [nArg, cArg, sArg].map(Number);
const session = await ort.InferenceSession.create(model, {
  executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1,
});
const buf = readFileSync(input);
const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const feeds = { x: new ort.Tensor('float32', x, [n, c, side, side]) };
const out = await session.run(feeds);
const dims = {};
for (const name of ['xhat', 'z', 'zhat', 'score']) {
  const t = out[name];
  dims[name] = t.dims;
  writeFileSync(join(outDir, name + '.f32'), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}
writeFileSync(join(outDir, 'dims.json'), JSON.stringify(dims));
