// Host execution of int8 nodes: the node is lowered by the shared int8 lowering (lowering/lowering.h,
// no channel padding), its kernel calls laid out and emitted as microcode, prepared once by the
// kernel-call executor (kernel_calls/kernel_calls.h) and run by it. The CPU instructions of program
// files and the simulated NPU run the same lowering on the same executor, so host, CPU program and
// NPU agree bit for bit by construction.
#include <algorithm>
#include <cstring>
#include <memory>

#include "core/aligned_buffer.h"
#include "exec/ops/binders.h"
#include "kernel_calls/kernel_calls.h"
#include "lowering/lowering.h"
#include "npu/microcode_reader.h"

namespace neutron {
namespace {

class LoweredStep final : public Step {
 public:
  std::vector<TensorId> inputs, outputs;
  std::vector<uint8_t> microcode;
  std::vector<uint8_t> weights_kept;
  AlignedBuffer weights, prepared, host;  // host: repacked conv and FC weights
  npu::MicrocodeView mc;
  kernel_calls::Executor calls;
  size_t scratch = 0;    // the program's scratch (temporaries), then the kernels' workspace
  size_t workspace_at = 0;
  // Buffer pointers of one run (filled by run(); the executor is not shared between threads).
  mutable std::vector<const uint8_t*> in_ptrs;
  mutable std::vector<uint8_t*> out_ptrs;

  void run(const RunContext& ctx) const override {
    for (size_t i = 0; i < inputs.size(); ++i) in_ptrs[i] = static_cast<const uint8_t*>(ctx.raw(inputs[i]));
    for (size_t i = 0; i < outputs.size(); ++i) out_ptrs[i] = ctx.out<uint8_t>(outputs[i]);
    kernel_calls::RunBuffers b;
    b.inputs = in_ptrs.data();
    b.outputs = out_ptrs.data();
    b.scratch = ctx.scratch<uint8_t>();
    b.workspace = ctx.scratch<uint8_t>() + workspace_at;
    // prepare() validated every call and buffer; run() fails only when not prepared.
    (void)calls.run(b, nullptr);
  }
  size_t scratch_bytes() const override { return scratch; }
};

}  // namespace

StatusOr<StepPtr> bind_lowered_int8(const Graph& g, NodeId id) {
  lowering::KernelProgram p;
  RETURN_IF_ERROR(lowering::lower_node(g, id, lowering::LowerOptions(), &p));
  RETURN_IF_ERROR(lowering::place_for_cpu(p));
  auto step = std::make_unique<LoweredStep>();
  const Node& n = g.node(id);
  for (TensorId t : n.inputs)
    if (t != kNoTensor && !g.tensor(t).is_constant() &&
        std::find(step->inputs.begin(), step->inputs.end(), t) == step->inputs.end())
      step->inputs.push_back(t);
  for (TensorId t : n.outputs)
    if (t != kNoTensor) step->outputs.push_back(t);
  CHECK_OR_RETURN(step->inputs.size() == size_t(p.num_inputs) && step->outputs.size() == size_t(p.num_outputs),
                  Error::Internal, describe(g, id), ": lowered IO does not match the node");
  step->microcode = std::move(p.microcode);
  const size_t weights_size = p.weights.size();
  // The emitted weights section as it is when malloc aligned it (it does on the hosts we build
  // for), else a 64-byte aligned copy.
  const uint8_t* wsec = p.weights.data();
  if (reinterpret_cast<uintptr_t>(wsec) % npu::kAlignment == 0) {
    step->weights_kept = std::move(p.weights);
    wsec = step->weights_kept.data();
  } else {
    step->weights.resize(p.weights.size());
    if (!p.weights.empty()) std::memcpy(step->weights.data(), p.weights.data(), p.weights.size());
    wsec = step->weights.data();
  }
  const npu::ValidationResult v =
      npu::validate_microcode(step->microcode.data(), step->microcode.size(), weights_size, &step->mc);
  CHECK_OR_RETURN(v.ok(), Error::Internal, describe(g, id), ": lowered kernel calls do not validate: ", v.message);
  // The kernels' workspace is the executor's shared scratch (after this node's temporaries); prepare
  // repacks through a temporary one.
  // Host mode: conv and FC weights repacked for the host's SIMD kernels (step->host).
  kernel_calls::MemoryNeeds need;
  kernel_calls::CallStatus s = kernel_calls::Executor::measure(step->mc, wsec, kernel_calls::Limits::kCpu, true, &need);
  CHECK_OR_RETURN(s.ok(), s.error, describe(g, id), ": ", s.message);
  const size_t mem = need.state, ws = need.host_workspace;
  step->prepared.resize(mem);
  step->host.resize(need.host + 16);
  AlignedBuffer repack;
  repack.resize(ws);
  s = step->calls.prepare(step->mc, wsec, step->prepared.data(), mem, repack.data(), ws, kernel_calls::Limits::kCpu,
                          kernel_calls::HostMemory{step->host.data(), step->host.size()});
  CHECK_OR_RETURN(s.ok(), s.error, describe(g, id), ": ", s.message);
  step->workspace_at = npu::align16(size_t(p.scratch_size)) + 64;
  step->scratch = step->workspace_at + ws;
  step->in_ptrs.resize(step->inputs.size() + 1);
  step->out_ptrs.resize(step->outputs.size() + 1);
  return StepPtr(std::move(step));
}

}  // namespace neutron
