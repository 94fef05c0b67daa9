#include "runtime/program_runner.h"

#include <cmath>
#include <cstring>
#include <new>

#include "kernels/quantize.h"
#include "runtime/payload.h"
#include "kernel_calls/kernel_calls.h"

namespace neutron::runtime {

struct ProgramRunner::Step {
  InstructionKind kind = InstructionKind::kQuantize;
  // Delegate calls.
  const Backend* backend = nullptr;
  const char* backend_name = "";
  void* handle = nullptr;
  TensorArg* args = nullptr;
  uint32_t num_args = 0;
  // CPU kernel calls.
  kernel_calls::Executor* cpu = nullptr;
  const uint8_t** cpu_inputs = nullptr;
  uint8_t** cpu_outputs = nullptr;
  // Working memory of delegate calls; the planned activations of delegate and CPU kernel calls;
  // SRAM copies of prefetched weights (CPU kernel calls of a delegate's payload).
  uint8_t* activations = nullptr;
  uint8_t* sram = nullptr;
  uint8_t* scratch = nullptr;
  size_t scratch_bytes = 0;
  // Quantize / Dequantize.
  QuantizeParams q;
  float scale = 0;
  int32_t zero_point = 0;
  const void* in = nullptr;
  void* out = nullptr;
};

namespace {

constexpr size_t kAlign = 16;
constexpr size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

ProgramStatus bad(Error e, const char* message, int32_t instruction = -1, int32_t tensor = -1) {
  ProgramStatus s;
  s.error = e;
  s.message = message;
  s.instruction = instruction;
  s.tensor = tensor;
  return s;
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & (kAlign - 1)) == 0; }

// The verified program's tables (non-null after check_structure).
struct Tables {
  const fb::Program* p = nullptr;
  uint32_t num_tensors = 0;
  uint64_t arena_bytes = 0;
  bool delegates_on_cpu = false;
  bool want_host = false;  // also measure the host-only state (an extra pass over the kernel calls)
};

bool valid_dtype(fb::DType t) { return uint8_t(t) <= uint8_t(fb::DType::MAX); }

// Per-tensor quantization of `t`: one finite positive scale, zero point in the dtype's range.
bool per_tensor_quant(const fb::Tensor* t, float* scale, int32_t* zp) {
  const fb::Quantization* q = t->quant();
  if (q == nullptr || q->scale() == nullptr || q->scale()->size() != 1) return false;
  const float s = q->scale()->Get(0);
  if (!std::isfinite(s) || !(s > 0)) return false;
  int32_t z = 0;
  if (q->zero_point() != nullptr) {
    if (q->zero_point()->size() != 1) return false;
    z = q->zero_point()->Get(0);
  }
  if (t->dtype() == fb::DType::Int8 && (z < -128 || z > 127)) return false;
  if (t->dtype() == fb::DType::UInt8 && (z < 0 || z > 255)) return false;
  *scale = s;
  *zp = z;
  return true;
}

uint64_t element_count(const fb::Tensor* t) {
  uint64_t n = 1;
  if (t->shape())
    for (int32_t d : *t->shape()) n *= uint64_t(d);
  return n;
}

ProgramStatus check_tensor(const Tables& tb, uint32_t i) {
  const fb::Program* p = tb.p;
  const fb::Tensor* t = p->tensors()->Get(i);
  const int32_t ti = int32_t(i);
  if (t == nullptr) return bad(Error::InvalidProgram, "tensor entry missing", -1, ti);
  if (!valid_dtype(t->dtype())) return bad(Error::InvalidProgram, "tensor has an unknown dtype", -1, ti);
  const uint32_t rank = t->shape() ? t->shape()->size() : 0;
  if (rank > program::kMaxRank) return bad(Error::NotSupported, "tensor rank above 8", -1, ti);
  uint64_t count = 1;
  for (uint32_t k = 0; k < rank; ++k) {
    const int32_t d = t->shape()->Get(k);
    if (d < 0) return bad(Error::InvalidProgram, "tensor has a negative dimension", -1, ti);
    if (d > 0 && count > (uint64_t(1) << 40) / uint64_t(d))
      return bad(Error::InvalidProgram, "tensor element count overflows", -1, ti);
    count *= uint64_t(d);
  }
  if (count * program::dtype_size(t->dtype()) != t->bytes())
    return bad(Error::InvalidProgram, "tensor byte size differs from its shape and dtype", -1, ti);
  if (t->dim_order()) {
    if (t->dim_order()->size() != rank) return bad(Error::InvalidProgram, "tensor dim order has the wrong rank", -1, ti);
    for (uint32_t k = 0; k < rank; ++k)
      if (t->dim_order()->Get(k) != k)
        return bad(Error::NotSupported, "tensor dim order is not contiguous (this runtime keeps tensors contiguous)",
                   -1, ti);
  }
  if (const fb::Quantization* q = t->quant()) {
    const uint32_t ns = q->scale() ? q->scale()->size() : 0;
    const uint32_t nz = q->zero_point() ? q->zero_point()->size() : 0;
    if (nz != 0 && nz != ns) return bad(Error::InvalidProgram, "tensor has scales and zero points of different counts", -1, ti);
  }
  switch (t->storage()) {
    case fb::Storage::Arena:
      if (t->offset() % kAlign != 0) return bad(Error::InvalidProgram, "arena tensor offset is not 16-byte aligned", -1, ti);
      if (t->offset() > tb.arena_bytes || t->bytes() > tb.arena_bytes - t->offset())
        return bad(Error::InvalidProgram, "arena tensor lies outside the planned arena", -1, ti);
      break;
    case fb::Storage::Constant: {
      if (p->buffers() == nullptr || t->buffer() >= p->buffers()->size())
        return bad(Error::InvalidProgram, "constant tensor names a buffer that does not exist", -1, ti);
      const fb::Buffer* b = p->buffers()->Get(t->buffer());
      if (b == nullptr || b->data() == nullptr || b->data()->size() < t->bytes())
        return bad(Error::InvalidProgram, "constant tensor is larger than its buffer", -1, ti);
      if (!aligned16(b->data()->data())) return bad(Error::InvalidProgram, "constant buffer is not 16-byte aligned", -1, ti);
      break;
    }
    default: return bad(Error::InvalidProgram, "tensor has an unknown storage", -1, ti);
  }
  return ProgramStatus{};
}

// Tensor index list of an instruction: every index in range; `written` ones must be arena tensors.
ProgramStatus check_indices(const Tables& tb, const flatbuffers::Vector<uint32_t>* v, bool written, int32_t instr) {
  if (v == nullptr) return bad(Error::InvalidProgram, "instruction has no tensor list", instr);
  if (v->size() > 255) return bad(Error::NotSupported, "instruction has more than 255 inputs or outputs", instr);
  for (uint32_t t : *v) {
    if (t >= tb.num_tensors) return bad(Error::InvalidProgram, "instruction names a tensor that does not exist", instr);
    if (written && tb.p->tensors()->Get(t)->storage() != fb::Storage::Arena)
      return bad(Error::InvalidProgram, "instruction writes a tensor that is not in the arena", instr, int32_t(t));
  }
  return ProgramStatus{};
}

bool ranges_overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn) { return an && bn && a < b + bn && b < a + an; }

