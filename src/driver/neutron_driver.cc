// The Neutron driver over the simulator. See neutron_driver.h for the contract; the only heap use
// is the context when the caller passes *hdl == NULL and a trace buffer the caller did not supply.
#include "driver/neutron_driver.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include "driver/neutron_driver_sim.h"
#include "kernel_calls/kernel_calls.h"
#include "npu/microcode_reader.h"
#include "sim/timing.h"

namespace {

using neutron::Error;
namespace npu = neutron::npu;
namespace sim = neutron::sim;
namespace kernel_calls = neutron::kernel_calls;

constexpr uint32_t kContextMagic = 0x5854436E;  // "nCTX"
constexpr size_t kDefaultTraceBytes = 64 * 1024;

struct DriverState {
  bool initialized = false;
  NeutronConfig config = {nullptr, nullptr};
  sim::SimConfig sim = sim::default_sim_config();
  // Written by every call; atomic so that models run on several host threads at once (`neutron
  // run --threads`) do not race on it (the message may then be another thread's).
  std::atomic<const char*> last_message{"ok"};
};
DriverState g;

struct ModelContext {
  uint32_t magic = kContextMagic;
  bool heap = false;
  npu::MicrocodeView mc;
  const uint8_t* weights = nullptr;
  uint32_t timeout_s = 60;
  kernel_calls::Executor interp;
  // Trace.
  uint32_t trace_level = 0;
  char* trace_buf = nullptr;
  size_t trace_size = 0;
  size_t trace_len = 0;
  bool trace_heap = false;
  bool trace_ran = false;
  // Last run.
  NeutronRunStats stats = {};
  bool ran = false;
};

constexpr size_t context_header_bytes() { return npu::align16(sizeof(ModelContext)); }

NeutronError make_error(uint32_t component, uint32_t category, uint32_t code, const char* message) {
  g.last_message = message;
  return GEN_NEUTRON_ERROR(component, category, code == 0 ? 1 : code);
}
NeutronError driver_error(uint32_t category, const char* message, uint32_t code = 1) {
  return make_error(ERROR_COMPONENT_DRIVER, category, code, message);
}
NeutronError firmware_error(uint32_t category, const char* message, uint32_t code = 1) {
  return make_error(ERROR_COMPONENT_FIRMWARE, category, code, message);
}
NeutronError ok() {
  g.last_message = "ok";
  return ENONE;
}

// code = the neutron::Error value, plus (instruction + 1) << 8 when an instruction is to blame.
uint32_t sim_code(Error e, uint32_t instruction) {
  uint32_t code = uint32_t(e) & 0xFF;
  if (instruction != 0xFFFFFFFFu) code |= ((instruction + 1 > 0x7FFF ? 0x7FFF : instruction + 1) << 8);
  return code;
}

NeutronError from_sim(const kernel_calls::CallStatus& s) {
  switch (s.error) {
    case Error::Ok: return ok();
    case Error::InvalidModel:
    case Error::InvalidProgram:
      return firmware_error(ERROR_CATEGORY_FW_UCODE, s.message, sim_code(s.error, s.instruction));
    case Error::NotSupported:
      return driver_error(ERROR_CATEGORY_DRIVER_UNSUPPORTED, s.message, sim_code(s.error, s.instruction));
    case Error::OutOfMemory:
      return driver_error(ERROR_CATEGORY_DRIVER_NO_MEMORY, s.message, sim_code(s.error, s.instruction));
    case Error::InvalidArgument:
      return firmware_error(ERROR_CATEGORY_FW_NULL_POINTER, s.message, sim_code(s.error, s.instruction));
    default:
      return firmware_error(ERROR_CATEGORY_FW_GENERIC, s.message, sim_code(s.error, s.instruction));
  }
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % npu::kAlignment == 0; }

ModelContext* context_of(NeutronModelHandle hdl) {
  if (hdl == nullptr || !aligned16(hdl)) return nullptr;
  auto* c = static_cast<ModelContext*>(hdl);
  return c->magic == kContextMagic ? c : nullptr;
}

// Validates the model buffers and the microcode; fills `mc` and the prepared-state size.
NeutronError check_model(const NeutronModelConfig* mcfg, npu::MicrocodeView* mc, size_t* prepared_bytes) {
  if (!g.initialized) return driver_error(ERROR_CATEGORY_DRIVER_GENERIC, "driver not initialized (neutronInit)");
  if (mcfg == nullptr) return driver_error(ERROR_CATEGORY_DRIVER_INVALID, "model config is null");
  if (mcfg->microcode == nullptr) return firmware_error(ERROR_CATEGORY_FW_NULL_POINTER, "microcode is null");
  if (mcfg->weights == nullptr) return firmware_error(ERROR_CATEGORY_FW_NULL_POINTER, "weights are null");
  if (!aligned16(mcfg->microcode) || !aligned16(mcfg->weights) ||
      (mcfg->kernels != nullptr && !aligned16(mcfg->kernels)))
    return driver_error(ERROR_CATEGORY_DRIVER_INVALID, "microcode, weights and kernels must be 16-byte aligned");
  const auto* bytes = static_cast<const uint8_t*>(mcfg->microcode);
  size_t mc_size = mcfg->microcodeSize;
  if (mc_size == 0) {
    // Upstream passes no sizes: trust the header (after its magic).
    uint32_t words[npu::kMicrocodeHeaderWords];
    std::memcpy(words, bytes, sizeof(words));
    if (words[npu::kWordMagic] != npu::kMicrocodeMagic)
      return firmware_error(ERROR_CATEGORY_FW_UCODE, "bad microcode magic", uint32_t(Error::InvalidProgram));
    mc_size = words[npu::kWordMicrocodeSize];
  }
  const size_t weights_size = mcfg->weightsSize ? mcfg->weightsSize : SIZE_MAX;
  const npu::ValidationResult v = npu::validate_microcode(bytes, mc_size, weights_size, mc);
  if (!v.ok()) {
    const uint32_t where = v.instruction != 0xFFFFFFFFu ? v.instruction : 0xFFFFFFFFu;
    return firmware_error(ERROR_CATEGORY_FW_UCODE, v.message, sim_code(v.error, where));
  }
  const kernel_calls::CallStatus s =
      kernel_calls::Executor::required_memory(*mc, static_cast<const uint8_t*>(mcfg->weights), prepared_bytes,
                                              kernel_calls::Limits::kNpu);
  if (!s.ok()) return from_sim(s);
  return ok();
}

// Text trace: one line per instruction (kernel level), plus job counts (job level).
struct TraceWriter {
  ModelContext* c;
  const sim::SimConfig* cfg;
};
void append_trace(ModelContext* c, const char* text, size_t n) {
  if (c->trace_buf == nullptr || c->trace_size == 0) return;
  const size_t room = c->trace_size - 1 - c->trace_len;  // keep a terminating NUL
  const size_t k = n < room ? n : room;
  std::memcpy(c->trace_buf + c->trace_len, text, k);
  c->trace_len += k;
  c->trace_buf[c->trace_len] = '\0';
}
void trace_sink(void* context, const sim::KernelTiming& k) {
  auto* w = static_cast<TraceWriter*>(context);
  ModelContext* c = w->c;
  char line[320];
  int n = 0;
  if (c->trace_level & TRACE_CONFIG_KERNEL_LEVEL) {
    n = std::snprintf(line, sizeof(line),
                      "kernel %lu %s start=%llu cycles=%llu compute=%llu memory=%llu overhead=%llu stall=%llu "
                      "macs=%llu util=%.4f bound=%s\n",
                      (unsigned long)k.instruction, npu::opcode_name(k.opcode), (unsigned long long)k.start_cycle,
                      (unsigned long long)k.cycles, (unsigned long long)k.compute_cycles,
                      (unsigned long long)k.memory_cycles, (unsigned long long)k.overhead_cycles,
                      (unsigned long long)k.stall_cycles, (unsigned long long)k.macs, k.utilization,
                      sim::bound_name(k.bound));
    if (n > 0) append_trace(c, line, size_t(n) < sizeof(line) ? size_t(n) : sizeof(line) - 1);
  }
  if (c->trace_level & TRACE_CONFIG_JOB_LEVEL) {
    n = std::snprintf(line, sizeof(line), "jobs %lu %s count=%llu cycles_per_job=%llu\n", (unsigned long)k.instruction,
                      npu::opcode_name(k.opcode), (unsigned long long)k.jobs,
                      (unsigned long long)(k.jobs ? (k.compute_cycles + k.jobs * w->cfg->job_overhead_cycles) / k.jobs
                                                  : 0));
    if (n > 0) append_trace(c, line, size_t(n) < sizeof(line) ? size_t(n) : sizeof(line) - 1);
  }
}

// Profile buffer (upstream layout, facts §6.5): 16-byte records {start, stop}, each
// {eventCode u8, opCode u8, functionCode u8, timestampCode u8, time u32}; opCode 6 (a kernel
// call) on the stop record, functionCode = the kernel's opcode, time in NPU cycles.
struct ProfileWriter {
  uint8_t* buf;
  size_t records;
};
void profile_sink(void* context, const sim::KernelTiming& k) {
  auto* p = static_cast<ProfileWriter*>(context);
  if (k.instruction >= p->records) return;
  uint8_t rec[16];
  const uint32_t start = uint32_t(k.start_cycle), stop = uint32_t(k.start_cycle + k.cycles);
  rec[0] = 1;
  rec[1] = 6;
  rec[2] = uint8_t(k.opcode);
  rec[3] = 0;
  std::memcpy(rec + 4, &start, 4);
  rec[8] = 2;
  rec[9] = 6;
  rec[10] = uint8_t(k.opcode);
  rec[11] = 0;
  std::memcpy(rec + 12, &stop, 4);
  std::memcpy(p->buf + size_t(k.instruction) * 16, rec, 16);
}

}  // namespace

