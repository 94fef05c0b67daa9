/*
 * Neutron driver API over the Neutron N3 simulator (src/sim/), with the semantics of upstream's
 * NeutronDriver.h / NeutronErrors.h (ExecuTorch backends/nxp/runtime; facts §3.3, §6.4-6.5) for
 * the Neutron-C calls, plus a few marked extensions. C-compatible.
 *
 * Memory: neutronModelPrepare() with *hdl != NULL builds the model context in the caller's block
 * (no heap): the block must be 16-byte aligned and hold neutronGetModelContextSizeForModel()
 * bytes, announced in NeutronModelConfig.contextSize (0 means neutronGetModelContextSize(), enough
 * only for models whose kernels need no prepared state). The context holds the kernels' prepared
 * parameters; the kernels read the weights in place. Extension: a host-only block
 * (NeutronModelConfig.hostState, neutronGetModelHostStateSize() bytes) makes the simulator repack
 * conv and FC weights there for the host's SIMD kernels (same results, faster). With *hdl == NULL the driver
 * allocates the context from the heap.
 *
 * Run: NeutronDataConfig.outputs has num_outputs + 3 entries (payload version 1, as upstream's
 * runtime passes them): outputs[n] = scratch (header word 9 bytes; when NULL, dcfg->scratch is
 * used), outputs[n+1] = profile buffer (word 10 bytes, may be NULL), outputs[n+2] = debug buffer
 * (word 11 bytes, may be NULL). scratchWeights (word 12 bytes) is read only when the microcode
 * prefetches weights. Microcode, weights, kernels, scratch, scratchWeights and profile buffers
 * must be 16-byte aligned.
 */
#ifndef NEUTRON_SIM_DRIVER_H
#define NEUTRON_SIM_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Errors (upstream NeutronErrors.h layout) ------------------------------------------------
 * bits 0-2 component, bits 3-7 category, bits 8-30 code; ENONE = 0. Upstream's generator masks
 * the category with 0xF while its getter uses 0x1F; here both use 0x1F. */
typedef int32_t NeutronError;
#define ENONE 0

#define GEN_NEUTRON_ERROR(component, category, code) \
  ((NeutronError)((((component) & 0x7) << 0) | (((category) & 0x1F) << 3) | (((code) & 0x7FFFFF) << 8)))
#define GET_ERROR_COMPONENT(e) (((e) >> 0) & 0x00000007)
#define GET_ERROR_CATEGORY(e) (((e) >> 3) & 0x0000001F)
#define GET_ERROR_CODE(e) (((e) >> 8) & 0x007FFFFF)

typedef enum ERROR_COMPONENT_ID {
  ERROR_COMPONENT_LIBRARY = 0x1,
  ERROR_COMPONENT_FIRMWARE = 0x2,
  ERROR_COMPONENT_DRIVER = 0x3
} ERROR_COMPONENT_ID;

/* Firmware categories (component 2). */
typedef enum ERROR_CATEGORY_FIRMWARE {
  ERROR_CATEGORY_FW_GENERIC = 0x0,
  ERROR_CATEGORY_FW_UCODE = 0x1,            /* bad magic or version, inconsistent microcode */
  ERROR_CATEGORY_FW_BUFFER_OVERFLOW = 0x2,
  ERROR_CATEGORY_FW_NULL_POINTER = 0x3,
  ERROR_CATEGORY_FW_INTERRUPT = 0x4,
  ERROR_CATEGORY_FW_DM_API = 0x5
} ERROR_CATEGORY_FIRMWARE;

/* Driver categories (component 3). */
typedef enum ERROR_CATEGORY_DRIVER {
  ERROR_CATEGORY_DRIVER_GENERIC = 0x0,
  ERROR_CATEGORY_DRIVER_UNSUPPORTED = 0x1,
  ERROR_CATEGORY_DRIVER_UCODE = 0x2,
  ERROR_CATEGORY_DRIVER_INVALID = 0x3,      /* invalid arguments */
  ERROR_CATEGORY_DRIVER_BAD_HANDLE = 0x4,
  ERROR_CATEGORY_DRIVER_NO_MEMORY = 0x5,
  ERROR_CATEGORY_DRIVER_INTERNAL_FAULT = 0x6,
  ERROR_CATEGORY_DRIVER_UNKNOWN_ARCH = 0x7,
  ERROR_CATEGORY_DRIVER_TRACE_NOT_RUN = 0x8,
  ERROR_CATEGORY_DRIVER_TIMEOUT = 0x9
} ERROR_CATEGORY_DRIVER;

/* Names for messages ("driver", "ucode", ...). */
const char* getNeutronErrorComponent(NeutronError ne);
const char* getNeutronErrorCategory(NeutronError ne);
/* Extension: a short static description of the last error this driver returned ("ok" if none),
 * e.g. "conv: output height/width do not follow from the input and the geometry". */
const char* neutronGetLastErrorMessage(void);

/* ---- Types ----------------------------------------------------------------------------------- */
#define TRACE_CONFIG_KERNEL_LEVEL (1U << 0)
#define TRACE_CONFIG_JOB_LEVEL (1U << 1)

typedef void* NeutronModelHandle;
#define NEUTRON_INVALID_HANDLE NULL

