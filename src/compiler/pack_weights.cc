// Stage "pack-weights": the blobs the lowering produced get their packed layout and a place in the
// weights section, in call order (a blob's first user first, so a prefetch reads one contiguous
// range per kernel), each 16-byte aligned. Conv and FC weights pad their channel dims to the
// target's num_macs with zeros (the MAC array's dot-product length); the args already carry the
// padded counts. Then every `*_offset` word that refers to a blob gets the blob's offset, and
// weights-region tensors (constant operands) the offset of their blob.
#include "compiler/compiler.h"

namespace neutron::compiler {
namespace {

int32_t round_up(int32_t v, int32_t m) { return m <= 1 ? v : (v + m - 1) / m * m; }

void pack_blob(ConstBlob& b) {
  if (b.packed) return;
  if (b.kind == BlobKind::kConvWeights) {
    const int32_t O = b.dims[0], KH = b.dims[1], KW = b.dims[2], I = b.dims[3];
    const int32_t Op = round_up(O, b.pad_o), Ip = round_up(I, b.pad_i);
    std::vector<uint8_t> out(size_t(Op) * size_t(KH) * size_t(KW) * size_t(Ip), 0);
    for (int32_t o = 0; o < O; ++o)
      for (int32_t r = 0; r < KH * KW; ++r)
        std::memcpy(&out[(size_t(o) * size_t(KH * KW) + size_t(r)) * size_t(Ip)],
                    &b.data[(size_t(o) * size_t(KH * KW) + size_t(r)) * size_t(I)], size_t(I));
    b.data = std::move(out);
  } else if (b.kind == BlobKind::kFcWeights) {
    const int32_t N = b.dims[0], K = b.dims[1];
    const int32_t Np = round_up(N, b.pad_o), Kp = round_up(K, b.pad_i);
    std::vector<uint8_t> out(size_t(Np) * size_t(Kp), 0);
    for (int32_t n = 0; n < N; ++n) std::memcpy(&out[size_t(n) * size_t(Kp)], &b.data[size_t(n) * size_t(K)], size_t(K));
    b.data = std::move(out);
  }
  b.packed = true;
}

}  // namespace

Status pack_weights(CompileContext& ctx) {
  NpuProgram& p = ctx.program;
  // Placement order: blobs by first referencing call, then constant-operand blobs by tensor.
  std::vector<uint32_t> order;
  std::vector<bool> placed(p.blobs.size(), false);
  auto take = [&](uint32_t b) {
    if (b < placed.size() && !placed[b]) {
      placed[b] = true;
      order.push_back(b);
    }
  };
  for (const KernelCall& c : p.calls) {
    for (const BlobRef& r : c.blob_refs) take(r.blob);
    for (uint32_t t : c.reads)
      if (t < p.tensors.size() && p.tensors[t].blob >= 0) take(uint32_t(p.tensors[t].blob));
  }
  for (uint32_t b = 0; b < p.blobs.size(); ++b) take(b);

  uint64_t at = 0;
  for (uint32_t b : order) {
    ConstBlob& blob = p.blobs[b];
    pack_blob(blob);
    at = npu::align16(at);
    blob.offset = uint32_t(at);
    at += blob.data.size();
    CHECK_OR_RETURN(at < (uint64_t(1) << 32) - npu::kAlignment, Error::NotSupported, "partition '", p.name,
                    "': weights section above 4 GiB");
  }
  p.weights_size = uint32_t(npu::align16(at));
  for (KernelCall& c : p.calls) {
    for (const BlobRef& r : c.blob_refs) {
      CHECK_OR_RETURN(r.blob < p.blobs.size() && r.word < c.args.size(), Error::Internal, "pack-weights: call ",
                      c.origin, " refers to blob ", r.blob, " from word ", r.word);
      c.args[r.word] = p.blobs[r.blob].offset;
    }
  }
  for (ProgramTensor& t : p.tensors)
    if (t.blob >= 0) t.offset = p.blobs[size_t(t.blob)].offset;
  return Status::OK();
}

}  // namespace neutron::compiler
