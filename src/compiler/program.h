// The compiler's working form of one partition is the lowering's kernel program
// (lowering/kernel_program.h); this header names it in the compiler and adds its dump.
#pragma once
#include <string>

#include "lowering/kernel_program.h"

namespace neutron::compiler {

using lowering::BlobKind;
using lowering::BlobRef;
using lowering::ConstBlob;
using lowering::KernelCall;
using NpuProgram = lowering::KernelProgram;
using lowering::PayloadIo;
using lowering::ProgramTensor;
using lowering::blob_kind_name;

// Deterministic text of the program after `stage` (what `--dump-after` prints): tensors with their
// regions and offsets, blobs, and every call with its named args.
std::string print_program(const NpuProgram& p);

}  // namespace neutron::compiler
