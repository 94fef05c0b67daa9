#include "compiler/program_file.h"

#include <algorithm>
#include <map>
#include <memory>

#include "compiler/estimate.h"
#include "compiler/memory_planner.h"
#include "program/program_format.h"
#include "runtime/neutron_backend.h"
#include "runtime/payload.h"
#include "sim/sim_config_target.h"

namespace neutron::compiler {
namespace {

enum class UnitKind { kDelegate, kCpuKernels, kQuantize, kDequantize };

struct Unit {
  UnitKind kind = UnitKind::kQuantize;
  int partition = -1;  // index into `parts` (delegate, CPU kernels)
  NodeId node = -1;    // Quantize / Dequantize
};

bool per_tensor_int8(const Tensor& t) { return t.dtype == DType::I8 && t.quant.scale.size() == 1; }

// Quantize / Dequantize instructions: at the model's edges only (a QuantizeLinear of a graph input,
// a DequantizeLinear of a graph output). Inside the model, QuantizeLinear / DequantizeLinear are the
// edges of ops that stay in float and join the CPU kernel calls (quantize / dequantize calls).
bool is_input_quantize(const Graph& g, const Node& n) {
  return n.kind == OpKind::QuantizeLinear && !n.inputs.empty() && n.outputs.size() == 1 &&
         g.tensor(n.inputs[0]).dtype == DType::F32 && !g.tensor(n.inputs[0]).is_constant() &&
         g.tensor(n.inputs[0]).producer < 0 && per_tensor_int8(g.tensor(n.outputs[0]));
}

bool is_output_dequantize(const Graph& g, const Node& n) {
  return n.kind == OpKind::DequantizeLinear && !n.inputs.empty() && n.outputs.size() == 1 &&
         per_tensor_int8(g.tensor(n.inputs[0])) && !g.tensor(n.inputs[0]).is_constant() &&
         g.tensor(n.outputs[0]).dtype == DType::F32 && g.is_graph_output(n.outputs[0]);
}

// An int8 op the CPU kernel calls can run: every runtime operand int8, except a Gather's int32 or
// int64 indices (token ids, which the gather kernel checks against the table at run time).
bool is_int8_op(const Graph& g, const Node& n) {
  if (n.kind == OpKind::QuantizeLinear || n.kind == OpKind::DequantizeLinear) return false;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const TensorId t = n.inputs[i];
    if (t == kNoTensor || g.tensor(t).is_constant()) continue;
    const DType dt = g.tensor(t).dtype;
    if (n.kind == OpKind::Gather && i == 1 && (dt == DType::I32 || dt == DType::I64)) continue;
    if (dt != DType::I8) return false;
  }
  for (TensorId t : n.outputs)
    if (t != kNoTensor && g.tensor(t).dtype != DType::I8) return false;
  return true;
}

StatusOr<fb::DType> program_dtype(const Tensor& t) {
  switch (t.dtype) {
    case DType::F32: return fb::DType::Float32;
    case DType::I8: return fb::DType::Int8;
    case DType::U8: return fb::DType::UInt8;
    case DType::I32: return fb::DType::Int32;
    case DType::I64: return fb::DType::Int64;
    default: return error(Error::NotSupported, "tensor '", t.name, "' has type ", dtype_name(t.dtype),
                          ", which program files do not hold (f32, i8, u8, i32, i64)");
  }
}

// Liveness of one payload's IO and scratch over its kernel calls, for the lower bound.
struct PayloadLiveness {
  int calls = 0;
  std::vector<std::pair<int, int>> input_range, output_range;  // per delegate arg (inputs, outputs)
  std::vector<LiveRange> scratch;                              // internal activations
  std::vector<uint32_t> scratch_tensors;                       // their NpuProgram tensor indices
};

PayloadLiveness payload_liveness(const NpuProgram& np, size_t num_inputs, size_t num_outputs) {
  PayloadLiveness l;
  l.calls = int(np.calls.size());
  l.input_range.assign(num_inputs, {l.calls, -1});
  l.output_range.assign(num_outputs, {l.calls, -1});
  for (const ProgramTensor& t : np.tensors) {
    if (t.first_use < 0) continue;
    if (t.region == npu::Region::kScratch && t.alias_of < 0) {
      l.scratch.push_back(LiveRange{t.bytes(), t.first_use, t.last_use});
      l.scratch_tensors.push_back(uint32_t(&t - np.tensors.data()));
      continue;
    }
    std::pair<int, int>* r = nullptr;
    if (t.region == npu::Region::kInput && t.io_index < np.io.input_map.size() &&
        np.io.input_map[t.io_index] < num_inputs)
      r = &l.input_range[np.io.input_map[t.io_index]];
    if (t.region == npu::Region::kOutput && t.io_index < np.io.output_map.size() &&
        np.io.output_map[t.io_index] < num_outputs)
      r = &l.output_range[np.io.output_map[t.io_index]];
    if (r) {
      r->first = std::min(r->first, t.first_use);
      r->second = std::max(r->second, t.last_use);
    }
  }
  return l;
}

class Builder {
 public:
  Builder(const Graph& g, const NeutronTarget& target, const ProgramFileOptions& options)
      : g_(g), target_(target), options_(options), cpu_target_(cpu_kernel_target()), index_(g.num_tensors(), -1) {}

