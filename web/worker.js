// Kernel worker of the ganomaly-go app: runs /web/worker.wasm, or worker-scalar.wasm in
// browsers without WebAssembly SIMD (package wasm/worker: model + imageio, no go-app),
// in a Web Worker so that the page stays responsive while images are scored. The page
// (wasm/ui, pool_js.go) starts up to 4 of these.
//
// Messages, page → worker (every one carries an id that the reply repeats):
//   {type: "load",  id, weights: ArrayBuffer}   load a weights file (transferred)
//   {type: "scoreMany", id, files: [File | Blob | data: URL], lean}   score image files
// Replies, worker → page:
//   {type: "ready", kernel}                                   Go is running ("simd" or "scalar")
//   {type: "fatal", error}                                    worker.wasm failed to start, or its
//                                                             program stopped (a crash: out of memory)
//   {type: "loaded", id, imageSize, channels, latent} | {type: "loaded", id, error}
//   {type: "results", id, results} | {type: "results", id, error}
// results has, for each file in order, {raw, score, anomalous, scopeNote, inputURL,
// reconURL, heatURL, z, zhat, xhat} or {error}. z, zhat and xhat are ArrayBuffers of
// little-endian float32 (transferred, not copied), left out when the message says
// lean; the images are PNGs as data: URLs. A file may be a data: URL too (a kept
// result's input, which the teaching view scores again).
//
// Training in the browser (wasm/worker/train.go documents its messages):
//   {type: "trainLead", id, request, pack, ports, checkpoint?, name}   lead a run
//   {type: "trainFollow", id, port}                                    follow a leader
//   {type: "trainControl", id, action}                                 pause, resume, cancel
// are answered {type: "trainStarted", id} or {type: "trainStarted", id, error}; the run
// then posts its own messages (trainEvent, trainCheckpoint, trainDone, trainFailed).
//
// The Go side only computes (ganomalyLoad, ganomalyScoreMany are synchronous); reading
// the files and messaging stay here, in JavaScript, where awaiting a promise is natural.
"use strict";

// go-app serves the wasm_exec.js that matches app.wasm; the same file runs this
// program (both are built by the same Go toolchain), and the service worker caches it.
importScripts("/wasm_exec.js");

// Larger files are refused before they are read: imageio refuses them anyway, and
// reading them first would only cost memory.
const MAX_FILE_BYTES = 32 << 20;

// worker.wasm's kernels use WebAssembly SIMD; a browser without it (Safari before
// 16.4, older Chrome and Firefox) gets worker-scalar.wasm, the same program with
// scalar kernels. The probe is the smallest module with a SIMD instruction.
// ?kernel=simd|scalar forces one (the page passes it on from localStorage
// "ganomaly.kernel", for tests and comparisons).
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);
const params = new URL(self.location.href).searchParams;
const forced = params.get("kernel");
const kernel = forced === "simd" || forced === "scalar" ? forced : (WebAssembly.validate(SIMD_PROBE) ? "simd" : "scalar");

// ?exitAfter=N, for tests (the page passes on localStorage "ganomaly.exitAfter"): the
// Go program exits after answering its Nth scoring call, the way a crash ends it.
const exitAfter = Number(params.get("exitAfter")) || 0;
let scoringCalls = 0;

// exited says why the Go program has stopped, once it has (out of memory is the
// likely cause: it never returns otherwise). Its functions then throw at every call,
// so the page is told at once, and again at each later message, and replaces the
// worker.
let exited = "";

const started = (async () => {
  const go = new Go();
  go.exit = (code) => {
    exited = `its program exited with code ${code} (out of memory?)`;
    self.postMessage({ type: "fatal", error: exited });
  };
  const source = fetch(kernel === "simd" ? "/web/worker.wasm" : "/web/worker-scalar.wasm");
  const { instance } = WebAssembly.instantiateStreaming
    ? await WebAssembly.instantiateStreaming(source, go.importObject)
    : await WebAssembly.instantiate(await (await source).arrayBuffer(), go.importObject);
  go.run(instance); // returns at once: main registers its functions, then blocks
  if (typeof self.ganomalyScoreMany !== "function") {
    throw new Error("worker.wasm did not register its functions");
  }
})();

