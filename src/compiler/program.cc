#include <sstream>

#include "compiler/args_format.h"
#include "compiler/program.h"

namespace neutron::compiler {

namespace {

const char* region_name(npu::Region r) {
  switch (r) {
    case npu::Region::kInput: return "input";
    case npu::Region::kOutput: return "output";
    case npu::Region::kScratch: return "scratch";
    case npu::Region::kWeights: return "weights";
    case npu::Region::kSramWeights: return "sram";
  }
  return "?";
}

// FNV-1a, to show blob contents compactly in dumps.
uint32_t fnv1a(const std::vector<uint8_t>& d) {
  uint32_t h = 2166136261u;
  for (uint8_t b : d) h = (h ^ b) * 16777619u;
  return h;
}

}  // namespace

std::string print_program(const NpuProgram& p) {
  std::ostringstream os;
  os << "program " << p.name << ": " << p.num_inputs << " inputs, " << p.num_outputs << " outputs, "
     << p.tensors.size() << " tensors, " << p.blobs.size() << " blobs, " << p.calls.size() << " calls\n";
  os << "  weights " << p.weights_size << " bytes, scratch " << p.scratch_size << " bytes, sram scratch "
     << p.sram_scratch_size << " bytes\n";
  os << "tensors:\n";
  for (size_t i = 0; i < p.tensors.size(); ++i) {
    const ProgramTensor& t = p.tensors[i];
    os << "  t" << i << " " << region_name(t.region);
    if (t.region == npu::Region::kInput || t.region == npu::Region::kOutput) os << "[" << t.io_index << "]";
    os << "+" << t.offset << " [" << t.dims[0] << "," << t.dims[1] << "," << t.dims[2] << "," << t.dims[3] << "] zp "
       << t.zero_point << " " << t.bytes() << "B";
    if (t.alias_of >= 0) os << " alias of t" << t.alias_of;
    if (t.blob >= 0) os << " blob b" << t.blob;
    if (t.first_use >= 0) os << " live " << t.first_use << ".." << t.last_use;
    os << "  " << t.name << "\n";
  }
  os << "blobs:\n";
  for (size_t i = 0; i < p.blobs.size(); ++i) {
    const ConstBlob& b = p.blobs[i];
    os << "  b" << i << " " << blob_kind_name(b.kind) << " " << b.data.size() << "B";
    if (b.kind == BlobKind::kConvWeights)
      os << " [" << b.dims[0] << "," << b.dims[1] << "," << b.dims[2] << "," << b.dims[3] << "] pad " << b.pad_o << "/"
         << b.pad_i;
    if (b.kind == BlobKind::kFcWeights) os << " [" << b.dims[0] << "," << b.dims[1] << "] pad " << b.pad_o << "/" << b.pad_i;
    if (b.packed) os << " packed";
    if (b.offset != UINT32_MAX) os << " @" << b.offset;
    char h[16];
    std::snprintf(h, sizeof(h), "%08x", fnv1a(b.data));
    os << " fnv " << h << "  " << b.name << "\n";
  }
  os << "calls:\n";
  for (size_t i = 0; i < p.calls.size(); ++i) {
    const KernelCall& c = p.calls[i];
    // Before pack-weights an offset word holds a blob index: shown as "b<index>".
    auto unplaced = [&](uint32_t word, std::string* text) {
      for (const BlobRef& r : c.blob_refs)
        if (r.word == word && r.blob < p.blobs.size() && p.blobs[r.blob].offset == UINT32_MAX) {
          *text = "b" + std::to_string(r.blob);
          return true;
        }
      return false;
    };
    os << "  c" << i << " " << npu::opcode_name(c.op) << " "
       << format_args(c.op, c.args.data(), uint32_t(c.args.size()), unplaced);
    os << "  // " << c.origin << "\n";
  }
  if (!p.payload.empty()) os << "payload " << p.payload.size() << " bytes (microcode " << p.microcode.size() << ", weights "
                             << p.weights.size() << ")\n";
  else if (!p.microcode.empty())
    os << "microcode " << p.microcode.size() << " bytes, weights " << p.weights.size() << " bytes\n";
  return os.str();
}

}  // namespace neutron::compiler