// An instruction's working memory (live for the whole instruction) must not overlap its inputs or
// outputs. (Inputs and outputs of a partition may share memory: the compiler plans them kernel by
// kernel, so an output can take the place of an input the partition no longer reads.)
ProgramStatus check_scratch_apart(const Tables& tb, const flatbuffers::Vector<uint32_t>* ins,
                                  const flatbuffers::Vector<uint32_t>* outs, uint64_t scratch_off, uint64_t scratch_bytes,
                                  int32_t instr) {
  for (const auto* list : {ins, outs})
    for (uint32_t t : *list) {
      const fb::Tensor* x = tb.p->tensors()->Get(t);
      if (x->storage() == fb::Storage::Arena && ranges_overlap(x->offset(), x->bytes(), scratch_off, scratch_bytes))
        return bad(Error::InvalidProgram, "an input or output overlaps the instruction's working memory", instr,
                   int32_t(t));
    }
  return ProgramStatus{};
}

ProgramStatus check_scratch(const Tables& tb, uint64_t off, uint64_t bytes, int32_t instr) {
  if (off % kAlign != 0) return bad(Error::InvalidProgram, "scratch offset is not 16-byte aligned", instr);
  if (off > tb.arena_bytes || bytes > tb.arena_bytes - off)
    return bad(Error::InvalidProgram, "scratch lies outside the planned arena", instr);
  return ProgramStatus{};
}

const fb::Payload* payload_of(const Tables& tb, uint32_t index) {
  if (tb.p->payloads() == nullptr || index >= tb.p->payloads()->size()) return nullptr;
  const fb::Payload* pl = tb.p->payloads()->Get(index);
  if (pl == nullptr || pl->data() == nullptr || !aligned16(pl->data()->data())) return nullptr;
  return pl;
}

