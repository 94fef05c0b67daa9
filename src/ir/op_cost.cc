#include "ir/op_cost.h"

namespace neutron {
namespace {

const Tensor* input_tensor(const Graph& g, const Node& n, size_t i) {
  const TensorId t = n.input(i);
  return t == kNoTensor ? nullptr : &g.tensor(t);
}

int64_t elements_of_output(const Graph& g, const Node& n) {
  return n.outputs.empty() ? 0 : num_elements(g.tensor(n.outputs[0]).shape);
}

}  // namespace

int64_t node_macs(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  switch (n.kind) {
    case OpKind::Conv: {
      const Tensor* w = input_tensor(g, n, 1);
      if (!w || w->shape.size() != 4) return 0;
      return elements_of_output(g, n) * w->shape[1] * w->shape[2] * w->shape[3];
    }
    case OpKind::ConvTranspose: {
      const Tensor* x = input_tensor(g, n, 0);
      const Tensor* w = input_tensor(g, n, 1);
      if (!x || !w || w->shape.size() != 4) return 0;
      return num_elements(x->shape) * w->shape[1] * w->shape[2] * w->shape[3];
    }
    case OpKind::GRU:
    case OpKind::LSTM: {
      // Every step: W [D, G*H, I] and R [D, G*H, H] times one input and one state vector per batch.
      const Tensor* x = input_tensor(g, n, 0);
      const Tensor* w = input_tensor(g, n, 1);
      const Tensor* r = input_tensor(g, n, 2);
      if (!x || !w || !r || x->shape.size() != 3) return 0;
      return x->shape[0] * x->shape[1] * (num_elements(w->shape) + num_elements(r->shape));
    }
    case OpKind::Gemm: {
      const Tensor* a = input_tensor(g, n, 0);
      if (!a || a->shape.size() != 2) return 0;
      const int64_t k = n.attrs.get_int("transA", 0) ? a->shape[0] : a->shape[1];
      return elements_of_output(g, n) * k;
    }
    case OpKind::MatMul: {
      const Tensor* a = input_tensor(g, n, 0);
      if (!a || a->shape.empty()) return 0;
      return elements_of_output(g, n) * a->shape.back();
    }
    case OpKind::MaxPool:
    case OpKind::AveragePool: {
      const auto k = n.attrs.get_ints("kernel_shape");
      int64_t window = 1;
      for (int64_t d : k) window *= d;
      return elements_of_output(g, n) * window;
    }
    case OpKind::GlobalAveragePool:
    case OpKind::GlobalMaxPool: {
      const Tensor* x = input_tensor(g, n, 0);
      return x ? num_elements(x->shape) : 0;
    }
    default:
      return 0;
  }
}

}  // namespace neutron