typedef struct {
  const void* microcode;    /* 16-byte aligned */
  const void* weights;      /* 16-byte aligned */
  const void* kernels;      /* unused on Neutron-C (kernels are in the firmware); may be NULL */
  uint32_t timeoutSeconds;  /* simulated latency above this is a timeout; 0 = 60 */
  /* Extensions (zero when unused). */
  size_t microcodeSize;     /* bytes of the microcode buffer; 0 = trust header word 6 */
  size_t weightsSize;       /* bytes of the weights buffer; 0 = trust header word 7 */
  size_t contextSize;       /* bytes at *hdl when the caller supplies the context */
  void* hostState;          /* host-only block for repacked weights, 16-byte aligned; NULL = in place */
  size_t hostStateSize;     /* its bytes (neutronGetModelHostStateSize()) */
} NeutronModelConfig;

typedef struct {
  const void** inputs;   /* num_inputs entries */
  void** outputs;        /* num_outputs + 3 entries: outputs, scratch, profile, debug */
  void* scratch;         /* used when outputs[num_outputs] is NULL */
  void* scratchWeights;  /* SRAM copy of prefetched weights (header word 12 bytes) */
} NeutronDataConfig;

typedef struct {
  uint32_t traceConfig;    /* 0 off, TRACE_CONFIG_KERNEL_LEVEL, TRACE_CONFIG_JOB_LEVEL, or both */
  char* traceBuffer;       /* text records; NULL: the driver allocates traceBufferSize (or 64 KiB) */
  size_t traceBufferSize;
} NeutronTraceConfig;

typedef struct {
  void (*copy)(void* dst, void* src, uint32_t size, uint32_t channel);  /* flash -> SRAM */
  void (*wait)(uint32_t channel);                                        /* blocks until done */
} NeutronConfig;

typedef struct {
  uint32_t major, minor, patch;
  const char* hashString;
  uint32_t hashUint32;
} NeutronSdkVersion;

/* ---- Calls ----------------------------------------------------------------------------------- */
NeutronError neutronInit(void);
NeutronError neutronDeinit(void);
NeutronError neutronModelPrepare(const NeutronModelConfig* mcfg, NeutronModelHandle* hdl);
NeutronError neutronModelUnprepare(NeutronModelHandle hdl);
NeutronError neutronRunBlocking(NeutronModelHandle hdl, const NeutronDataConfig* dcfg);
void neutronSetTrace(NeutronModelHandle hdl, NeutronTraceConfig* tcfg);
NeutronError neutronGetTrace(NeutronModelHandle hdl, char** buffer, size_t* size);
NeutronError neutronSuspend(void);
NeutronError neutronResume(void);
NeutronError neutronSetConfig(NeutronConfig* config);
/* The context of a model whose kernels need no prepared state (the handle itself). */
size_t neutronGetModelContextSize(void);
NeutronSdkVersion neutronGetSdkVersion(void);

/* Neutron-S only upstream: always ERROR_CATEGORY_DRIVER_UNSUPPORTED here. */
NeutronError neutronRunNonBlocking(NeutronModelHandle hdl, const NeutronDataConfig* dcfg);
NeutronError neutronWait(NeutronModelHandle hdl, const NeutronDataConfig* dcfg);
NeutronError neutronDataSetup(NeutronModelHandle hdl, NeutronDataConfig* dcfg);

/* ---- Extensions -------------------------------------------------------------------------------- */
/* 1 after neutronInit(), 0 before it and after neutronDeinit(). */
int neutronIsInitialized(void);
/* The context size neutronModelPrepare() needs for this model (validates the microcode). */
NeutronError neutronGetModelContextSizeForModel(const NeutronModelConfig* mcfg, size_t* size);
/* The host-only block size for NeutronModelConfig.hostState (repacked weights; not device memory). */
NeutronError neutronGetModelHostStateSize(const NeutronModelConfig* mcfg, size_t* size);

/* One kernel of the last run, from the timing model (kernel-level trace record). */
typedef struct {
  uint32_t instruction;  /* index in the microcode */
  uint16_t opcode;       /* npu::Opcode */
  uint8_t bound;         /* 0 compute, 1 memory, 2 overhead */
  uint8_t reserved;
  uint64_t startCycle;
  uint64_t cycles;
  uint64_t computeCycles, memoryCycles, overheadCycles, stallCycles;
  uint64_t macs;
  uint64_t jobs;
  double utilization;    /* macs / (cycles * pipes * macs per pipe) */
} NeutronKernelRecord;

typedef struct {
  uint64_t totalCycles;
  uint64_t macs;
  double latencyMs;
  double utilization;
  uint32_t kernels;
  uint32_t runs;         /* neutronRunBlocking calls that succeeded on this handle */
} NeutronRunStats;

NeutronError neutronGetRunStats(NeutronModelHandle hdl, NeutronRunStats* stats);
/* Copies up to maxRecords records of the last run; *count = number of instructions. */
NeutronError neutronGetKernelRecords(NeutronModelHandle hdl, NeutronKernelRecord* records, uint32_t maxRecords,
                                     uint32_t* count);

#ifdef __cplusplus
}
#endif
#endif /* NEUTRON_SIM_DRIVER_H */