started.then(
  () => self.postMessage({ type: "ready", kernel }),
  (err) => self.postMessage({ type: "fatal", error: "cannot start the kernel worker (/web/worker.wasm): " + err }),
);

// Messages are handled one after the other: the Go functions are synchronous anyway.
// The page keeps a few calls queued per worker, so that the next one starts while the
// page takes in the last results.
let queue = Promise.resolve();
self.onmessage = (event) => {
  queue = queue.then(() => handle(event.data));
};

// scoreMany scores msg.files in one call of the Go side. A file that is too large, or
// that cannot be read (moved or changed since it was dropped, a placeholder of a
// cloud drive), gets its own error and stays out of the batch.
async function scoreMany(msg) {
  const results = new Array(msg.files.length);
  const read = await Promise.all(msg.files.map(async (f) => {
    try {
      if (typeof f === "string") {
        return dataURLBytes(f);
      }
      if (f.size > MAX_FILE_BYTES) {
        return { error: tooLarge(f) };
      }
      return new Uint8Array(await f.arrayBuffer());
    } catch (err) {
      return { error: "cannot read the file: " + err };
    }
  }));
  const at = [];
  const files = [];
  read.forEach((r, i) => {
    if (r instanceof Uint8Array) {
      at.push(i);
      files.push(r);
    } else {
      results[i] = r;
    }
  });
  if (files.length > 0) {
    const scored = self.ganomalyScoreMany({ files, lean: !!msg.lean });
    if (!Array.isArray(scored)) {
      return scored || { error: "internal error: the kernel worker gave no reply" };
    }
    at.forEach((i, k) => { results[i] = scored[k]; });
  }
  return { results };
}

function tooLarge(file) {
  return `file is ${(file.size / 1048576).toFixed(1)} MB; the limit is ${MAX_FILE_BYTES / 1048576} MB`;
}

// dataURLBytes decodes a base64 data: URL.
function dataURLBytes(url) {
  const bin = atob(url.slice(url.indexOf(",") + 1));
  const u8 = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
  return u8;
}

const TRAIN = { trainLead: "ganomalyTrainLead", trainFollow: "ganomalyTrainFollow", trainControl: "ganomalyTrainControl" };

async function handle(msg) {
  if (exited) {
    self.postMessage({ type: "fatal", error: exited });
    return;
  }
  if (TRAIN[msg.type]) {
    try {
      await started;
      const reply = self[TRAIN[msg.type]](msg) || { error: "internal error: the training worker gave no reply" };
      self.postMessage({ type: "trainStarted", id: msg.id, error: reply.error });
    } catch (err) {
      self.postMessage({ type: "trainStarted", id: msg.id, error: String(err) });
    }
    return;
  }
  const replyType = msg.type === "load" ? "loaded" : "results";
  try {
    await started;
    let reply;
    if (msg.type === "load") {
      reply = self.ganomalyLoad(new Uint8Array(msg.weights));
    } else if (msg.type === "scoreMany") {
      reply = await scoreMany(msg);
    } else {
      reply = { error: "unknown message type " + msg.type };
    }
    if (!reply) {
      reply = { error: "internal error: the kernel worker gave no reply" };
    }
    reply.type = replyType;
    reply.id = msg.id;
    // The codes (when the page asked for them) go as transferred buffers; the images
    // are data: URLs already.
    const transfer = [];
    for (const r of reply.results || []) {
      for (const key of ["z", "zhat", "xhat"]) {
        if (r[key]) {
          r[key] = r[key].buffer;
          transfer.push(r[key]);
        }
      }
    }
    self.postMessage(reply, transfer);
  } catch (err) {
    self.postMessage({ type: replyType, id: msg.id, error: String(err) });
  }
  if (exitAfter > 0 && msg.type === "scoreMany" && ++scoringCalls === exitAfter) {
    self.ganomalyExit(3);
  }
}
