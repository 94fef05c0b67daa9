#include "lowering/kernel_program.h"

#include <unordered_map>

#include "npu/microcode_writer.h"

namespace neutron::lowering {

uint32_t ProgramTensor::bytes() const {
  uint64_t n = 1;
  for (int32_t d : dims) n *= uint64_t(d);
  const uint32_t es = elem == npu::ElemType::kInt64   ? 8
                      : (elem == npu::ElemType::kInt32 || elem == npu::ElemType::kFloat32) ? 4
                                                      : (elem == npu::ElemType::kInt16 ? 2 : 1);
  return uint32_t(n * es);
}

const char* blob_kind_name(BlobKind k) {
  switch (k) {
    case BlobKind::kConvWeights: return "conv_weights";
    case BlobKind::kFcWeights: return "fc_weights";
    case BlobKind::kBias: return "bias";
    case BlobKind::kMultipliers: return "multipliers";
    case BlobKind::kTable: return "table";
    case BlobKind::kIndexTable: return "index_table";
    case BlobKind::kSoftmaxTable: return "softmax_table";
    case BlobKind::kNormTable: return "norm_table";
    case BlobKind::kConstant: return "constant";
    case BlobKind::kParams: return "params";
    case BlobKind::kFloat32: return "f32";
  }
  return "?";
}

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

// Placement order: blobs by first referencing call, then constant-operand blobs by tensor.
Status place_constants(KernelProgram& p) {
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

  // Identical packed blobs (one weight matrix read by every step of an unrolled recurrence, the
  // same table in several nodes) are stored once: a later one takes the first one's offset.
  // Deterministic: the first in placement order keeps its place.
  std::unordered_map<uint64_t, std::vector<uint32_t>> by_hash;
  uint64_t at = 0;
  for (uint32_t b : order) {
    ConstBlob& blob = p.blobs[b];
    pack_blob(blob);
    uint64_t h = 1469598103934665603ull;  // FNV-1a over the packed bytes
    for (uint8_t byte : blob.data) h = (h ^ byte) * 1099511628211ull;
    bool shared = false;
    for (uint32_t other : by_hash[h]) {
      if (p.blobs[other].data == blob.data) {
        blob.offset = p.blobs[other].offset;
        shared = true;
        break;
      }
    }
    if (shared) continue;
    by_hash[h].push_back(b);
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

Status emit_kernel_calls(KernelProgram& p) {
  npu::MicrocodeWriter w;
  for (const ProgramTensor& t : p.tensors) w.add_tensor(t.region, t.io_index, t.offset, t.elem, t.dims, t.zero_point);
  std::vector<uint8_t> image(p.weights_size, 0);
  for (const ConstBlob& b : p.blobs) {
    CHECK_OR_RETURN(b.offset != UINT32_MAX && uint64_t(b.offset) + b.data.size() <= image.size(), Error::Internal,
                    "emit: blob '", b.name, "' is not placed in the weights section");
    if (!b.data.empty()) std::memcpy(image.data() + b.offset, b.data.data(), b.data.size());
  }
  if (!image.empty()) w.add_weights(image.data(), image.size());
  for (const KernelCall& c : p.calls) w.append_raw(c.op, c.args.data(), c.args.size() * 4);
  w.set_scratch_size(p.scratch_size);
  w.set_sram_scratch_size(p.sram_scratch_size);
  w.set_num_inputs(uint32_t(p.num_inputs));
  w.set_num_outputs(uint32_t(p.num_outputs));
  ASSIGN_OR_RETURN(npu::MicrocodeImage img, w.finish());
  p.microcode = std::move(img.microcode);
  p.weights = std::move(img.weights);
  return Status::OK();
}

Status place_for_cpu(KernelProgram& p) {
  RETURN_IF_ERROR(place_constants(p));
  uint64_t at = 0;
  for (ProgramTensor& t : p.tensors) {
    if (t.region != npu::Region::kScratch || t.alias_of >= 0) continue;
    at = npu::align16(at);
    t.offset = uint32_t(at);
    at += t.bytes();
    CHECK_OR_RETURN(at < (uint64_t(1) << 32) - npu::kAlignment, Error::NotSupported, "'", p.name,
                    "': scratch above 4 GiB");
  }
  for (ProgramTensor& t : p.tensors)
    if (t.alias_of >= 0) t.offset = p.tensors[size_t(t.alias_of)].offset;
  p.scratch_size = uint32_t(npu::align16(at));
  return emit_kernel_calls(p);
}

}  // namespace neutron::lowering
