// The Neutron delegate payload as the runtime reads it (neutron-backend-facts.md §6.2-6.3),
// embedded-grade: no heap, no exceptions, every offset checked before use.
//
//   offset 0                        header bytes:
//     [0]                             n_in   Neutron inputs
//     [1]                             n_out  Neutron outputs
//     [2]                             n_input_args: the delegate's args are its n_input_args
//                                     inputs, then its outputs
//     [3, 3 + n_in)                   input flags: 1 = the NPU reads channels-last (NHWC) data; an
//                                     NCHW (contiguous) arg is transposed on the CPU
//     [3 + n_in, 3 + n_in + n_out)    output flags, likewise
//     [.., + n_in)                    input map: Neutron input i reads args[input_map[i]]
//     [.., + n_out)                   output map: Neutron output j writes
//                                     args[n_input_args + output_map[j]]
//     [3 + 2 n_in + 2 n_out]          payload version (1)
//   + align16(4 + 2 n_in + 2 n_out) microcode: header word 6 bytes (npu/microcode_format.h)
//   + align16(word 6)               weights: header word 7 bytes
//   + align16(word 7)               kernels: the rest (empty on Neutron-C)
//
// parse_payload() checks the header bytes (counts, flags, maps, version), the section bounds, and
// the microcode (validate_microcode: magic, format version, tensor table, instructions), and that
// the microcode's input/output counts (words 13/14) equal n_in/n_out, and that every tensor's zero
// point lies in its element type's range.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "npu/microcode_reader.h"

namespace neutron::runtime {

struct PayloadView {
  uint8_t num_inputs = 0;
  uint8_t num_outputs = 0;
  uint8_t num_input_args = 0;
  uint8_t version = 0;
  const uint8_t* input_flags = nullptr;  // [num_inputs]
  const uint8_t* output_flags = nullptr;  // [num_outputs]
  const uint8_t* input_map = nullptr;     // [num_inputs]
  const uint8_t* output_map = nullptr;    // [num_outputs]
  size_t header_size = 0;                 // align16(4 + 2 n_in + 2 n_out)

  const uint8_t* microcode = nullptr;
  size_t microcode_size = 0;  // word 6
  const uint8_t* weights = nullptr;
  size_t weights_size = 0;  // word 7
  const uint8_t* kernels = nullptr;
  size_t kernels_size = 0;
  npu::MicrocodeView mc;  // the validated microcode
};

struct PayloadStatus {
  Error error = Error::Ok;
  const char* message = "ok";  // static string
  bool ok() const { return error == Error::Ok; }
};

// Errors: InvalidArgument (null or misaligned buffer), InvalidProgram (bad microcode magic,
// unknown payload or microcode version), InvalidModel (anything inconsistent or out of bounds).
// The view points into `data`, which must outlive it.
PayloadStatus parse_payload(const uint8_t* data, size_t size, PayloadView* out);

// Bytes the microcode reads from (kInput) or writes to (kOutput) its `index`-th buffer: the
// furthest end of the tensor descriptors in that region.
uint64_t payload_io_bytes(const npu::MicrocodeView& mc, npu::Region region, uint32_t index);

}  // namespace neutron::runtime