// A payload the CPU runs as kernel calls (CpuKernels, or a delegate's payload with
// LoadOptions::delegates_on_cpu): IO maps, sizes and regions checked; `persistent` = the prepared
// state's bytes. `activation_bytes` / `sram_bytes`: the memory the caller provides for the
// payload's scratch and prefetched-weights regions.
ProgramStatus check_kernel_payload(const Tables& tb, uint32_t payload, const flatbuffers::Vector<uint32_t>* ins,
                                   const flatbuffers::Vector<uint32_t>* outs, uint64_t activation_bytes,
                                   uint64_t sram_bytes, int32_t ii, size_t* persistent, size_t* host) {
  const fb::Payload* pl = payload_of(tb, payload);
  if (pl == nullptr) return bad(Error::InvalidProgram, "kernel calls name a missing or misaligned payload", ii);
  PayloadView v;
  const PayloadStatus ps = parse_payload(pl->data()->data(), pl->data()->size(), &v);
  if (!ps.ok()) return bad(ps.error, ps.message, ii);
  if (v.num_input_args != ins->size())
    return bad(Error::InvalidProgram, "instruction's input count differs from its payload's", ii);
  for (uint32_t k = 0; k < v.num_inputs; ++k) {
    if (v.input_flags[k]) return bad(Error::NotSupported, "CPU kernel calls take contiguous tensors (flag set)", ii);
    if (v.input_map[k] >= ins->size()) return bad(Error::InvalidProgram, "payload input map out of range", ii);
    const fb::Tensor* t = tb.p->tensors()->Get(ins->Get(v.input_map[k]));
    if (payload_io_bytes(v.mc, npu::Region::kInput, k) > t->bytes())
      return bad(Error::InvalidProgram, "kernels read past the end of an input tensor", ii,
                 int32_t(ins->Get(v.input_map[k])));
  }
  for (uint32_t k = 0; k < v.num_outputs; ++k) {
    if (v.output_flags[k]) return bad(Error::NotSupported, "CPU kernel calls take contiguous tensors (flag set)", ii);
    if (v.output_map[k] >= outs->size()) return bad(Error::InvalidProgram, "payload output map out of range", ii);
    const fb::Tensor* t = tb.p->tensors()->Get(outs->Get(v.output_map[k]));
    if (payload_io_bytes(v.mc, npu::Region::kOutput, k) > t->bytes())
      return bad(Error::InvalidProgram, "kernels write past the end of an output tensor", ii,
                 int32_t(outs->Get(v.output_map[k])));
  }
  if (v.mc.sram_scratch_size() > sram_bytes)
    return bad(Error::InvalidProgram, "no room for the payload's prefetched weights", ii);
  if (v.mc.scratch_size() > activation_bytes)
    return bad(Error::InvalidProgram, "instruction's activation memory is smaller than its payload needs", ii);
  size_t mem = 0, host_mem = 0;
  kernel_calls::CallStatus ss = kernel_calls::Executor::required_memory(v.mc, v.weights, &mem);
  if (ss.ok() && tb.want_host) ss = kernel_calls::Executor::host_memory_needed(v.mc, v.weights, &host_mem);
  if (!ss.ok()) return bad(ss.error, ss.message, ii);
  *persistent = align_up(sizeof(kernel_calls::Executor)) + align_up(mem) + align_up(sizeof(void*) * (v.num_inputs + 1)) +
                align_up(sizeof(void*) * (v.num_outputs + 1));
  *host = align_up(host_mem);
  return ProgramStatus{};
}

