// Multiply-accumulate counts per node, for reports ("share of MACs on the NPU") and, later, the
// timing model. As Vela's "Neural network macs": convolutions, fully connected / matmul and
// pooling count; elementwise, activation, softmax and data-movement ops count 0.
//
//   Conv            N*OH*OW * Cout * kH*kW * Cin/group    (= output elements * W[1]*W[2]*W[3])
//   GRU, LSTM       T * B * (|W| + |R|)   (every step, both directions)
//   ConvTranspose   N*H*W * Cin * kH*kW * Cout/group      (= input elements * W[1]*W[2]*W[3])
//   Gemm            M * N * K
//   MatMul          batch * M * N * K                     (= output elements * K)
//   MaxPool, AveragePool          output elements * kH*kW
//   GlobalAveragePool/MaxPool     input elements
// Layout independent (reads element counts and weight shapes only), so it works on NCHW and
// channels-last graphs alike.
#pragma once
#include <cstdint>

#include "ir/graph.h"

namespace neutron {

int64_t node_macs(const Graph& g, NodeId id);

}  // namespace neutron