namespace neutron::driver {
void set_sim_config(const sim::SimConfig& config) { g.sim = config; }
sim::SimConfig sim_config() { return g.sim; }
}  // namespace neutron::driver

extern "C" {

const char* getNeutronErrorComponent(NeutronError ne) {
  switch (GET_ERROR_COMPONENT(ne)) {
    case ERROR_COMPONENT_LIBRARY: return "library";
    case ERROR_COMPONENT_FIRMWARE: return "firmware";
    case ERROR_COMPONENT_DRIVER: return "driver";
  }
  return ne == ENONE ? "none" : "unknown";
}

const char* getNeutronErrorCategory(NeutronError ne) {
  const uint32_t cat = GET_ERROR_CATEGORY(ne);
  if (GET_ERROR_COMPONENT(ne) == ERROR_COMPONENT_FIRMWARE) {
    static const char* const kFw[] = {"generic", "ucode", "buffer overflow", "null pointer", "interrupt", "dm api"};
    return cat < 6 ? kFw[cat] : "unknown";
  }
  if (GET_ERROR_COMPONENT(ne) == ERROR_COMPONENT_DRIVER) {
    static const char* const kDrv[] = {"generic",     "unsupported",    "ucode",        "invalid arguments",
                                       "bad handle",  "no memory",      "internal fault", "unknown arch",
                                       "trace not run", "timeout"};
    return cat < 10 ? kDrv[cat] : "unknown";
  }
  return ne == ENONE ? "none" : "unknown";
}

const char* neutronGetLastErrorMessage(void) { return g.last_message; }

NeutronError neutronInit(void) {
  g.initialized = true;
  return ok();
}

int neutronIsInitialized(void) { return g.initialized ? 1 : 0; }

NeutronError neutronDeinit(void) {
  if (!g.initialized) return driver_error(ERROR_CATEGORY_DRIVER_GENERIC, "driver not initialized (neutronInit)");
  g.initialized = false;
  g.config = NeutronConfig{nullptr, nullptr};
  return ok();
}

size_t neutronGetModelContextSize(void) { return context_header_bytes(); }

NeutronError neutronGetModelContextSizeForModel(const NeutronModelConfig* mcfg, size_t* size) {
  if (size == nullptr) return driver_error(ERROR_CATEGORY_DRIVER_INVALID, "size is null");
  npu::MicrocodeView mc;
  size_t prepared = 0;
  const NeutronError e = check_model(mcfg, &mc, &prepared);
  if (e != ENONE) return e;
  *size = context_header_bytes() + prepared;
  return ok();
}

NeutronError neutronGetModelHostStateSize(const NeutronModelConfig* mcfg, size_t* size) {
  if (size == nullptr) return driver_error(ERROR_CATEGORY_DRIVER_INVALID, "size is null");
  npu::MicrocodeView mc;
  size_t prepared = 0;
  const NeutronError e = check_model(mcfg, &mc, &prepared);
  if (e != ENONE) return e;
  const kernel_calls::CallStatus s = kernel_calls::Executor::host_memory_needed(
      mc, static_cast<const uint8_t*>(mcfg->weights), size, kernel_calls::Limits::kNpu);
  if (!s.ok()) return from_sim(s);
  return ok();
}

NeutronError neutronModelPrepare(const NeutronModelConfig* mcfg, NeutronModelHandle* hdl) {
  if (hdl == nullptr) return driver_error(ERROR_CATEGORY_DRIVER_INVALID, "handle pointer is null");
  npu::MicrocodeView mc;
  size_t prepared = 0;
  const NeutronError e = check_model(mcfg, &mc, &prepared);
  if (e != ENONE) return e;
  const size_t need = context_header_bytes() + prepared;
  uint8_t* mem = static_cast<uint8_t*>(*hdl);
  bool heap = false;
  kernel_calls::HostMemory host;
  if (mcfg->hostState != nullptr) {
    if (!aligned16(mcfg->hostState)) return driver_error(ERROR_CATEGORY_DRIVER_INVALID, "host state must be 16-byte aligned");
    host.data = static_cast<uint8_t*>(mcfg->hostState);
    host.bytes = mcfg->hostStateSize;
  }
  if (mem != nullptr) {
    if (!aligned16(mem)) return driver_error(ERROR_CATEGORY_DRIVER_INVALID, "context memory must be 16-byte aligned");
    const size_t have = mcfg->contextSize ? mcfg->contextSize : context_header_bytes();
    if (have < need)
      return driver_error(ERROR_CATEGORY_DRIVER_NO_MEMORY,
                          "context memory smaller than neutronGetModelContextSizeForModel()");
  } else {
#if NEUTRON_NO_HEAP
    return driver_error(ERROR_CATEGORY_DRIVER_NO_MEMORY, "no context memory given (this build has no heap)");
#else
    // A heap context is a host's: the repacked weights go after it unless the caller gave a block.
    size_t host_bytes = 0;
    if (host.data == nullptr) {
      const kernel_calls::CallStatus hs = kernel_calls::Executor::host_memory_needed(
          mc, static_cast<const uint8_t*>(mcfg->weights), &host_bytes, kernel_calls::Limits::kNpu);
      if (!hs.ok()) return from_sim(hs);
    }
    mem = static_cast<uint8_t*>(::aligned_alloc(npu::kAlignment, npu::align16(need) + npu::align16(host_bytes + 1)));
    if (mem == nullptr) return driver_error(ERROR_CATEGORY_DRIVER_NO_MEMORY, "cannot allocate the model context");
    if (host.data == nullptr) {
      host.data = mem + npu::align16(need);
      host.bytes = host_bytes;
    }
    heap = true;
#endif
  }
  auto* c = new (mem) ModelContext();
  c->heap = heap;
  c->mc = mc;
  c->weights = static_cast<const uint8_t*>(mcfg->weights);
  c->timeout_s = mcfg->timeoutSeconds ? mcfg->timeoutSeconds : 60;
  const kernel_calls::CallStatus s =
      c->interp.prepare(mc, c->weights, mem + context_header_bytes(), prepared, kernel_calls::Limits::kNpu, host);
  if (!s.ok()) {
    c->magic = 0;
    if (heap) std::free(mem);
    return from_sim(s);
  }
  *hdl = c;
  return ok();
}

NeutronError neutronModelUnprepare(NeutronModelHandle hdl) {
  ModelContext* c = context_of(hdl);
  if (c == nullptr) return driver_error(ERROR_CATEGORY_DRIVER_BAD_HANDLE, "not a prepared model handle");
  if (c->trace_heap) std::free(c->trace_buf);
  const bool heap = c->heap;
  // The context stays a live (trivially destructible) object whose magic no longer matches, so
  // a second unprepare or a run on this handle is a bad-handle error.
  static_assert(std::is_trivially_destructible<ModelContext>::value, "contexts are dropped, not destroyed");
  *static_cast<volatile uint32_t*>(&c->magic) = 0;
  if (heap) std::free(c);
  return ok();
}

NeutronError neutronRunBlocking(NeutronModelHandle hdl, const NeutronDataConfig* dcfg) {
  if (!g.initialized) return driver_error(ERROR_CATEGORY_DRIVER_GENERIC, "driver not initialized (neutronInit)");
  ModelContext* c = context_of(hdl);
  if (c == nullptr) return driver_error(ERROR_CATEGORY_DRIVER_BAD_HANDLE, "not a prepared model handle");
  if (dcfg == nullptr) return driver_error(ERROR_CATEGORY_DRIVER_INVALID, "data config is null");
  const uint32_t n_in = c->mc.num_inputs(), n_out = c->mc.num_outputs();
  if (n_in > 0 && dcfg->inputs == nullptr) return firmware_error(ERROR_CATEGORY_FW_NULL_POINTER, "inputs array is null");
  if (dcfg->outputs == nullptr) return firmware_error(ERROR_CATEGORY_FW_NULL_POINTER, "outputs array is null");
  for (uint32_t i = 0; i < n_in; ++i)
    if (dcfg->inputs[i] == nullptr) return firmware_error(ERROR_CATEGORY_FW_NULL_POINTER, "an input buffer is null", i + 1);
  for (uint32_t i = 0; i < n_out; ++i)
    if (dcfg->outputs[i] == nullptr)
      return firmware_error(ERROR_CATEGORY_FW_NULL_POINTER, "an output buffer is null", i + 1);
  uint8_t* scratch = static_cast<uint8_t*>(dcfg->outputs[n_out] ? dcfg->outputs[n_out] : dcfg->scratch);
  uint8_t* profile = c->mc.profile_size() ? static_cast<uint8_t*>(dcfg->outputs[n_out + 1]) : nullptr;
  if (c->mc.scratch_size() > 0 && scratch == nullptr)
    return firmware_error(ERROR_CATEGORY_FW_NULL_POINTER, "scratch buffer is null");
  uint8_t* sram = c->mc.sram_scratch_size() ? static_cast<uint8_t*>(dcfg->scratchWeights) : nullptr;
  if (c->mc.sram_scratch_size() > 0 && sram == nullptr)
    return firmware_error(ERROR_CATEGORY_FW_NULL_POINTER, "scratchWeights buffer is null");
  if ((scratch && !aligned16(scratch)) || (sram && !aligned16(sram)) || (profile && !aligned16(profile)))
    return driver_error(ERROR_CATEGORY_DRIVER_INVALID, "scratch, scratchWeights and profile must be 16-byte aligned");

  kernel_calls::RunBuffers b;
  b.inputs = reinterpret_cast<const uint8_t* const*>(dcfg->inputs);
  b.outputs = reinterpret_cast<uint8_t* const*>(dcfg->outputs);
  b.scratch = scratch;
  b.sram_weights = sram;
  kernel_calls::PrefetchHooks hooks;
  hooks.copy = g.config.copy;
  hooks.wait = g.config.wait;
  const kernel_calls::CallStatus s = c->interp.run(b, &hooks);
  if (!s.ok()) return from_sim(s);

  // Timing (shapes only): trace, profile buffer and stats.
  c->trace_len = 0;
  if (c->trace_buf && c->trace_size) c->trace_buf[0] = '\0';
  TraceWriter tw{c, &g.sim};
  const sim::TimingSummary t =
      sim::estimate_timing_each(g.sim, c->mc, c->trace_level ? &trace_sink : nullptr, c->trace_level ? &tw : nullptr);
  if (c->trace_level) c->trace_ran = true;
  if (profile) {
    std::memset(profile, 0, c->mc.profile_size());
    ProfileWriter pw{profile, c->mc.profile_size() / 16};
    sim::estimate_timing_each(g.sim, c->mc, &profile_sink, &pw);
  }
  c->stats.totalCycles = t.total_cycles;
  c->stats.macs = t.macs;
  c->stats.latencyMs = t.latency_ms;
  c->stats.utilization = t.utilization;
  c->stats.kernels = t.kernels;
  c->stats.runs += 1;
  c->ran = true;
  if (t.latency_ms > double(c->timeout_s) * 1000.0)
    return driver_error(ERROR_CATEGORY_DRIVER_TIMEOUT, "simulated run longer than timeoutSeconds");
  return ok();
}

void neutronSetTrace(NeutronModelHandle hdl, NeutronTraceConfig* tcfg) {
  ModelContext* c = context_of(hdl);
  if (c == nullptr || tcfg == nullptr) {
    g.last_message = "neutronSetTrace: bad handle or null config";
    return;
  }
  if (c->trace_heap) std::free(c->trace_buf);
  c->trace_heap = false;
  c->trace_buf = nullptr;
  c->trace_size = 0;
  c->trace_len = 0;
  c->trace_ran = false;
  c->trace_level = tcfg->traceConfig & (TRACE_CONFIG_KERNEL_LEVEL | TRACE_CONFIG_JOB_LEVEL);
  if (c->trace_level == 0) return;
  if (tcfg->traceBuffer == nullptr) {
    const size_t n = tcfg->traceBufferSize ? tcfg->traceBufferSize : kDefaultTraceBytes;
#if NEUTRON_NO_HEAP
    c->trace_buf = nullptr;  // this build has no heap: pass a trace buffer
#else
    c->trace_buf = static_cast<char*>(std::malloc(n));
#endif
    if (c->trace_buf == nullptr) {
      c->trace_level = 0;
      return;
    }
    c->trace_heap = true;
    c->trace_size = n;
    tcfg->traceBuffer = c->trace_buf;
    tcfg->traceBufferSize = n;
  } else {
    c->trace_buf = tcfg->traceBuffer;
    c->trace_size = tcfg->traceBufferSize;
  }
  if (c->trace_size) c->trace_buf[0] = '\0';
}

NeutronError neutronGetTrace(NeutronModelHandle hdl, char** buffer, size_t* size) {
  ModelContext* c = context_of(hdl);
  if (c == nullptr) return driver_error(ERROR_CATEGORY_DRIVER_BAD_HANDLE, "not a prepared model handle");
  if (buffer == nullptr || size == nullptr) return driver_error(ERROR_CATEGORY_DRIVER_INVALID, "null output pointer");
  if (!c->trace_ran) return driver_error(ERROR_CATEGORY_DRIVER_TRACE_NOT_RUN, "no traced run since neutronSetTrace");
  *buffer = c->trace_buf;
  *size = c->trace_len;
  return ok();
}

NeutronError neutronGetRunStats(NeutronModelHandle hdl, NeutronRunStats* stats) {
  ModelContext* c = context_of(hdl);
  if (c == nullptr) return driver_error(ERROR_CATEGORY_DRIVER_BAD_HANDLE, "not a prepared model handle");
  if (stats == nullptr) return driver_error(ERROR_CATEGORY_DRIVER_INVALID, "stats is null");
  if (!c->ran) return driver_error(ERROR_CATEGORY_DRIVER_TRACE_NOT_RUN, "the model has not run");
  *stats = c->stats;
  return ok();
}

NeutronError neutronGetKernelRecords(NeutronModelHandle hdl, NeutronKernelRecord* records, uint32_t maxRecords,
                                     uint32_t* count) {
  ModelContext* c = context_of(hdl);
  if (c == nullptr) return driver_error(ERROR_CATEGORY_DRIVER_BAD_HANDLE, "not a prepared model handle");
  if (count == nullptr || (records == nullptr && maxRecords > 0))
    return driver_error(ERROR_CATEGORY_DRIVER_INVALID, "null output pointer");
  if (!c->ran) return driver_error(ERROR_CATEGORY_DRIVER_TRACE_NOT_RUN, "the model has not run");
  struct Sink {
    NeutronKernelRecord* r;
    uint32_t max;
    static void put(void* ctx, const sim::KernelTiming& k) {
      auto* s = static_cast<Sink*>(ctx);
      if (k.instruction >= s->max) return;
      NeutronKernelRecord& o = s->r[k.instruction];
      o.instruction = k.instruction;
      o.opcode = uint16_t(k.opcode);
      o.bound = uint8_t(k.bound);
      o.reserved = 0;
      o.startCycle = k.start_cycle;
      o.cycles = k.cycles;
      o.computeCycles = k.compute_cycles;
      o.memoryCycles = k.memory_cycles;
      o.overheadCycles = k.overhead_cycles;
      o.stallCycles = k.stall_cycles;
      o.macs = k.macs;
      o.jobs = k.jobs;
      o.utilization = k.utilization;
    }
  } sink{records, maxRecords};
  sim::estimate_timing_each(g.sim, c->mc, &Sink::put, &sink);
  *count = c->mc.num_instructions();
  return ok();
}

NeutronError neutronSuspend(void) { return ok(); }
NeutronError neutronResume(void) { return ok(); }

NeutronError neutronSetConfig(NeutronConfig* config) {
  if (config == nullptr) return driver_error(ERROR_CATEGORY_DRIVER_INVALID, "config is null");
  g.config = *config;
  return ok();
}

NeutronSdkVersion neutronGetSdkVersion(void) {
  NeutronSdkVersion v;
  v.major = 0;
  v.minor = 1;
  v.patch = 0;
  v.hashString = "neutron-sim";
  v.hashUint32 = 0;
  return v;
}

NeutronError neutronRunNonBlocking(NeutronModelHandle, const NeutronDataConfig*) {
  return driver_error(ERROR_CATEGORY_DRIVER_UNSUPPORTED, "neutronRunNonBlocking is Neutron-S only");
}
NeutronError neutronWait(NeutronModelHandle, const NeutronDataConfig*) {
  return driver_error(ERROR_CATEGORY_DRIVER_UNSUPPORTED, "neutronWait is Neutron-S only");
}
NeutronError neutronDataSetup(NeutronModelHandle, NeutronDataConfig*) {
  return driver_error(ERROR_CATEGORY_DRIVER_UNSUPPORTED, "neutronDataSetup is Neutron-S only");
}

}  // extern "C"
