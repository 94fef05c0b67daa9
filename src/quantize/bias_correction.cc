#include "quantize/bias_correction.h"

namespace neutron {
namespace {

bool is_f32_constant(const Graph& g, TensorId t, size_t rank) {
  if (t == kNoTensor) return false;
  const Tensor& tt = g.tensor(t);
  return tt.is_constant() && tt.dtype == DType::F32 && tt.shape.size() == rank;
}

struct ConvGeometry {
  int64_t n = 0, cin = 0, h = 0, w = 0;       // input
  int64_t cout = 0, oh = 0, ow = 0;           // output
  int64_t kh = 0, kw = 0, sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0, group = 1;
};

StatusOr<ConvGeometry> conv_geometry(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  const Shape& x = g.tensor(n.inputs[0]).shape;
  const Shape& wt = g.tensor(n.inputs[1]).shape;
  const Shape& y = g.tensor(n.outputs[0]).shape;
  CHECK_OR_RETURN(x.size() == 4 && wt.size() == 4 && y.size() == 4, Error::NotSupported, describe(g, id),
                  ": bias correction needs a 2-D convolution (input ", shape_str(x), ", weights ", shape_str(wt), ")");
  ConvGeometry c;
  c.n = x[0];
  c.cin = x[1];
  c.h = x[2];
  c.w = x[3];
  c.cout = y[1];
  c.oh = y[2];
  c.ow = y[3];
  c.kh = wt[2];
  c.kw = wt[3];
  const auto st = n.attrs.get_ints("strides", {1, 1});
  const auto dl = n.attrs.get_ints("dilations", {1, 1});
  const auto pads = n.attrs.get_ints("pads", {0, 0, 0, 0});
  CHECK_OR_RETURN(st.size() == 2 && dl.size() == 2 && pads.size() == 4, Error::NotSupported, describe(g, id),
                  ": bias correction needs 2-D strides, dilations and pads");
  c.sh = st[0];
  c.sw = st[1];
  c.dh = dl[0];
  c.dw = dl[1];
  c.pt = pads[0];
  c.pl = pads[1];
  c.group = n.attrs.get_int("group", 1);
  CHECK_OR_RETURN(c.group >= 1 && c.cin % c.group == 0 && c.cout % c.group == 0 && wt[1] == c.cin / c.group &&
                      wt[0] == c.cout,
                  Error::InvalidModel, describe(g, id), ": weights ", shape_str(wt), " do not match input ",
                  shape_str(x), ", output ", shape_str(y), " and group ", c.group);
  return c;
}

}  // namespace

bool bias_correctable(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (n.inputs.size() < 2 || n.inputs[0] == kNoTensor || n.outputs.empty()) return false;
  const Tensor& x = g.tensor(n.inputs[0]);
  if (x.dtype != DType::F32 || x.is_constant()) return false;
  switch (n.kind) {
    case OpKind::Conv:
      return x.shape.size() == 4 && n.attrs.get_int("channels_last", 0) == 0 && is_f32_constant(g, n.inputs[1], 4) &&
             conv_geometry(g, id).ok();
    case OpKind::Gemm:
      return x.shape.size() == 2 && n.attrs.get_int("transA", 0) == 0 && n.attrs.get_float("alpha", 1.0) != 0 &&
             is_f32_constant(g, n.inputs[1], 2);
    case OpKind::MatMul:
      return x.shape.size() == 2 && is_f32_constant(g, n.inputs[1], 2);
    default:
      return false;
  }
}

int64_t output_channels(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  const Shape& w = g.tensor(n.inputs[1]).shape;
  if (n.kind == OpKind::Conv) return w[0];
  const bool trans_b = n.kind == OpKind::Gemm && n.attrs.get_int("transB", 0) != 0;
  return trans_b ? w[0] : w[1];
}

std::vector<double> TensorMean::mean() const {
  std::vector<double> m(sum_.size(), 0.0);
  if (samples_ == 0) return m;
  for (size_t i = 0; i < m.size(); ++i) m[i] = sum_[i] / double(samples_);
  return m;
}

StatusOr<std::vector<double>> layer_input_mean(const Graph& g, NodeId id, const std::vector<double>& x_mean) {
  CHECK_OR_RETURN(bias_correctable(g, id), Error::InvalidArgument, describe(g, id), ": not a layer bias correction applies to");
  const Node& n = g.node(id);
  const Shape& xs = g.tensor(n.inputs[0]).shape;
  CHECK_OR_RETURN(int64_t(x_mean.size()) == num_elements(xs), Error::InvalidArgument, describe(g, id), ": input mean has ",
                  x_mean.size(), " values for an input of shape ", shape_str(xs));
  if (n.kind != OpKind::Conv) {
    // [M, K]: mean over the rows.
    const int64_t rows = xs[0], k = xs[1];
    std::vector<double> m(size_t(k), 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < k; ++j) m[size_t(j)] += x_mean[size_t(r * k + j)];
    for (double& v : m) v /= double(rows);
    return m;
  }
  ASSIGN_OR_RETURN(ConvGeometry c, conv_geometry(g, id));
  // Mean over the batch first, then per (channel, tap) over the output positions. The taps of one
  // kernel row read the same input rows, so sum each input row over the valid columns of each
  // kernel column once, then over the valid rows of each kernel row.
  const int64_t hw = c.h * c.w;
  std::vector<double> img(size_t(c.cin * hw), 0.0);
  for (int64_t b = 0; b < c.n; ++b)
    for (int64_t i = 0; i < c.cin * hw; ++i) img[size_t(i)] += x_mean[size_t(b * c.cin * hw + i)];
  std::vector<double> m(size_t(c.cin * c.kh * c.kw), 0.0);
  std::vector<double> row_sum(size_t(c.h));  // per input row: sum over the columns tap j reads
  const double positions = double(c.n) * double(c.oh) * double(c.ow);
  for (int64_t ch = 0; ch < c.cin; ++ch) {
    const double* plane = img.data() + ch * hw;
    for (int64_t j = 0; j < c.kw; ++j) {
      for (int64_t r = 0; r < c.h; ++r) {
        double s = 0;
        for (int64_t ox = 0; ox < c.ow; ++ox) {
          const int64_t col = ox * c.sw + j * c.dw - c.pl;
          if (col >= 0 && col < c.w) s += plane[r * c.w + col];
        }
        row_sum[size_t(r)] = s;
      }
      for (int64_t i = 0; i < c.kh; ++i) {
        double s = 0;
        for (int64_t oy = 0; oy < c.oh; ++oy) {
          const int64_t row = oy * c.sh + i * c.dh - c.pt;
          if (row >= 0 && row < c.h) s += row_sum[size_t(row)];
        }
        m[size_t((ch * c.kh + i) * c.kw + j)] = s / positions;
      }
    }
  }
  return m;
}

StatusOr<std::vector<double>> expected_output(const Graph& g, NodeId id, const TensorData& w,
                                              const std::vector<double>& input_mean) {
  CHECK_OR_RETURN(bias_correctable(g, id), Error::InvalidArgument, describe(g, id), ": not a layer bias correction applies to");
  const Node& n = g.node(id);
  const Shape& ws = g.tensor(n.inputs[1]).shape;
  CHECK_OR_RETURN(w.dtype == DType::F32 && w.shape == ws, Error::InvalidArgument, describe(g, id), ": weights ",
                  dtype_name(w.dtype), shape_str(w.shape), " do not match the layer's ", shape_str(ws));
  const float* wd = w.data<float>();
  if (n.kind == OpKind::Conv) {
    ASSIGN_OR_RETURN(ConvGeometry c, conv_geometry(g, id));
    const int64_t cin_g = c.cin / c.group, cout_g = c.cout / c.group, taps = c.kh * c.kw;
    CHECK_OR_RETURN(int64_t(input_mean.size()) == c.cin * taps, Error::InvalidArgument, describe(g, id),
                    ": input mean has ", input_mean.size(), " values, expected ", c.cin * taps);
    std::vector<double> y(size_t(c.cout), 0.0);
    for (int64_t o = 0; o < c.cout; ++o) {
      const double* m = input_mean.data() + (o / cout_g) * cin_g * taps;  // this group's input channels
      const float* wo = wd + o * cin_g * taps;
      double s = 0;
      for (int64_t k = 0; k < cin_g * taps; ++k) s += double(wo[k]) * m[k];
      y[size_t(o)] = s;
    }
    return y;
  }
  const bool trans_b = n.kind == OpKind::Gemm && n.attrs.get_int("transB", 0) != 0;
  const int64_t k = trans_b ? ws[1] : ws[0], cols = trans_b ? ws[0] : ws[1];
  CHECK_OR_RETURN(int64_t(input_mean.size()) == k, Error::InvalidArgument, describe(g, id), ": input mean has ",
                  input_mean.size(), " values, expected ", k);
  const double alpha = n.kind == OpKind::Gemm ? n.attrs.get_float("alpha", 1.0) : 1.0;
  std::vector<double> y(size_t(cols), 0.0);
  for (int64_t j = 0; j < k; ++j)
    for (int64_t o = 0; o < cols; ++o)
      y[size_t(o)] += double(wd[trans_b ? o * k + j : j * cols + o]) * input_mean[size_t(j)];
  for (double& v : y) v *= alpha;
  return y;
}

}  // namespace neutron
