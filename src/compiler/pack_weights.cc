// Stage "pack-weights": the blobs the lowering produced get their packed layout and a place in the
// weights section, in call order (a blob's first user first, so a prefetch reads one contiguous
// range per kernel), each 16-byte aligned. Conv and FC weights pad their channel dims to the
// target's num_macs with zeros (the MAC array's dot-product length); the args already carry the
// padded counts. Then every `*_offset` word that refers to a blob gets the blob's offset, and
// weights-region tensors (constant operands) the offset of their blob.
#include "compiler/compiler.h"
#include "lowering/kernel_program.h"

namespace neutron::compiler {

Status pack_weights(CompileContext& ctx) { return lowering::place_constants(ctx.program); }

}  // namespace neutron::compiler
