import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Llama, type LlamaModel, getLlama, readGgufFileInfo } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as makeModel } from '../../src/cli/commands/make-model.js';
import { Model, ValidationError } from '../../src/index.js';
import { buildModel, GGUF_FILENAME, PRESETS, writePresetGguf } from '../../src/modelbuilder/index.js';
import { toFloat16Bits } from '../../src/modelbuilder/gguf/float16.js';
import { q4_0FromMatMulNBits } from '../../src/modelbuilder/gguf/q4-0.js';
import { dequantizeInt4, randomInt4Weight } from '../../src/modelbuilder/int4.js';

/** ggml's Q4_0 decoded by the spec (per block: float16 d, then byte j = element j | element j+16 << 4). */
function dequantizeQ4_0(bytes: Uint8Array, k: number, n: number): Float32Array {
  const half = (h: number) => {
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    return (h & 0x8000 ? -1 : 1) * (e ? (1 + m / 1024) * 2 ** (e - 15) : m * 2 ** -24);
  };
  const w = new Float32Array(k * n); // row-major [K, N] like dequantizeInt4
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let col = 0; col < n; col++) {
    for (let b = 0; b < k / 32; b++) {
      const at = (col * (k / 32) + b) * 18;
      const d = half(view.getUint16(at, true));
      for (let j = 0; j < 16; j++) {
        const byte = bytes[at + 2 + j];
        w[(b * 32 + j) * n + col] = ((byte & 0x0f) - 8) * d;
        w[(b * 32 + j + 16) * n + col] = ((byte >> 4) - 8) * d;
      }
    }
  }
  return w;
}

const concat = (chunks: Iterable<Uint8Array>) => Buffer.concat(Array.from(chunks));

describe('GGUF building blocks', () => {
  it('rounds float32 to float16 bits to nearest even, with subnormals and overflow', () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2)).toBe(0xc000);
    expect(toFloat16Bits(0.1)).toBe(0x2e66);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(65520)).toBe(0x7c00);
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(toFloat16Bits(2 ** -26)).toBe(0);
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // a tie rounds to the even mantissa
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });

  it('repacks MatMulNBits int4 as Q4_0 with the same codes (only the scales round to float16)', () => {
    const k = 96;
    const n = 5;
    const w = randomInt4Weight('t', k, n, 0.05, 3);
    const q = q4_0FromMatMulNBits('t', w.packed, w.scales, k, n);
    expect(q.dims).toEqual([k, n]);
    const bytes = concat(q.chunks());
    expect(bytes.byteLength).toBe((k / 32) * n * 18);
    const packed = concat(w.packed.chunks());
    const scalesBytes = concat(w.scales.chunks());
    const scales = new Float32Array(scalesBytes.buffer, scalesBytes.byteOffset, scalesBytes.byteLength / 4);
    const ours = dequantizeInt4(packed, scales, k, n);
    const ggml = dequantizeQ4_0(bytes, k, n);
    for (let i = 0; i < ours.length; i++) expect(Math.abs(ggml[i] - ours[i])).toBeLessThanOrEqual(Math.abs(ours[i]) * 2 ** -11 + 1e-9);
    expect(ggml.some((v, i) => v !== 0 && Math.sign(v) === Math.sign(ours[i]))).toBe(true);
  });

  it('refuses gguf for the counting model, which has no llama.cpp architecture', async () => {
    await expect(buildModel({ preset: 'tiny-deterministic', outDir: path.join(os.tmpdir(), 'never'), gguf: true }))
      .rejects.toThrow(ValidationError);
  });
});