// The persistent bytes one instruction needs (Step state excluded), after checking it.
ProgramStatus check_instruction(const Tables& tb, uint32_t i, size_t* persistent, size_t* host) {
  const int32_t ii = int32_t(i);
  const fb::Instruction* ins = tb.p->instructions()->Get(i);
  if (ins == nullptr) return bad(Error::InvalidProgram, "instruction entry missing", ii);
  *persistent = 0;
  *host = 0;
  switch (ins->op_type()) {
    case fb::Operation::Quantize:
    case fb::Operation::Dequantize: {
      const bool quantize = ins->op_type() == fb::Operation::Quantize;
      uint32_t in = 0, out = 0;
      if (quantize) {
        const fb::Quantize* q = ins->op_as_Quantize();
        if (q == nullptr) return bad(Error::InvalidProgram, "Quantize without operands", ii);
        in = q->input();
        out = q->output();
      } else {
        const fb::Dequantize* q = ins->op_as_Dequantize();
        if (q == nullptr) return bad(Error::InvalidProgram, "Dequantize without operands", ii);
        in = q->input();
        out = q->output();
      }
      if (in >= tb.num_tensors || out >= tb.num_tensors)
        return bad(Error::InvalidProgram, "instruction names a tensor that does not exist", ii);
      const fb::Tensor* ti = tb.p->tensors()->Get(in);
      const fb::Tensor* to = tb.p->tensors()->Get(out);
      if (to->storage() != fb::Storage::Arena)
        return bad(Error::InvalidProgram, "instruction writes a tensor that is not in the arena", ii, int32_t(out));
      const fb::Tensor* qt = quantize ? to : ti;
      const fb::Tensor* ft = quantize ? ti : to;
      if (ft->dtype() != fb::DType::Float32 || qt->dtype() != fb::DType::Int8)
        return bad(Error::NotSupported, quantize ? "Quantize must be float32 -> int8" : "Dequantize must be int8 -> float32",
                   ii);
      float s;
      int32_t z;
      if (!per_tensor_quant(qt, &s, &z))
        return bad(Error::InvalidProgram, "int8 tensor needs one finite positive scale and an int8 zero point", ii,
                   int32_t(quantize ? out : in));
      if (element_count(ti) != element_count(to))
        return bad(Error::InvalidProgram, "Quantize/Dequantize input and output differ in element count", ii);
      if (ti->storage() == fb::Storage::Arena &&
          ranges_overlap(ti->offset(), ti->bytes(), to->offset(), to->bytes()))
        return bad(Error::InvalidProgram, "an output overlaps an input of the same instruction", ii, int32_t(in));
      return ProgramStatus{};
    }
    case fb::Operation::DelegateCall: {
      const fb::DelegateCall* d = ins->op_as_DelegateCall();
      if (d == nullptr || d->backend() == nullptr) return bad(Error::InvalidProgram, "delegate call without a backend", ii);
      const Backend* be = find_backend(d->backend()->c_str());
      if (be == nullptr) return bad(Error::NotSupported, "delegate call names a backend this runtime does not have", ii);
      ProgramStatus s = check_indices(tb, d->inputs(), false, ii);
      if (s.ok()) s = check_indices(tb, d->outputs(), true, ii);
      if (s.ok()) s = check_scratch(tb, d->scratch_offset(), d->scratch_bytes(), ii);
      if (s.ok()) s = check_scratch_apart(tb, d->inputs(), d->outputs(), d->scratch_offset(), d->scratch_bytes(), ii);
      if (!s.ok()) return s;
      const fb::Payload* pl = payload_of(tb, d->payload());
      if (pl == nullptr) return bad(Error::InvalidProgram, "delegate call names a missing or misaligned payload", ii);
      size_t bytes = 0, activations = 0;
      Error e = be->persistent_bytes(pl->data()->data(), pl->data()->size(), &bytes);
      if (e == Error::Ok) e = be->activation_bytes(pl->data()->data(), pl->data()->size(), &activations);
      if (e != Error::Ok)
        return bad(e, e == Error::DelegateFailed ? "delegate backend not ready (for \"neutron\": call neutronInit() first)"
                                                 : be->payload_error(pl->data()->data(), pl->data()->size()),
                   ii);
      if (d->activations_offset() % kAlign != 0 || d->activations_offset() > tb.arena_bytes ||
          activations > tb.arena_bytes - d->activations_offset())
        return bad(Error::InvalidProgram, "delegate activations lie outside the planned arena or are misaligned", ii);
      // The working memory holds the kernels' IO tables: kernels writing into it would corrupt them.
      if (be->check_working_memory(pl->data()->data(), pl->data()->size(), d->activations_offset(), d->scratch_offset(),
                                   d->scratch_bytes()) != Error::Ok)
        return bad(Error::InvalidProgram, "delegate working memory overlaps one of its activation tensors", ii);
      if (tb.delegates_on_cpu)
        return check_kernel_payload(tb, d->payload(), d->inputs(), d->outputs(), activations, d->scratch_bytes(), ii,
                                    persistent, host);
      size_t host_bytes = 0;
      if (tb.want_host) e = be->host_bytes(pl->data()->data(), pl->data()->size(), &host_bytes);
      if (e != Error::Ok) return bad(e, be->payload_error(pl->data()->data(), pl->data()->size()), ii);
      *persistent = align_up(bytes) + align_up(sizeof(TensorArg) * (d->inputs()->size() + d->outputs()->size() + 1));
      *host = align_up(host_bytes);
      return ProgramStatus{};
    }
    case fb::Operation::CpuKernels: {
      const fb::CpuKernels* c = ins->op_as_CpuKernels();
      if (c == nullptr) return bad(Error::InvalidProgram, "CPU kernel call without operands", ii);
      ProgramStatus s = check_indices(tb, c->inputs(), false, ii);
      if (s.ok()) s = check_indices(tb, c->outputs(), true, ii);
      if (s.ok()) s = check_scratch(tb, c->scratch_offset(), c->scratch_bytes(), ii);
      if (!s.ok()) return s;
      return check_kernel_payload(tb, c->payload(), c->inputs(), c->outputs(), c->scratch_bytes(), 0, ii, persistent,
                                  host);
    }
    default: return bad(Error::InvalidProgram, "instruction has an unknown operation", ii);
  }
}

