// Stages "emit" (the program -> microcode and weights through npu::MicrocodeWriter, which lays out
// and validates the microcode) and "compose-payload" (neutron-backend-facts.md §6.2):
//
//   offset 0                  header: n_in, n_out, n_input_args, input flags [n_in], output flags
//                             [n_out], input map [n_in], output map [n_out], version (1)
//                             = 4 + 2 n_in + 2 n_out bytes, zero padded to 16
//   + align16(header)         microcode (header word 6 bytes), zero padded to 16
//   + align16(microcode)      weights (header word 7 bytes, a multiple of 16)
//   + align16(weights)        kernels: empty (Neutron-C links the kernel library into firmware)
#include "compiler/compiler.h"
#include "npu/microcode_writer.h"

namespace neutron::compiler {

Status emit_microcode(CompileContext& ctx) { return lowering::emit_kernel_calls(ctx.program); }

Status compose_payload(CompileContext& ctx) {
  NpuProgram& p = ctx.program;
  const PayloadIo& io = p.io;
  const size_t n_in = io.input_flags.size(), n_out = io.output_flags.size();
  CHECK_OR_RETURN(n_in == size_t(p.num_inputs) && n_out == size_t(p.num_outputs) && io.input_map.size() == n_in &&
                      io.output_map.size() == n_out && n_in < 256 && n_out < 256 && io.num_input_args < 256,
                  Error::Internal, "compose-payload: inconsistent IO description");
  std::vector<uint8_t> header;
  header.push_back(uint8_t(n_in));
  header.push_back(uint8_t(n_out));
  header.push_back(uint8_t(io.num_input_args));
  header.insert(header.end(), io.input_flags.begin(), io.input_flags.end());
  header.insert(header.end(), io.output_flags.begin(), io.output_flags.end());
  header.insert(header.end(), io.input_map.begin(), io.input_map.end());
  header.insert(header.end(), io.output_map.begin(), io.output_map.end());
  header.push_back(npu::kPayloadVersion);
  std::vector<uint8_t>& out = p.payload;
  out.assign(npu::align16(header.size()), 0);
  std::memcpy(out.data(), header.data(), header.size());
  auto append = [&](const std::vector<uint8_t>& section) {
    const size_t at = out.size();
    out.resize(at + npu::align16(section.size()), 0);
    if (!section.empty()) std::memcpy(out.data() + at, section.data(), section.size());
  };
  append(p.microcode);
  append(p.weights);
  append({});  // kernels
  return Status::OK();
}

}  // namespace neutron::compiler