describe('make-model --gguf on tiny-random, read and run by node-llama-cpp (llama.cpp) as the peer', () => {
  let dir: string;
  let file: string;
  let llama: Llama;
  let gguf: LlamaModel;
  beforeAll(async () => {
    dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'ortgenai-gguf-')), 'model');
    await buildModel({ preset: 'tiny-random', outDir: dir, gguf: true });
    file = path.join(dir, GGUF_FILENAME);
    llama = await getLlama({ gpu: false, build: 'never', logLevel: 'warn' });
    gguf = await llama.loadModel({ modelPath: file });
  });
  afterAll(async () => {
    await gguf?.dispose();
    await llama?.dispose();
    await rm(path.dirname(dir), { recursive: true, force: true });
  });

  it('has GGUF v3 structure: phi3 metadata of the preset, tensor infos, 32-byte aligned data', async () => {
    const info = await readGgufFileInfo(file);
    expect(info.version).toBe(3);
    const preset = PRESETS['tiny-random'];
    if (preset.kind !== 'decoder') throw new Error('tiny-random is a decoder preset');
    const d = preset.dims;
    const meta = info.metadata as Record<string, any>;
    expect(meta.general.architecture).toBe('phi3');
    expect(meta.general.alignment).toBe(32);
    // A name with "phi3" in it makes llama.cpp look for Phi-3's <s>/</s>/<unk> (and right-strip special tokens).
    expect(meta.general.name).not.toMatch(/phi-?3/i);
    expect(meta.general.description).toBe('ortgenai-node make-model preset tiny-random');
    expect(meta.phi3).toMatchObject({
      context_length: d.contextLength, embedding_length: d.hiddenSize, feed_forward_length: d.intermediateSize,
      block_count: d.numHiddenLayers, attention: { head_count: d.numAttentionHeads, head_count_kv: d.numKeyValueHeads },
      rope: { dimension_count: d.hiddenSize / d.numAttentionHeads, freq_base: d.ropeTheta },
    });
    expect(meta.phi3.attention.layer_norm_rms_epsilon).toBeCloseTo(d.rmsNormEps, 9);
    expect(meta.tokenizer.ggml.model).toBe('gpt2');
    expect(meta.tokenizer.ggml.pre).toBe('gpt-2');
    expect(meta.tokenizer.ggml.tokens).toHaveLength(50261);
    expect(meta.tokenizer.ggml.tokens.slice(50256)).toEqual(['<|endoftext|>', '<|system|>', '<|user|>', '<|assistant|>', '<|end|>']);
    expect(meta.tokenizer.ggml.merges).toHaveLength(50000);

    const tensors = info.tensorInfo!;
    expect(tensors).toHaveLength(3 + 6 * d.numHiddenLayers);
    const byName = Object.fromEntries(tensors.map((t) => [t.name, t]));
    expect(byName['token_embd.weight']).toMatchObject({ dimensions: [64, 50261], ggmlType: 0 });
    expect(byName['blk.1.attn_qkv.weight']).toMatchObject({ dimensions: [64, 128], ggmlType: 2 });
    expect(byName['blk.1.ffn_up.weight']).toMatchObject({ dimensions: [64, 256], ggmlType: 2 });
    expect(byName['blk.1.ffn_down.weight']).toMatchObject({ dimensions: [128, 64], ggmlType: 2 });
    expect(byName['output.weight']).toMatchObject({ dimensions: [64, 50261], ggmlType: 2 });
    for (const t of tensors) {
      expect(Number(t.offset) % 32).toBe(0);
      expect(Number(t.fileOffset) % 32).toBe(0);
    }
    const last = tensors.at(-1)!;
    const lastBytes = (Number(last.dimensions[0]) / 32) * 18 * Number(last.dimensions[1]);
    expect((await stat(file)).size).toBe(Number(last.fileOffset) + lastBytes);
  });

  it('writes the same file on its own for a folder made without it (the bench cache)', async () => {
    const alone = path.join(path.dirname(dir), 'alone.gguf');
    await writePresetGguf('tiny-random', alone);
    expect((await readFile(alone)).equals(await readFile(file))).toBe(true);
  });

  it('tokenizes like our tokenizer and generates the same greedy tokens as ORT-GenAI on model.onnx', async () => {
    const ours = await Model.load(dir, { threads: 1 });
    try {
      for (const text of ['The the, and', 'Hello world, this is a test.', "  It's 2026: naïve café — 日本語!\n\tdone"]) {
        expect(Array.from(gguf.tokenize(text))).toEqual(Array.from(ours.tokenizer.encode(text)));
      }
      const prompt = gguf.tokenize('The the, and');
      const context = await gguf.createContext({ contextSize: 128, threads: 1 });
      const generated: number[] = [];
      try {
        for await (const token of context.getSequence().evaluate(prompt, { temperature: 0 })) {
          generated.push(token);
          if (generated.length === 8) break;
        }
      } finally {
        await context.dispose();
      }
      const expected = await ours.generate(Array.from(prompt), { maxTokens: 8 });
      // Same weights and codes: llama.cpp's Q4_0 kernels (int8 activations) pick the same greedy tokens.
      expect(generated).toEqual(Array.from(expected.tokens));
    } finally {
      ours.dispose();
    }
  });
});

describe('make-model --gguf with Phi-3-mini\'s 32064-row vocabulary', () => {
  it('pads the rows the tokenizer never produces as unused tokens, and llama.cpp loads and tokenizes it', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'ortgenai-gguf-32k-'));
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'warn' });
    try {
      await makeModel(['--preset', 'tiny-random', '--tokenizer', 'gpt2-phi3-32k', '--out', tmp, '--force', '--gguf']);
      const file = path.join(tmp, GGUF_FILENAME);
      const meta = (await readGgufFileInfo(file)).metadata as Record<string, any>;
      const { tokens, token_type: types } = meta.tokenizer.ggml;
      expect(tokens).toHaveLength(32064);
      expect(tokens[32000]).toBe('<|endoftext|>');
      expect(tokens[32063]).toBe('[PAD32063]');
      expect([types[100], types[32000], types[32063]]).toEqual([1, 3, 5]);
      const model = await llama.loadModel({ modelPath: file });
      const ours = await Model.load(tmp, { threads: 1 });
      try {
        const text = '<|user|>\nHow many tokens?<|end|>\n<|assistant|>\n';
        expect(Array.from(model.tokenize(text, true))).toEqual(Array.from(ours.tokenizer.encode(text)));
      } finally {
        ours.dispose();
        await model.dispose();
      }
    } finally {
      await llama.dispose();
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
