#include "partition/rules/common.h"

#include <cmath>
#include <cstdio>

#include "ir/printer.h"

namespace neutron::rules {

bool is_int8_activation(const Tensor& t) { return t.dtype == DType::I8 && t.is_quantized() && !t.quant.per_axis(); }

bool is_int8_weight(const Tensor& t, int axis) {
  if (t.dtype != DType::I8 || !t.is_constant() || !t.is_quantized()) return false;
  return !t.quant.per_axis() || t.quant.axis == axis;
}

bool is_int32_bias(const Tensor& t) { return t.dtype == DType::I32 && t.is_constant() && t.is_quantized(); }

std::string type_of(const Tensor& t) { return tensor_type_str(t); }
std::string named(const Tensor& t) { return "'" + t.name + "' " + type_of(t); }

std::string qparams_of(const Tensor& t) {
  if (!t.is_quantized()) return "no q-params";
  if (t.quant.per_axis()) return str_cat("per-axis q-params (axis ", t.quant.axis, ")");
  char buf[64];
  std::snprintf(buf, sizeof(buf), "q(%.6g,%d)", double(t.quant.scale[0]), int(t.quant.zero_point[0]));
  return buf;
}

std::string dims_str(const std::vector<int64_t>& v) {
  std::string r;
  for (size_t i = 0; i < v.size(); ++i) r += (i ? (v.size() == 2 ? "x" : ",") : "") + std::to_string(v[i]);
  return r;
}

int64_t round_up(int64_t x, int64_t m) { return m <= 0 ? x : (x + m - 1) / m * m; }

std::vector<int64_t> attr_pair(const Node& n, const char* name, int64_t def) {
  std::vector<int64_t> v = n.attrs.get_ints(name, {def, def});
  if (v.size() < 2) v.resize(2, def);
  return v;
}

std::vector<int64_t> attr_pads(const Node& n) {
  std::vector<int64_t> v = n.attrs.get_ints("pads", {0, 0, 0, 0});
  if (v.size() < 4) v.resize(4, 0);
  return v;
}

namespace {

bool same_qparams(const Tensor& a, const Tensor& b) {
  return a.dtype == b.dtype && a.quant == b.quant;
}

Rule axis_limit_rule(const std::string& rule_name, const char* attr, const char* what, int64_t NeutronTarget::*limit) {
  return Rule{rule_name,
              [what, limit](const NeutronTarget& t) { return str_cat(what, " must be <= ", t.*limit, " per axis"); },
              [attr, what, limit](const RuleInput& in) {
                const std::vector<int64_t> v = attr_pair(in.node(), attr, 1);
                for (int64_t x : v)
                  if (x > in.target.*limit) return Verdict::fail(str_cat(what, " ", dims_str(v)));
                return Verdict::pass();
              }};
}

}  // namespace

Rule shared_qparams_rule() {
  return Rule{"quant.shared_qparams",
              [](const NeutronTarget&) {
                return std::string("input and output must have identical quantization parameters (scale, zero point)");
              },
              [](const RuleInput& in) {
                const Tensor* x = in.input(0);
                const Tensor& y = in.output();
                if (x && same_qparams(*x, y)) return Verdict::pass();
                return Verdict::fail(str_cat("input ", x ? qparams_of(*x) : "absent", ", output ", qparams_of(y)));
              }};
}

Rule broadcast_rule() {
  return Rule{"broadcast.full_input",
              [](const NeutronTarget&) {
                return std::string("at least one input must have as many elements as the output (no two-sided broadcasting)");
              },
              [](const RuleInput& in) {
                const int64_t out = num_elements(in.output().shape);
                std::string shapes;
                for (size_t i = 0; i < in.node().inputs.size(); ++i) {
                  const Tensor* t = in.input(i);
                  if (!t) continue;
                  if (num_elements(t->shape) == out) return Verdict::pass();
                  shapes += (shapes.empty() ? "" : " and ") + shape_str(t->shape);
                }
                return Verdict::fail(str_cat("inputs ", shapes, " broadcast to ", shape_str(in.output().shape)));
              }};
}

Rule fixed_output_qparams_rule(const std::string& rule_name, double scale, int32_t zero_point) {
  char text[96];
  std::snprintf(text, sizeof(text), "scale %g (1/%g), zero point %d", scale, 1.0 / scale, int(zero_point));
  const std::string want = text;
  return Rule{rule_name,
              [want](const NeutronTarget&) { return "the output must be quantized with " + want; },
              [scale, zero_point](const RuleInput& in) {
                const Tensor& y = in.output();
                if (is_int8_activation(y) && y.quant.zero_point[0] == zero_point &&
                    std::fabs(double(y.quant.scale[0]) - scale) <= 1e-6 * scale)
                  return Verdict::pass();
                return Verdict::fail("output " + qparams_of(y));
              }};
}

Rule kernel_limit_rule(const std::string& rule_name) {
  return axis_limit_rule(rule_name, "kernel_shape", "kernel", &NeutronTarget::max_kernel_size);
}
Rule stride_limit_rule(const std::string& rule_name) {
  return axis_limit_rule(rule_name, "strides", "stride", &NeutronTarget::max_stride);
}
Rule dilation_limit_rule(const std::string& rule_name) {
  return axis_limit_rule(rule_name, "dilations", "dilation", &NeutronTarget::max_dilation);
}

OpSupport not_delegated(OpKind kind, const std::string& rule_name, const std::string& reason,
                        const std::string& upstream) {
  OpSupport s;
  s.kind = kind;
  s.upstream = upstream;
  s.neutron_op = "-";
  s.delegable = false;
  s.rules.push_back(Rule{rule_name, [reason](const NeutronTarget&) { return reason; },
                         [](const RuleInput&) { return Verdict::fail(""); }});
  return s;
}

const char* const kFusedActivationNote =
    "A fused activation (act_min/act_max from fold-qdq) is accepted: it is the same as a following "
    "Relu/Clip, which upstream delegates in the same partition.";

}  // namespace neutron::rules