// Structure (FlatBuffers verifier, identifier, version, required tables), every tensor and every
// instruction. `persistent` = runtime state bytes after the planned arena.
ProgramStatus check_program(const void* data, size_t size, const LoadOptions& options, Tables* tb, size_t* persistent,
                            size_t* host) {
  tb->delegates_on_cpu = options.delegates_on_cpu;
  tb->want_host = tb->want_host || options.host_state != nullptr;
  if (data == nullptr) return bad(Error::InvalidArgument, "program data is null");
  if (!aligned16(data)) return bad(Error::InvalidArgument, "program data must be 16-byte aligned");
  if (size < 8 || !program::is_program_file(data, size))
    return bad(Error::InvalidProgram, "not a Neutron program file (identifier NPRG missing)");
  const auto* bytes = static_cast<const uint8_t*>(data);
  // The checksum trailer, before anything inside the file is parsed (program_format.h).
  if (!program::has_trailer(data, size)) {
    // Version 1 files had no trailer: say "recompile" for them rather than "corrupted".
    flatbuffers::Verifier old(bytes, size);
    if (fb::VerifyProgramBuffer(old) && fb::GetProgram(data)->version() < program::kProgramVersion)
      return bad(Error::InvalidProgram,
                 "program file version is older than this runtime reads (no checksum): recompile it with this neutron");
    return bad(Error::InvalidProgram, "program checksum trailer missing: file is truncated or corrupted");
  }
  const uint8_t* trailer = bytes + size - program::kTrailerBytes;
  const size_t content = size - program::kTrailerBytes;
  if (program::load_le32(trailer + 4) != program::kChecksumCrc32 || program::load_le32(trailer + 8) != content)
    return bad(Error::InvalidProgram, "program checksum trailer is damaged: file is truncated or corrupted");
  if (options.verify_checksum && program::crc32(bytes, size - 4) != program::load_le32(trailer + 12))
    return bad(Error::InvalidProgram, "program checksum mismatch: file is corrupted");
  flatbuffers::Verifier verifier(bytes, content);
  if (!fb::VerifyProgramBuffer(verifier))
    return bad(Error::InvalidProgram, "program file is corrupt (FlatBuffers verification failed)");
  const fb::Program* p = fb::GetProgram(data);
  if (p->version() < program::kProgramVersion)
    return bad(Error::InvalidProgram, "program file version is older than this runtime reads: recompile it with this neutron");
  if (p->version() > program::kProgramVersion)
    return bad(Error::InvalidProgram, "program file version is newer than this runtime reads: update the runtime");
  if (p->tensors() == nullptr || p->inputs() == nullptr || p->outputs() == nullptr || p->instructions() == nullptr ||
      p->plan() == nullptr)
    return bad(Error::InvalidProgram, "program file lacks tensors, inputs, outputs, instructions or memory plan");
  tb->p = p;
  tb->num_tensors = p->tensors()->size();
  tb->arena_bytes = p->plan()->arena_bytes();
  if (tb->arena_bytes > (uint64_t(1) << 40)) return bad(Error::InvalidProgram, "planned arena is implausibly large");
  for (uint32_t i = 0; i < tb->num_tensors; ++i) {
    ProgramStatus s = check_tensor(*tb, i);
    if (!s.ok()) return s;
  }
  for (const auto* list : {p->inputs(), p->outputs()})
    for (uint32_t t : *list)
      if (t >= tb->num_tensors || p->tensors()->Get(t)->storage() != fb::Storage::Arena)
        return bad(Error::InvalidProgram, "program input or output is not an arena tensor");
  size_t total = align_up(sizeof(void*) * (tb->num_tensors + 1)) + kAlign;  // tensor table
  size_t host_total = kAlign;  // base alignment slack
  for (uint32_t i = 0; i < p->instructions()->size(); ++i) {
    size_t bytes = 0, host_bytes = 0;
    ProgramStatus s = check_instruction(*tb, i, &bytes, &host_bytes);
    if (!s.ok()) return s;
    total += bytes;
    host_total += host_bytes;
  }
  *persistent = total;
  *host = host_total;
  return ProgramStatus{};
}

}  // namespace

ProgramStatus ProgramRunner::verify(const void* data, size_t size, const LoadOptions& options) {
  register_builtin_backends();
  Tables tb;
  size_t persistent = 0, host = 0;
  return check_program(data, size, options, &tb, &persistent, &host);
}

ProgramStatus ProgramRunner::memory_needed(const void* data, size_t size, MemoryFigures* figures,
                                           const LoadOptions& options) {
  return figures_impl(data, size, figures, options, true);
}

