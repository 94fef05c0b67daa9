// Times one ONNX model in ONNX Runtime (CPU EP, 1 thread, all graph optimizations) on a .npy
// input (float32, little endian). Usage: node ort_time.js ORT_DIR MODEL.onnx INPUT.npy REPEAT WARMUP
// Prints {"median": ms, "min": ms, "cpu_median": ms} on stdout (cpu: the process's user + system time).
'use strict';
const fs = require('fs');
const path = require('path');
const [ortDir, model, input, repeatArg, warmupArg] = process.argv.slice(2);
const ort = require(path.join(path.resolve(ortDir), 'node_modules', 'onnxruntime-node'));

function readNpy(file) {
  const b = fs.readFileSync(file);
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const off = major === 1 ? 10 : 12;
  const header = b.toString('latin1', off, off + hlen);
  if (!header.includes("'<f4'")) throw new Error(`${file}: only float32 inputs are supported`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const data = new Float32Array(b.buffer.slice(b.byteOffset + off + hlen, b.byteOffset + b.length));
  return { shape, data };
}

(async () => {
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const x = readNpy(input);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) };
  const repeat = Number(repeatArg), warmup = Number(warmupArg);
  for (let i = 0; i < warmup; ++i) await session.run(feeds);
  const times = [], cpu = [];
  for (let i = 0; i < repeat; ++i) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  cpu.sort((a, b) => a - b);
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const median = times.length % 2 ? times[mid] : 0.5 * (times[mid - 1] + times[mid]);
  const cpuMedian = cpu.length % 2 ? cpu[mid] : 0.5 * (cpu[mid - 1] + cpu[mid]);
  process.stdout.write(JSON.stringify({ median, min: times[0], cpu_median: cpuMedian }) + '\n');
})().catch((e) => {
  process.stderr.write(String(e) + '\n');
  process.exit(1);
});
