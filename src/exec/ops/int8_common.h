// The NCHW adapter of the remaining int8 binders; the parameters come from lowering/int8_common.h.
#pragma once
#include "exec/ops/binders.h"
#include "kernels/layout_int8.h"
#include "lowering/int8_common.h"

namespace neutron::int8 {

constexpr size_t align64(size_t n) { return (n + 63) & ~size_t(63); }

// Runs an NHWC kernel on tensors that may be NCHW: with nchw set, input and output are
// transposed through the front of the scratch area and the kernel gets the rest.
struct LayoutAdapter {
  bool nchw = false;
  Dims4 in, out;
  size_t extra_bytes() const {
    if (!nchw) return 0;
    return align64(size_t(in.n * in.c * in.h * in.w)) + align64(size_t(out.n * out.c * out.h * out.w));
  }
  template <typename F>
  void run(const int8_t* x, int8_t* y, uint8_t* scratch, F kernel) const {
    if (!nchw) {
      kernel(x, y, scratch);
      return;
    }
    int8_t* xt = reinterpret_cast<int8_t*>(scratch);
    int8_t* yt = xt + align64(size_t(in.n * in.c * in.h * in.w));
    nchw_to_nhwc_int8(x, xt, in.n, in.c, in.h * in.w);
    kernel(xt, yt, scratch + extra_bytes());
    nhwc_to_nchw_int8(yt, y, out.n, out.c, out.h * out.w);
  }
};

}  // namespace neutron::int8