ProgramStatus ProgramRunner::figures_impl(const void* data, size_t size, MemoryFigures* figures,
                                          const LoadOptions& options, bool want_host) {
  register_builtin_backends();
  Tables tb;
  tb.want_host = want_host;
  size_t persistent = 0, host = 0;
  ProgramStatus s = check_program(data, size, options, &tb, &persistent, &host);
  if (!s.ok()) return s;
  const size_t steps = align_up(sizeof(Step) * (tb.p->instructions()->size() + 1));
  MemoryFigures f;
  f.plan_bytes = size_t(tb.arena_bytes);
  f.arena_bytes = align_up(size_t(tb.arena_bytes)) + persistent + steps + kAlign;  // + base alignment slack
  f.runtime_bytes = f.arena_bytes - f.plan_bytes;
  f.host_bytes = want_host ? host : 0;
  *figures = f;
  return s;
}

ProgramStatus ProgramRunner::arena_bytes_needed(const void* data, size_t size, size_t* bytes, const LoadOptions& options) {
  MemoryFigures f;
  ProgramStatus s = figures_impl(data, size, &f, options, false);
  if (s.ok()) *bytes = f.arena_bytes;
  return s;
}

ProgramStatus ProgramRunner::prepare_kernel_calls(Step* st, const fb::Payload* pl, const flatbuffers::Vector<uint32_t>* ins,
                                                  const flatbuffers::Vector<uint32_t>* outs, uint8_t* activations,
                                                  uint8_t* sram, MemoryAllocator* persistent, MemoryAllocator* host,
                                                  int32_t ii) {
  st->kind = InstructionKind::kCpuKernels;
  st->activations = activations;
  st->sram = sram;
  PayloadView v;
  const PayloadStatus ps = parse_payload(pl->data()->data(), pl->data()->size(), &v);
  if (!ps.ok()) return bad(ps.error, ps.message, ii);
  size_t mem = 0, host_mem = 0;
  kernel_calls::CallStatus ss = kernel_calls::Executor::required_memory(v.mc, v.weights, &mem);
  if (ss.ok() && host != nullptr) ss = kernel_calls::Executor::host_memory_needed(v.mc, v.weights, &host_mem);
  if (!ss.ok()) return bad(ss.error, ss.message, ii);
  kernel_calls::HostMemory hm;
  if (host != nullptr) {
    hm.data = static_cast<uint8_t*>(host->allocate(host_mem, kAlign));
    hm.bytes = host_mem;
    if (hm.data == nullptr) return bad(Error::OutOfMemory, "host state cannot hold the repacked CPU kernel weights", ii);
  }
  void* obj = persistent->allocate(sizeof(kernel_calls::Executor), kAlign);
  void* prep = persistent->allocate(mem ? mem : 1, kAlign);
  st->cpu_inputs = static_cast<const uint8_t**>(persistent->allocate(sizeof(void*) * (v.num_inputs + 1), kAlign));
  st->cpu_outputs = static_cast<uint8_t**>(persistent->allocate(sizeof(void*) * (v.num_outputs + 1), kAlign));
  if (obj == nullptr || prep == nullptr || st->cpu_inputs == nullptr || st->cpu_outputs == nullptr)
    return bad(Error::OutOfMemory, "arena cannot hold the prepared CPU kernels", ii);
  st->cpu = new (obj) kernel_calls::Executor();
  ss = st->cpu->prepare(v.mc, v.weights, prep, mem, kernel_calls::Limits::kCpu, hm);
  if (!ss.ok()) return bad(ss.error, ss.message, ii);
  for (uint32_t k = 0; k < v.num_inputs; ++k)
    st->cpu_inputs[k] = static_cast<const uint8_t*>(tensor_data_[ins->Get(v.input_map[k])]);
  for (uint32_t k = 0; k < v.num_outputs; ++k)
    st->cpu_outputs[k] = static_cast<uint8_t*>(tensor_data_[outs->Get(v.output_map[k])]);
  return ProgramStatus{};
}

ProgramStatus ProgramRunner::load(const void* data, size_t size, void* arena, size_t arena_size,
                                  const LoadOptions& options) {
  unload();
  const ProgramStatus s = load_steps(data, size, arena, arena_size, options);
  if (!s.ok()) unload();  // a failed load leaves nothing half-initialized to run
  return s;
}

