// Building blocks shared by the op support files (rules/*.cc): tensor predicates, formatting of
// per-node details, and the rules several ops share (shared q-params, broadcast condition, fixed
// output q-params, spatial limits).
#pragma once
#include <algorithm>
#include <string>
#include <vector>

#include "partition/op_support.h"

namespace neutron::rules {

// int8 with per-tensor quantization parameters: an int8 activation.
bool is_int8_activation(const Tensor& t);
// int8 constant with quantization: per-tensor, or per-axis along `axis`.
bool is_int8_weight(const Tensor& t, int axis);
// int32 constant with quantization parameters (a bias).
bool is_int32_bias(const Tensor& t);

// "i8[1,3,32,32] q(0.0078,0)" / "'%name' f32[...]" for details.
std::string type_of(const Tensor& t);
std::string named(const Tensor& t);  // "'name' " + type_of
std::string qparams_of(const Tensor& t);  // "q(0.0078125,-128)" or "no q-params"

// "3x5" from a 2-vector; "a,b,c" otherwise.
std::string dims_str(const std::vector<int64_t>& v);
int64_t round_up(int64_t x, int64_t m);

// Attribute helpers with the IR defaults (op_attrs.h).
std::vector<int64_t> attr_pair(const Node& n, const char* name, int64_t def);  // kernel_shape, strides, dilations
std::vector<int64_t> attr_pads(const Node& n);                                  // 4 pads, default 0

// Shared rules.
// "quant.shared_qparams": input 0 and output 0 have the same scale, zero point and dtype.
Rule shared_qparams_rule();
// "broadcast.full_input": at least one input has as many elements as the output.
Rule broadcast_rule();
// "quant.fixed_output": the output has the given (scale, zero point) (Sigmoid, Softmax, Tanh).
Rule fixed_output_qparams_rule(const std::string& rule_name, double scale, int32_t zero_point);
// Limits on kernel_shape / strides / dilations attributes, each axis <= the target's limit.
Rule kernel_limit_rule(const std::string& rule_name);
Rule stride_limit_rule(const std::string& rule_name);
Rule dilation_limit_rule(const std::string& rule_name);

// An always-failing entry for an op kind that is never delegated.
OpSupport not_delegated(OpKind kind, const std::string& rule_name, const std::string& reason,
                        const std::string& upstream = "-");

// Fused activation note shared by the ops that take act_min/act_max.
extern const char* const kFusedActivationNote;

}  // namespace neutron::rules
