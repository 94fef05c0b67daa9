// GRU and LSTM: one recurrent kernel call per direction (kernels/recurrent_int8.h), weights stored
// once and the state kept on the NPU between steps; a bidirectional op concatenates the two. Upstream does not delegate aten.gru/aten.lstm (no
// converter); this project's NPU kernel library has its own recurrent kernel.
#include "partition/rules/common.h"

namespace neutron {

using namespace rules;

namespace {

OpSupport recurrent_entry(OpKind kind, const char* upstream) {
  OpSupport s;
  s.kind = kind;
  s.upstream = upstream;
  s.neutron_op = "this project's recurrent kernel (the whole sequence in one call per direction; GRU/LSTM are not delegated upstream)";
  s.quant_inputs = QuantInputs::kFirst;  // W and R are weights; B and the initial states float constants
  s.rules = {
      Rule{"recurrent.weights",
           [](const NeutronTarget&) {
             return std::string("W and R must be constant int8 tensors, symmetric, per tensor or per gate row; B and "
                                "the initial states absent or constants (float or int8; initial_h int8 with Y's parameters)");
           },
           [](const RuleInput& in) {
             for (size_t i : {size_t(1), size_t(2)}) {
               const Tensor* w = in.input(i);
               if (!w || !is_int8_weight(*w, 1)) return Verdict::fail(w ? str_cat("weights ", named(*w)) : "no weights");
             }
             for (size_t i : {size_t(3), size_t(5), size_t(6)}) {
               const Tensor* c = in.input(i);
               if (c && (!c->is_constant() || (c->dtype != DType::F32 && c->dtype != DType::I8)))
                 return Verdict::fail(str_cat("input ", i, " ", named(*c)));
             }
             return Verdict::pass();
           }},
  };
  if (kind == OpKind::LSTM)
    s.rules.insert(s.rules.begin(),
                   Rule{"recurrent.peepholes",
                        [](const NeutronTarget&) {
                          return std::string("no peephole weights (input P): the int8 kernel has none, so the "
                                             "quantizer keeps such an LSTM in float, on the CPU (recurrent_peephole_f32)");
                        },
                        [](const RuleInput& in) {
                          const Tensor* p = in.input(7);
                          return p ? Verdict::fail(str_cat("peepholes ", named(*p))) : Verdict::pass();
                        },
                        /*before_quant=*/true});
  s.notes = {"Y_h is a slice of Y's last step, so Y and Y_h share quantization parameters (the hidden state's "
             "observed range); gates run in Q12/Q15 fixed point inside the kernel."};
  return s;
}

}  // namespace

OpSupport gru_support() { return recurrent_entry(OpKind::GRU, "aten.gru.input"); }
OpSupport lstm_support() { return recurrent_entry(OpKind::LSTM, "aten.lstm.input"); }

}  // namespace neutron