ProgramStatus ProgramRunner::load_steps(const void* data, size_t size, void* arena, size_t arena_size,
                                        const LoadOptions& options) {
  MemoryFigures fig;  // host_bytes only when there is host state to fill
  ProgramStatus s = figures_impl(data, size, &fig, options, options.host_state != nullptr);
  if (!s.ok()) return s;
  if (arena == nullptr) return bad(Error::InvalidArgument, "arena is null");
  if (arena_size < fig.arena_bytes)
    return bad(Error::OutOfMemory, "arena is smaller than the program needs (arena_bytes_needed)");
  if (options.host_state != nullptr && (!aligned16(options.host_state) || options.host_state_bytes < fig.host_bytes))
    return bad(Error::OutOfMemory, "host state is misaligned or smaller than memory_needed().host_bytes");
  const fb::Program* p = fb::GetProgram(data);

  // Activations at their planned offsets from a 16-byte aligned base; runtime state after them.
  auto* base = static_cast<uint8_t*>(arena);
  const size_t skew = (kAlign - (reinterpret_cast<uintptr_t>(base) & (kAlign - 1))) & (kAlign - 1);
  uint8_t* act = base + skew;
  const size_t act_bytes = align_up(size_t(p->plan()->arena_bytes()));
  MemoryAllocator persistent(act + act_bytes, arena_size - skew - act_bytes);
  // Host-only state (repacked weights) apart from the arena, when the caller gives memory for it.
  MemoryAllocator host_alloc(options.host_state, options.host_state_bytes);
  MemoryAllocator* host = options.host_state != nullptr ? &host_alloc : nullptr;

  const uint32_t nt = p->tensors()->size();
  const uint32_t ni = p->instructions()->size();
  tensor_data_ = static_cast<void**>(persistent.allocate(sizeof(void*) * (nt + 1), kAlign));
  steps_ = static_cast<Step*>(persistent.allocate(sizeof(Step) * (ni + 1), kAlign));
  if (tensor_data_ == nullptr || steps_ == nullptr) return bad(Error::OutOfMemory, "arena cannot hold the runtime state");
  for (uint32_t t = 0; t < nt; ++t) {
    const fb::Tensor* x = p->tensors()->Get(t);
    tensor_data_[t] = x->storage() == fb::Storage::Arena
                          ? static_cast<void*>(act + x->offset())
                          : const_cast<uint8_t*>(p->buffers()->Get(x->buffer())->data()->data());
  }
  program_ = p;
  arena_ = act;
  num_instructions_ = 0;

  for (uint32_t i = 0; i < ni; ++i) {
    const fb::Instruction* ins = p->instructions()->Get(i);
    Step* st = new (&steps_[i]) Step();
    num_instructions_ = i + 1;  // unload() destroys what was initialized
    const int32_t ii = int32_t(i);
    switch (ins->op_type()) {
      case fb::Operation::Quantize:
      case fb::Operation::Dequantize: {
        const bool quantize = ins->op_type() == fb::Operation::Quantize;
        const uint32_t in = quantize ? ins->op_as_Quantize()->input() : ins->op_as_Dequantize()->input();
        const uint32_t out = quantize ? ins->op_as_Quantize()->output() : ins->op_as_Dequantize()->output();
        st->kind = quantize ? InstructionKind::kQuantize : InstructionKind::kDequantize;
        per_tensor_quant(p->tensors()->Get(quantize ? out : in), &st->scale, &st->zero_point);
        st->q.scales = &st->scale;
        st->q.zero_points = &st->zero_point;
        st->q.inner = int64_t(element_count(p->tensors()->Get(in)));
        st->in = tensor_data_[in];
        st->out = tensor_data_[out];
        break;
      }
      case fb::Operation::DelegateCall: {
        const fb::DelegateCall* d = ins->op_as_DelegateCall();
        const fb::Payload* pl = p->payloads()->Get(d->payload());
        st->backend_name = d->backend()->c_str();
        st->scratch = act + d->scratch_offset();
        st->scratch_bytes = size_t(d->scratch_bytes());
        st->activations = act + d->activations_offset();
        if (options.delegates_on_cpu) {
          // The partition's kernel calls on the CPU kernels; prefetched weights (if any) in the
          // instruction's working memory.
          s = prepare_kernel_calls(st, pl, d->inputs(), d->outputs(), st->activations, st->scratch, &persistent, host,
                                   ii);
          if (!s.ok()) return s;
          break;
        }
        st->kind = InstructionKind::kDelegate;
        st->backend = find_backend(d->backend()->c_str());
        st->num_args = d->inputs()->size() + d->outputs()->size();
        st->args = static_cast<TensorArg*>(persistent.allocate(sizeof(TensorArg) * (st->num_args + 1), kAlign));
        if (st->args == nullptr) return bad(Error::OutOfMemory, "arena cannot hold the delegate args", ii);
        uint32_t a = 0;
        for (const auto* list : {d->inputs(), d->outputs()})
          for (uint32_t t : *list) {
            const fb::Tensor* x = p->tensors()->Get(t);
            int32_t sizes[program::kMaxRank] = {};
            const uint32_t rank = x->shape() ? x->shape()->size() : 0;
            for (uint32_t k = 0; k < rank; ++k) sizes[k] = x->shape()->Get(k);
            new (&st->args[a++]) TensorArg(make_tensor_arg(tensor_data_[t], uint32_t(program::dtype_size(x->dtype())),
                                                           sizes, rank));
          }
        const Error e = st->backend->init(pl->data()->data(), pl->data()->size(), &persistent, host, &st->handle);
        if (e != Error::Ok) return bad(e, st->backend->last_error(st->handle), ii);
        break;
      }
      case fb::Operation::CpuKernels: {
        const fb::CpuKernels* c = ins->op_as_CpuKernels();
        uint8_t* region = act + c->scratch_offset();
        s = prepare_kernel_calls(st, p->payloads()->Get(c->payload()), c->inputs(), c->outputs(), region, nullptr,
                                 &persistent, host, ii);
        if (!s.ok()) return s;
        break;
      }
      default: return bad(Error::InvalidProgram, "instruction has an unknown operation", ii);
    }
  }
  arena_used_ = skew + act_bytes + persistent.used();
  host_used_ = host_alloc.used();
  return ProgramStatus{};
}