  StatusOr<ProgramFile> build(const Partitioning* partitioning);

 private:
  Status form_units(const Partitioning* partitioning);
  int tensor_index(TensorId t);
  Status compile_unit(size_t u);
  Status plan_memory();
  StatusOr<std::vector<uint8_t>> serialize();

  const Graph& g_;
  const NeutronTarget& target_;
  const ProgramFileOptions& options_;
  NeutronTarget cpu_target_;

  std::vector<Partition> parts_;  // NPU partitions first, then CPU kernel groups
  size_t num_npu_ = 0;
  std::vector<Unit> units_;

  // Program tensors (IR tensors passed between instructions).
  std::vector<int> index_;  // IR tensor -> program tensor, -1
  std::vector<TensorId> tensors_;
  std::vector<uint64_t> offsets_;

  // Per instruction.
  struct Compiled {
    std::vector<uint32_t> inputs, outputs;
    std::vector<uint8_t> payload;
    uint64_t scratch_bytes = 0, scratch_offset = 0;  // delegates: working memory besides activations
    uint64_t activations_offset = 0;                 // the payload's scratch region in the arena
    PayloadLiveness live;
    std::string origin;
    // Per microcode instruction: the node it implements, its op type and the plan step it runs
    // at (Prefetch/WaitPrefetch: the step of the kernel they serve).
    struct Call {
      std::string node, op;
      int step = 0;
    };
    std::vector<Call> calls;
    std::string plan;  // NPU payloads: the compiler's plan and per-layer estimate (describe_plan)
    // Payload units, between plan-scratch and the remaining stages.
    std::unique_ptr<Graph> graph;
    std::unique_ptr<CompileContext> ctx;
  };
  Status finish_payload(Compiled& c, const std::vector<uint64_t>& internal_offsets);
  std::vector<Compiled> compiled_;
  std::vector<int> unit_base_;        // per unit: its first plan step
  std::vector<uint64_t> step_live_;   // per plan step: arena bytes live (16-byte rounded)
  ProgramFile result_;
};

Status Builder::form_units(const Partitioning* partitioning) {
  std::vector<char> on_npu(g_.num_nodes(), 0);
  if (partitioning) {
    parts_ = partitioning->partitions;
    for (const Partition& p : parts_)
      for (NodeId n : p.nodes) on_npu[size_t(n)] = 1;
  }
  num_npu_ = parts_.size();
  std::vector<char> cpu_kernel(g_.num_nodes(), 0);
  std::vector<NodeId> edge_nodes;
  for (NodeId id : g_.live_nodes()) {
    if (on_npu[size_t(id)]) continue;
    const Node& n = g_.node(id);
    if (is_input_quantize(g_, n) || is_output_dequantize(g_, n)) {
      edge_nodes.push_back(id);
    } else {
      if (!is_int8_op(g_, n))
        for (size_t i = 0; i < n.inputs.size(); ++i) {  // e.g. an embedding lookup of int64 token ids
          const TensorId t = n.inputs[i];
          if (n.kind == OpKind::Cast || (n.kind == OpKind::Gather && i == 1)) continue;  // read as integers
          if (t != kNoTensor && std::find(g_.inputs.begin(), g_.inputs.end(), t) != g_.inputs.end() &&
              (g_.tensor(t).dtype == DType::I64 || g_.tensor(t).dtype == DType::I32))
            return error(Error::NotSupported, describe(g_, id), " reads the integer graph input '", g_.tensor(t).name,
                         "' (", dtype_name(g_.tensor(t).dtype), ") as data; program files read integer inputs only as "
                         "the indices of a Gather (an embedding lookup) or through a Cast");
        }
      // int8 ops, and ops that stay in float (float kernel calls between quantize / dequantize
      // calls); the lowering names a node it cannot lower.
      cpu_kernel[size_t(id)] = 1;
    }
  }
  // CPU kernel groups: maximal acyclic groups, unless contracting them together with the NPU
  // partitions would create a cycle; then one group per node (always acyclic).
  ASSIGN_OR_RETURN(std::vector<Partition> groups, group_nodes(g_, cpu_kernel, int(num_npu_)));
  Partitioning combined;
  combined.nodes.resize(g_.num_nodes());
  auto assemble = [&](const std::vector<Partition>& cpu_groups) {
    combined.partitions = parts_;
    combined.partitions.resize(num_npu_);
    for (const Partition& p : cpu_groups) combined.partitions.push_back(p);
    for (auto& pl : combined.nodes) pl.partition = -1;
    for (const Partition& p : combined.partitions)
      for (NodeId n : p.nodes) combined.nodes[size_t(n)].partition = p.id;
    return execution_order(g_, combined);
  };
  auto order = assemble(groups);
  if (!order.ok()) {
    groups.clear();
    for (NodeId id : g_.live_nodes()) {
      if (!cpu_kernel[size_t(id)]) continue;
      std::vector<char> one(g_.num_nodes(), 0);
      one[size_t(id)] = 1;
      ASSIGN_OR_RETURN(std::vector<Partition> single, group_nodes(g_, one, int(num_npu_ + groups.size())));
      groups.push_back(std::move(single.at(0)));
    }
    order = assemble(groups);
    RETURN_IF_ERROR(order.status());
  }
  parts_ = combined.partitions;
  for (const ExecutionUnit& eu : order.value()) {
    Unit u;
    if (eu.is_partition) {
      u.kind = size_t(eu.index) < num_npu_ ? UnitKind::kDelegate : UnitKind::kCpuKernels;
      u.partition = eu.index;
    } else {
      const Node& n = g_.node(eu.index);
      u.node = eu.index;
      u.kind = n.kind == OpKind::QuantizeLinear ? UnitKind::kQuantize : UnitKind::kDequantize;
    }
    units_.push_back(u);
  }
  return Status::OK();
}

int Builder::tensor_index(TensorId t) {
  if (index_[size_t(t)] < 0) {
    index_[size_t(t)] = int(tensors_.size());
    tensors_.push_back(t);
  }
  return index_[size_t(t)];
}

Status Builder::compile_unit(size_t ui) {
  const Unit& u = units_[ui];
  Compiled& c = compiled_[ui];
  if (u.kind == UnitKind::kQuantize || u.kind == UnitKind::kDequantize) {
    const Node& n = g_.node(u.node);
    c.inputs = {uint32_t(tensor_index(n.inputs[0]))};
    c.outputs = {uint32_t(tensor_index(n.outputs[0]))};
    c.origin = n.name;
    c.calls.push_back(Compiled::Call{n.name, op_kind_name(n.kind), 0});
    return Status::OK();
  }
  const Partition& part = parts_[size_t(u.partition)];
  const bool npu = u.kind == UnitKind::kDelegate;
  for (TensorId t : part.inputs) c.inputs.push_back(uint32_t(tensor_index(t)));
  for (TensorId t : part.outputs) c.outputs.push_back(uint32_t(tensor_index(t)));
  for (NodeId n : part.nodes) c.origin += (c.origin.empty() ? "" : ",") + g_.node(n).name;
  ASSIGN_OR_RETURN(Graph pg, prepare_partition_graph(g_, part));
  c.graph = std::make_unique<Graph>(std::move(pg));
  CompileOptions cpu_options;  // CPU: transposes as kernel calls, no prefetch, no tiling, float ops
  cpu_options.stream_weights = false;
  cpu_options.float_kernel_calls = true;
  cpu_options.fuse_kernels = false;
  cpu_options.conv_transpose_depthwise_phases = true;
  const NeutronTarget& t = npu ? target_ : cpu_target_;
  const CompileOptions& o = npu ? options_.npu : cpu_options;
  const std::string what = npu ? str_cat("NPU partition ", part.id) : str_cat("CPU kernels for ", c.origin);
  if (npu) {
    // Working memory besides activations, from a first compile (it does not depend on the plan).
    auto dry = compile_partition(*c.graph, t, o);
    if (!dry.ok()) return dry.status().with_context(what);
    runtime::PayloadView view;
    const runtime::PayloadStatus ps = runtime::parse_payload(dry->data(), dry->size(), &view);
    CHECK_OR_RETURN(ps.ok(), Error::Internal, what, ": the compiler produced a payload the runtime rejects: ", ps.message);
    std::vector<runtime::TensorArg> args;
    for (const auto* list : {&part.inputs, &part.outputs})
      for (TensorId x : *list) {
        const Tensor& xt = g_.tensor(x);
        std::vector<int32_t> sizes(xt.shape.begin(), xt.shape.end());
        args.push_back(runtime::make_tensor_arg(nullptr, uint32_t(dtype_size(xt.dtype)), sizes.data(),
                                                uint32_t(sizes.size())));
      }
    c.scratch_bytes = runtime::NeutronBackend::temp_bytes_for(view, args.data(), args.size(), false);
  }
  // Stages up to plan-scratch now; the activation offsets then come from the program's plan.
  c.ctx = std::make_unique<CompileContext>(CompileContext{*c.graph, t, o, NpuProgram()});
  for (const CompileStage& st : compile_stages()) {
    RETURN_IF_ERROR(st.run(*c.ctx).with_context(str_cat(what, ", stage ", st.name)));
    if (std::string(st.name) == "plan-scratch") break;
  }
  c.live = payload_liveness(c.ctx->program, part.inputs.size(), part.outputs.size());
  return Status::OK();
}

Status Builder::finish_payload(Compiled& c, const std::vector<uint64_t>& internal_offsets) {
  NpuProgram& np = c.ctx->program;
  uint64_t base = UINT64_MAX, end = 0;
  for (size_t k = 0; k < c.live.scratch_tensors.size(); ++k) base = std::min(base, internal_offsets[k]);
  if (c.live.scratch_tensors.empty()) base = 0;
  for (size_t k = 0; k < c.live.scratch_tensors.size(); ++k) {
    ProgramTensor& x = np.tensors[c.live.scratch_tensors[k]];
    x.offset = uint32_t(internal_offsets[k] - base);
    end = std::max<uint64_t>(end, x.offset + x.bytes());
  }
  for (ProgramTensor& x : np.tensors)  // scratch tensors no call uses sit at 0
    if (x.region == npu::Region::kScratch && x.alias_of < 0 && x.first_use < 0) {
      x.offset = 0;
      end = std::max<uint64_t>(end, x.bytes());
    }
  for (ProgramTensor& x : np.tensors) {
    if (x.alias_of < 0) continue;
    int32_t r = x.alias_of;
    while (np.tensors[size_t(r)].alias_of >= 0) r = np.tensors[size_t(r)].alias_of;
    x.offset = np.tensors[size_t(r)].offset;
  }
  np.scratch_size = uint32_t(npu::align16(end));
  RETURN_IF_ERROR(check_scratch_plan(np));
  c.activations_offset = base;
  bool after = false;
  for (const CompileStage& st : compile_stages()) {
    if (after) RETURN_IF_ERROR(st.run(*c.ctx).with_context(str_cat("payload for ", c.origin, ", stage ", st.name)));
    if (std::string(st.name) == "plan-scratch") after = true;
  }
  c.payload = std::move(np.payload);
  // Attribution: each call's node and op type (from the partition graph, which holds the
  // transposes layout-nhwc added too); prefetches take the step of the kernel they serve.
  // Several IR nodes can carry one ONNX node's name (a 1-D Conv imports as Reshape, Conv, Reshape):
  // the name's op type is the node's own op, not the views around it.
  std::map<std::string, std::string> op_of;
  for (NodeId id : c.graph->live_nodes()) {
    const Node& n = c.graph->node(id);
    auto [it, added] = op_of.emplace(n.name, op_kind_name(n.kind));
    if (!added && it->second == op_kind_name(OpKind::Reshape)) it->second = op_kind_name(n.kind);
  }
  int step = 0;
  for (const lowering::KernelCall& k : np.calls) {
    const bool pf = k.op == npu::Opcode::kPrefetch || k.op == npu::Opcode::kWaitPrefetch;
    auto it = op_of.find(k.origin);
    c.calls.push_back(Compiled::Call{k.origin, it != op_of.end() ? it->second : npu::opcode_name(k.op),
                                     std::min(step, std::max(0, c.live.calls - 1))});
    if (!pf) ++step;
  }
  if (c.ctx->options.stream_weights) {  // NPU payloads
    auto cfg = sim::sim_config_from_target(c.ctx->target);
    if (cfg.ok()) c.plan = describe_plan(np, cfg.value());
  }
  c.ctx.reset();  // before the graph it refers to
  c.graph.reset();
  return Status::OK();
}

// One plan for the whole program, kernel call by kernel call: the time axis runs through every
// instruction's kernel calls (Quantize/Dequantize are one step). Program tensors live from the
// call that writes them to the last call that reads them; payload-internal activations as
// plan-scratch found them; a delegate's other working memory for its whole instruction.
Status Builder::plan_memory() {
  const int n = int(units_.size());
  std::vector<int> base(size_t(n) + 1, 0);
  for (int i = 0; i < n; ++i) base[size_t(i) + 1] = base[size_t(i)] + std::max(1, compiled_[size_t(i)].live.calls);
  const int steps = base[size_t(n)];
  std::vector<int> first(tensors_.size(), steps), last(tensors_.size(), -1);
  for (int i = 0; i < n; ++i) {
    const Compiled& c = compiled_[size_t(i)];
    const int lo = base[size_t(i)], hi = base[size_t(i) + 1] - 1;
    for (size_t k = 0; k < c.outputs.size(); ++k) {
      const uint32_t t = c.outputs[k];
      const bool fine = k < c.live.output_range.size() && c.live.output_range[k].second >= 0;
      first[t] = std::min(first[t], fine ? lo + c.live.output_range[k].first : lo);
      last[t] = std::max(last[t], fine ? lo + c.live.output_range[k].second : hi);
    }
    for (size_t k = 0; k < c.inputs.size(); ++k) {
      const uint32_t t = c.inputs[k];
      const bool fine = k < c.live.input_range.size() && c.live.input_range[k].second >= 0;
      first[t] = std::min(first[t], fine ? lo + c.live.input_range[k].first : lo);
      last[t] = std::max(last[t], fine ? lo + c.live.input_range[k].second : hi);
    }
  }
  for (size_t t = 0; t < tensors_.size(); ++t) {
    const Tensor& x = g_.tensor(tensors_[t]);
    if (x.is_constant())
      return error(Error::NotSupported, "constant '", x.name,
                   "' is passed between instructions; program files keep constants inside payloads");
    if (x.producer < 0) first[t] = 0;                             // graph inputs: written by the caller
    if (g_.is_graph_output(tensors_[t])) last[t] = steps - 1;     // outputs: read by the caller
    if (last[t] < first[t]) last[t] = first[t];
  }
  std::vector<LiveRange> buffers;
  for (size_t t = 0; t < tensors_.size(); ++t)
    buffers.push_back(LiveRange{uint64_t(num_elements(g_.tensor(tensors_[t]).shape)) * dtype_size(g_.tensor(tensors_[t]).dtype),
                                first[t], last[t]});
  // A delegate's other working memory (IO tables, profile and prefetch buffers) lives for its
  // whole instruction (the runtime checks it overlaps none of the partition's activations).
  std::vector<size_t> temp_buffer(size_t(n), SIZE_MAX), internal_begin(size_t(n), 0);
  for (int i = 0; i < n; ++i) {
    Compiled& c = compiled_[size_t(i)];
    internal_begin[size_t(i)] = buffers.size();
    for (const LiveRange& r : c.live.scratch)
      buffers.push_back(LiveRange{r.bytes, base[size_t(i)] + r.first, base[size_t(i)] + r.last});
    if (units_[size_t(i)].kind == UnitKind::kDelegate && c.scratch_bytes > 0) {
      temp_buffer[size_t(i)] = buffers.size();
      buffers.push_back(LiveRange{c.scratch_bytes, base[size_t(i)], base[size_t(i) + 1] - 1});
    }
  }
  const MemoryPlan plan = plan_greedy_by_size(buffers);
  offsets_.assign(plan.offsets.begin(), plan.offsets.begin() + ptrdiff_t(tensors_.size()));
  for (int i = 0; i < n; ++i) {
    Compiled& c = compiled_[size_t(i)];
    if (temp_buffer[size_t(i)] != SIZE_MAX) c.scratch_offset = plan.offsets[temp_buffer[size_t(i)]];
    if (!c.ctx) continue;
    const auto b = plan.offsets.begin() + ptrdiff_t(internal_begin[size_t(i)]);
    RETURN_IF_ERROR(finish_payload(c, std::vector<uint64_t>(b, b + ptrdiff_t(c.live.scratch.size()))));
    if (units_[size_t(i)].kind == UnitKind::kCpuKernels) {
      // CPU kernel calls: the activation region is their working memory.
      c.scratch_offset = c.activations_offset;
      runtime::PayloadView view;
      const runtime::PayloadStatus ps = runtime::parse_payload(c.payload.data(), c.payload.size(), &view);
      CHECK_OR_RETURN(ps.ok(), Error::Internal, "CPU kernels for ", c.origin, ": payload rejected: ", ps.message);
      c.scratch_bytes = view.mc.scratch_size();
    }
  }
  result_.arena_bytes = plan.size;
  result_.lower_bound_bytes = max_live_bytes(buffers);
  // Bytes live at each step (what the per-layer reports call SRAM in use).
  unit_base_ = base;
  step_live_.assign(size_t(steps) + 1, 0);
  for (const LiveRange& r : buffers) {
    if (r.first < 0 || r.last < r.first || r.first >= steps) continue;
    const uint64_t bytes = (r.bytes + 15) / 16 * 16;
    step_live_[size_t(r.first)] += bytes;
    step_live_[size_t(std::min(r.last, steps - 1)) + 1] -= bytes;
  }
  for (size_t k = 1; k < step_live_.size(); ++k) step_live_[k] += step_live_[k - 1];
  return Status::OK();
}

StatusOr<std::vector<uint8_t>> Builder::serialize() {
  flatbuffers::FlatBufferBuilder b(1 << 16);
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (size_t t = 0; t < tensors_.size(); ++t) {
    const Tensor& x = g_.tensor(tensors_[t]);
    ASSIGN_OR_RETURN(fb::DType dt, program_dtype(x));
    std::vector<int32_t> shape;
    for (int64_t d : x.shape) {
      CHECK_OR_RETURN(d >= 0 && d <= INT32_MAX, Error::NotSupported, "tensor '", x.name, "' has dimension ", d);
      shape.push_back(int32_t(d));
    }
    std::vector<uint8_t> order(shape.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = uint8_t(k);
    flatbuffers::Offset<fb::Quantization> q = 0;
    if (!x.quant.empty()) q = fb::CreateQuantizationDirect(b, &x.quant.scale, &x.quant.zero_point, x.quant.axis);
    tensors.push_back(fb::CreateTensorDirect(b, x.name.c_str(), dt, &shape, &order, q, fb::Storage::Arena, offsets_[t], 0,
                                             uint64_t(num_elements(x.shape)) * dtype_size(x.dtype)));
  }
  std::vector<flatbuffers::Offset<fb::Payload>> payloads;
  std::vector<flatbuffers::Offset<fb::Instruction>> instructions;
  std::map<std::string, uint32_t> node_index;
  struct NodeRef {
    std::string name, op;
    int instruction;
  };
  std::vector<NodeRef> node_names;  // first call naming each node, in order
  for (size_t i = 0; i < units_.size(); ++i) {
    const Compiled& c = compiled_[i];
    flatbuffers::Offset<void> op;
    fb::Operation type = fb::Operation::NONE;
    switch (units_[i].kind) {
      case UnitKind::kQuantize:
        op = fb::CreateQuantize(b, c.inputs[0], c.outputs[0]).Union();
        type = fb::Operation::Quantize;
        break;
      case UnitKind::kDequantize:
        op = fb::CreateDequantize(b, c.inputs[0], c.outputs[0]).Union();
        type = fb::Operation::Dequantize;
        break;
      case UnitKind::kDelegate:
      case UnitKind::kCpuKernels: {
        b.ForceVectorAlignment(c.payload.size(), sizeof(uint8_t), 16);
        payloads.push_back(fb::CreatePayload(b, b.CreateVector(c.payload)));
        const uint32_t index = uint32_t(payloads.size() - 1);
        if (units_[i].kind == UnitKind::kDelegate) {
          op = fb::CreateDelegateCallDirect(b, "neutron", index, &c.inputs, &c.outputs, c.scratch_offset, c.scratch_bytes,
                                            c.activations_offset)
                   .Union();
          type = fb::Operation::DelegateCall;
        } else {
          op = fb::CreateCpuKernelsDirect(b, index, &c.inputs, &c.outputs, c.scratch_offset, c.scratch_bytes).Union();
          type = fb::Operation::CpuKernels;
        }
        break;
      }
    }
    std::vector<flatbuffers::Offset<fb::KernelCallInfo>> calls;
    for (const Compiled::Call& k : c.calls) {
      auto [it, added] = node_index.emplace(k.node, uint32_t(node_names.size()));
      if (added) node_names.push_back(NodeRef{k.node, k.op, int(i)});
      const std::vector<uint32_t> nodes{it->second};
      const size_t s = size_t(unit_base_[i] + k.step);
      calls.push_back(fb::CreateKernelCallInfoDirect(b, &nodes, s < step_live_.size() ? step_live_[s] : 0));
    }
    instructions.push_back(fb::CreateInstruction(b, type, op, b.CreateString(c.origin), b.CreateVector(calls)));
  }
  std::vector<uint32_t> inputs, outputs;
  for (TensorId t : g_.inputs) {
    if (g_.tensor(t).is_constant()) continue;
    CHECK_OR_RETURN(index_[size_t(t)] >= 0, Error::NotSupported, "model input '", g_.tensor(t).name,
                    "' is not read by any instruction");
    inputs.push_back(uint32_t(index_[size_t(t)]));
  }
  for (TensorId t : g_.outputs) {
    CHECK_OR_RETURN(index_[size_t(t)] >= 0, Error::NotSupported, "model output '", g_.tensor(t).name,
                    "' is not computed by any instruction (an input or constant returned as is)");
    outputs.push_back(uint32_t(index_[size_t(t)]));
  }
  auto plan = fb::CreateMemoryPlanDirect(b, result_.arena_bytes, result_.lower_bound_bytes, "greedy-by-size");
  // The model's nodes that no call names (views, no-ops), with the instruction they belong to.
  for (size_t i = 0; i < units_.size(); ++i) {
    if (units_[i].partition < 0) continue;
    for (NodeId n : parts_[size_t(units_[i].partition)].nodes)
      if (node_index.emplace(g_.node(n).name, uint32_t(node_names.size())).second)
        node_names.push_back(NodeRef{g_.node(n).name, op_kind_name(g_.node(n).kind), int(i)});
  }
  std::vector<flatbuffers::Offset<fb::NodeInfo>> nodes;
  for (const NodeRef& k : node_names)
    nodes.push_back(fb::CreateNodeInfoDirect(b, k.name.c_str(), k.op.c_str(), k.instruction));
  // The target's timing parameters, as its file gives them (sim/sim_config_target.h reads them back).
  std::vector<flatbuffers::Offset<fb::TimingParam>> params;
  for (const auto& [name, value] : target_.sim_params) params.push_back(fb::CreateTimingParamDirect(b, name.c_str(), value));
  auto timing = fb::CreateTimingParamsDirect(b, target_.name.c_str(), target_.file.empty() ? "built-in" : target_.file.c_str(),
                                             target_.clock_mhz, target_.num_pipes, target_.num_macs,
                                             target_.flash_bandwidth_mb_s, target_.npu_reads_flash, &params);
  auto root = fb::CreateProgramDirect(b, program::kProgramVersion, options_.generator.c_str(), target_.name.c_str(),
                                      options_.model_name.c_str(), &tensors, &inputs, &outputs, &instructions, &payloads,
                                      nullptr, plan, &nodes, timing);
  b.Finish(root, fb::ProgramIdentifier());
  CHECK_OR_RETURN(b.GetSize() <= 0xffffffffu, Error::NotSupported, "program of ", b.GetSize(),
                  " bytes is above the format's 4 GiB");
  std::vector<uint8_t> file(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  uint8_t trailer[program::kTrailerBytes];
  program::make_trailer(file.data(), file.size(), trailer);
  file.insert(file.end(), trailer, trailer + program::kTrailerBytes);
  return file;
}

StatusOr<ProgramFile> Builder::build(const Partitioning* partitioning) {
  RETURN_IF_ERROR(form_units(partitioning));
  compiled_.resize(units_.size());
  // Graph inputs first, in model order, so program tensor numbering starts with them.
  for (TensorId t : g_.inputs)
    if (!g_.tensor(t).is_constant()) tensor_index(t);
  for (size_t u = 0; u < units_.size(); ++u) RETURN_IF_ERROR(compile_unit(u));
  for (TensorId t : g_.outputs) tensor_index(t);
  RETURN_IF_ERROR(plan_memory());
  ASSIGN_OR_RETURN(result_.bytes, serialize());
  for (size_t u = 0; u < units_.size(); ++u) {
    ProgramInstructionInfo info;
    static const char* kKinds[] = {"delegate", "cpu_kernels", "quantize", "dequantize"};
    info.kind = kKinds[int(units_[u].kind)];
    info.origin = compiled_[u].origin;
    info.payload_bytes = compiled_[u].payload.size();
    info.scratch_bytes = compiled_[u].scratch_bytes;
    info.partition = units_[u].kind == UnitKind::kDelegate ? parts_[size_t(units_[u].partition)].id : -1;
    info.payload = compiled_[u].payload;
    info.plan = compiled_[u].plan;
    result_.instructions.push_back(std::move(info));
  }
  return std::move(result_);
}

}  // namespace

NeutronTarget cpu_kernel_target() {
  NeutronTarget t;
  t.name = "cpu";
  t.description = "host or MCU CPU kernels";
  t.num_pipes = 1;
  t.num_macs = 1;
  t.clock_mhz = 0;
  t.sram_bytes = int64_t(1) << 40;  // no tiling
  t.max_partition_inputs = 255;
  t.max_partition_outputs = 255;
  return t;
}

StatusOr<ProgramFile> build_program_file(const Graph& g, const Partitioning* partitioning, const NeutronTarget& target,
                                         const ProgramFileOptions& options) {
  Builder b(g, target, options);
  return b.build(partitioning);
}

}  // namespace neutron::compiler
