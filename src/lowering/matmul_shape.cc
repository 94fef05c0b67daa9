#include "lowering/matmul_shape.h"

#include <algorithm>

namespace neutron {

StatusOr<MatMulShape> matmul_shape(const Graph& g, NodeId id, const Shape& as, const Shape& bs, const Shape& ys) {
  CHECK_OR_RETURN(!as.empty() && !bs.empty(), Error::InvalidModel, describe(g, id),
                  ": MatMul operands must have rank >= 1");
  const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
  MatMulShape r;
  r.M = a_vec ? 1 : as[as.size() - 2];
  r.K = as.back();
  r.N = b_vec ? 1 : bs.back();
  const int64_t kb = b_vec ? bs[0] : bs[bs.size() - 2];
  const Shape a_batch(as.begin(), as.end() - (a_vec ? 1 : 2));
  const Shape b_batch(bs.begin(), bs.end() - (b_vec ? 1 : 2));
  const size_t rank = std::max(a_batch.size(), b_batch.size());
  r.a_batch.assign(rank - a_batch.size(), 1);
  r.b_batch.assign(rank - b_batch.size(), 1);
  r.a_batch.insert(r.a_batch.end(), a_batch.begin(), a_batch.end());
  r.b_batch.insert(r.b_batch.end(), b_batch.begin(), b_batch.end());
  r.out_batch.resize(rank);
  bool ok = kb == r.K;
  for (size_t i = 0; i < rank; ++i) {
    const int64_t x = r.a_batch[i], y = r.b_batch[i];
    ok = ok && (x == y || x == 1 || y == 1);
    r.out_batch[i] = x == 1 ? y : x;
  }
  Shape expected = r.out_batch;
  if (!a_vec) expected.push_back(r.M);
  if (!b_vec) expected.push_back(r.N);
  CHECK_OR_RETURN(ok && expected == ys, Error::InvalidModel, describe(g, id), ": A ", shape_str(as), " and B ",
                  shape_str(bs), " do not multiply into Y ", shape_str(ys));
  return r;
}

void MatMulShape::slice_indices(int64_t i, int64_t* a_index, int64_t* b_index) const {
  int64_t rem = i, a = 0, b = 0, a_mul = 1, b_mul = 1;
  for (size_t d = out_batch.size(); d-- > 0;) {
    const int64_t idx = rem % out_batch[d];
    rem /= out_batch[d];
    a += (a_batch[d] == 1 ? 0 : idx) * a_mul;
    b += (b_batch[d] == 1 ? 0 : idx) * b_mul;
    a_mul *= a_batch[d];
    b_mul *= b_batch[d];
  }
  *a_index = a;
  *b_index = b;
}

}  // namespace neutron