ProgramStatus ProgramRunner::run() {
  if (program_ == nullptr) return bad(Error::InvalidArgument, "no program loaded");
  for (size_t i = 0; i < num_instructions_; ++i) {
    Step& st = steps_[i];
    const int32_t ii = int32_t(i);
    switch (st.kind) {
      case InstructionKind::kQuantize:
        quantize_linear<int8_t>(st.q, static_cast<const float*>(st.in), static_cast<int8_t*>(st.out));
        break;
      case InstructionKind::kDequantize:
        dequantize_linear<int8_t>(st.q, static_cast<const int8_t*>(st.in), static_cast<float*>(st.out));
        break;
      case InstructionKind::kDelegate: {
        MemoryAllocator temp(st.scratch, st.scratch_bytes);
        const Error e = st.backend->execute(st.handle, &temp, st.args, st.num_args, st.activations);
        if (e != Error::Ok) return bad(e, st.backend->last_error(st.handle), ii);
        break;
      }
      case InstructionKind::kCpuKernels: {
        kernel_calls::RunBuffers b;
        b.inputs = st.cpu_inputs;
        b.outputs = st.cpu_outputs;
        b.scratch = st.activations;
        b.sram_weights = st.sram;
        const kernel_calls::CallStatus s = st.cpu->run(b, nullptr);
        if (!s.ok()) return bad(s.error, s.message, ii);
        break;
      }
    }
  }
  return ProgramStatus{};
}

void ProgramRunner::unload() {
  for (size_t i = 0; i < num_instructions_; ++i) {
    Step& st = steps_[i];
    if (st.kind == InstructionKind::kDelegate && st.backend != nullptr && st.handle != nullptr) st.backend->destroy(st.handle);
    if (st.cpu != nullptr) st.cpu->~Executor();
    st.~Step();
  }
  program_ = nullptr;
  arena_ = nullptr;
  tensor_data_ = nullptr;
  steps_ = nullptr;
  num_instructions_ = 0;
  arena_used_ = 0;
  host_used_ = 0;
}

TensorInfo ProgramRunner::info(uint32_t t) const {
  TensorInfo r;
  const fb::Tensor* x = program_->tensors()->Get(t);
  r.name = x->name() ? x->name()->c_str() : "";
  r.dtype = x->dtype();
  r.rank = x->shape() ? x->shape()->size() : 0;
  for (uint32_t k = 0; k < r.rank; ++k) r.shape[k] = x->shape()->Get(k);
  r.data = tensor_data_[t];
  r.bytes = size_t(x->bytes());
  per_tensor_quant(x, &r.scale, &r.zero_point);
  return r;
}

size_t ProgramRunner::num_inputs() const { return program_ ? program_->inputs()->size() : 0; }
size_t ProgramRunner::num_outputs() const { return program_ ? program_->outputs()->size() : 0; }
TensorInfo ProgramRunner::input(size_t i) const {
  return i < num_inputs() ? info(program_->inputs()->Get(uint32_t(i))) : TensorInfo{};
}
TensorInfo ProgramRunner::output(size_t i) const {
  return i < num_outputs() ? info(program_->outputs()->Get(uint32_t(i))) : TensorInfo{};
}
InstructionKind ProgramRunner::instruction_kind(size_t i) const { return steps_[i].kind; }
const char* ProgramRunner::instruction_origin(size_t i) const {
  const fb::Instruction* ins = program_->instructions()->Get(uint32_t(i));
  return ins->origin() ? ins->origin()->c_str() : "";
}
const char* ProgramRunner::delegate_backend(size_t i) const { return i < num_instructions_ ? steps_[i].backend_name : ""; }
void* ProgramRunner::delegate_handle(size_t i) const { return i < num_instructions_ ? steps_[i].handle : nullptr; }
const char* ProgramRunner::tensor_name(int32_t t) const {
  if (program_ == nullptr || t < 0 || uint32_t(t) >= program_->tensors()->size()) return "";
  const fb::Tensor* x = program_->tensors()->Get(uint32_t(t));
  return x->name() ? x->name()->c_str() : "";
}

}  // namespace neutron::runtime
