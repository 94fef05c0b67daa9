#include "quantize/quantizer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>

#include "core/ordered_parallel.h"
#include "exec/executor.h"
#include "kernels/requantize.h"
#include "passes/passes.h"
#include "quantize/bias_correction.h"
#include "quantize/neutron_scheme.h"
#include "quantize/observers.h"

namespace neutron {
namespace {

// Union-find over tensor ids.
class Groups {
 public:
  explicit Groups(size_t n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0); }
  size_t find(size_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void unite(size_t a, size_t b) { parent_[find(a)] = find(b); }

 private:
  std::vector<size_t> parent_;
};

struct Plan {
  std::vector<char> boundary;        // per tensor: gets Q -> DQ
  std::vector<char> fused_internal;  // per tensor: conv output inside a fused conv + activation
  std::vector<char> unobserved;      // per tensor: in a group, but its range comes from the others (clamps_input)
  std::vector<OpQuantRule> rules;    // per node
  std::vector<int> group;            // per tensor: dense group index, -1 if not a boundary
  std::vector<std::vector<TensorId>> group_tensors;
  std::vector<std::optional<QuantParams>> group_fixed;
  std::vector<char> group_symmetric;  // feeds a symmetric_inputs op (zero point 0)
  std::vector<char> group_mask_fill;  // the output of a masked_fill Where
  std::vector<char> kept_float;       // per node: kept in float by the user (QuantizeOptions::keep_float)
};

bool is_weight_or_bias(const OpQuantRule& r, size_t input) {
  if (int(input) == r.bias_input) return true;
  for (auto& w : r.weights)
    if (w.first == int(input)) return true;
  for (int f : r.float_inputs)
    if (f == int(input)) return true;
  return false;
}

bool is_float_value(const Tensor& t) { return t.dtype == DType::F32; }

// True when t is only read as the mask fill of Where nodes (it may be -inf).
bool only_mask_fill(const Graph& g, const Plan& p, const std::vector<std::vector<NodeId>>& consumers, TensorId t) {
  if (consumers[size_t(t)].empty() || g.is_graph_output(t)) return false;
  for (NodeId c : consumers[size_t(t)]) {
    const int f = p.rules[size_t(c)].annotated ? p.rules[size_t(c)].mask_fill_input : -1;
    const Node& n = g.node(c);
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (n.inputs[i] == t && int(i) != f) return false;
  }
  return true;
}

Status check_finite_constants(const Graph& g, const Plan& p) {
  const auto consumers = g.consumers();
  for (size_t i = 0; i < g.num_tensors(); ++i) {
    const Tensor& t = g.tensor(TensorId(i));
    if (!t.is_constant() || t.dtype != DType::F32) continue;
    if (only_mask_fill(g, p, consumers, TensorId(i))) continue;
    const float* d = t.data->data<float>();
    for (int64_t k = 0; k < t.data->count(); ++k)
      CHECK_OR_RETURN(std::isfinite(d[k]), Error::InvalidModel, "constant tensor '", t.name, "' contains ",
                      std::isnan(d[k]) ? "NaN" : "Inf", " at element ", k, "; fix the model before quantizing");
  }
  return Status::OK();
}

// Whether the user keeps node `id` in float: `keep` names its op type or the node.
bool kept_in_float(const Graph& g, NodeId id, const std::vector<std::string>& keep) {
  const Node& n = g.node(id);
  for (const std::string& k : keep)
    if (k == n.name || k == op_kind_name(n.kind)) return true;
  return false;
}

// The parameters whose range [lo, lo + 256 s) covers each of `sets`' ranges: one of the sets when it
// covers the others (Tanh's [-1, 1) covers Sigmoid's and Softmax's [0, 1)), else the union.
QuantParams covering_params(const std::vector<QuantParams>& sets) {
  const auto lo_of = [](const QuantParams& q) { return (-128.0 - q.zero_point[0]) * double(q.scale[0]); };
  const auto hi_of = [](const QuantParams& q) { return (128.0 - q.zero_point[0]) * double(q.scale[0]); };
  double lo = INFINITY, hi = -INFINITY;
  for (const QuantParams& q : sets) {
    lo = std::min(lo, lo_of(q));
    hi = std::max(hi, hi_of(q));
  }
  for (const QuantParams& q : sets)
    if (lo_of(q) <= lo && hi_of(q) >= hi) return q;
  const ScaleZeroPoint sz = compute_scale_zero_point(float(lo), float(hi), QuantSpec::int8_activation());
  return QuantParams::per_tensor(sz.scale, sz.zero_point);
}

// `own_params` (per tensor, may be empty): inputs of sharing ops whose observed range is far from
// their group's (far_members); they keep their own parameters like fixed-parameter inputs.
StatusOr<Plan> make_plan(const Graph& g, const std::vector<std::string>& keep_float,
                         const std::vector<char>& own_params = {}) {
  for (const std::string& k : keep_float) {
    bool found = false;
    for (NodeId id : g.live_nodes()) found = found || kept_in_float(g, id, {k});
    CHECK_OR_RETURN(found, Error::InvalidArgument, "--keep-float: '", k,
                    "' names no op type (e.g. Softmax) or node of the model");
  }
  Plan p;
  p.kept_float.assign(g.num_nodes(), 0);
  const size_t nt = g.num_tensors();
  p.boundary.assign(nt, 0);
  p.fused_internal.assign(nt, 0);
  p.rules.resize(g.num_nodes());
  auto consumers = g.consumers();
  for (NodeId id : g.live_nodes()) {
    const OpKind k = g.node(id).kind;
    CHECK_OR_RETURN(k != OpKind::QuantizeLinear && k != OpKind::DequantizeLinear, Error::InvalidArgument,
                    "the model is already quantized (", describe(g, id), "); quantize the float model instead");
    p.rules[size_t(id)] = quant_rule(g, id);
    if (kept_in_float(g, id, keep_float)) {  // no int8 rule: its float operands get Q/DQ edges
      p.rules[size_t(id)] = OpQuantRule();
      p.kept_float[size_t(id)] = 1;
    }
  }
  // Conv/Gemm -> ReLU/ReLU6: one boundary after the activation.
  for (NodeId id : g.live_nodes()) {
    const Node& n = g.node(id);
    if (!p.rules[size_t(id)].annotated || !p.rules[size_t(id)].fuses_activation || n.outputs.size() != 1) continue;
    const TensorId o = n.outputs[0];
    if (g.is_graph_output(o) || consumers[size_t(o)].size() != 1) continue;
    const NodeId act = consumers[size_t(o)][0];
    if (is_fusable_activation(g, act)) p.fused_internal[size_t(o)] = 1;
  }
  auto annotated_consumer = [&](TensorId t) {
    for (NodeId c : consumers[size_t(t)]) {
      const Node& cn = g.node(c);
      if (!p.rules[size_t(c)].annotated) continue;
      for (size_t i = 0; i < cn.inputs.size(); ++i)
        if (cn.inputs[i] == t && !is_weight_or_bias(p.rules[size_t(c)], i)) return true;
    }
    return false;
  };
  for (size_t i = 0; i < nt; ++i) {
    const TensorId t = TensorId(i);
    const Tensor& tt = g.tensor(t);
    if (!is_float_value(tt) || p.fused_internal[i]) continue;
    if (consumers[i].empty() && !g.is_graph_output(t)) continue;
    const NodeId prod = tt.producer;
    const bool produced_annotated = prod >= 0 && !g.node(prod).dead && p.rules[size_t(prod)].annotated;
    if (produced_annotated || annotated_consumer(t)) p.boundary[i] = 1;
    if (tt.is_constant() && only_mask_fill(g, p, consumers, t)) p.boundary[i] = 0;
  }
  // Groups of tensors that share parameters, built in topological order so that a tensor's group
  // is known (and whether it has fixed parameters, e.g. a Sigmoid's through a Reshape) when a
  // sharing op reads it.
  Groups uf(nt);
  std::vector<std::optional<QuantParams>> fixed_of(nt);  // per union-find root
  const auto fixed_params = [&](TensorId t) -> const std::optional<QuantParams>& { return fixed_of[uf.find(size_t(t))]; };
  const auto unite = [&](const std::vector<TensorId>& members) {
    for (size_t i = 1; i < members.size(); ++i) {
      const size_t a = uf.find(size_t(members[0])), b = uf.find(size_t(members[i]));
      if (a == b) continue;
      if (!fixed_of[b]) fixed_of[b] = fixed_of[a];
      uf.unite(a, b);
    }
  };
  ASSIGN_OR_RETURN(const std::vector<NodeId> order, g.topological_order());
  for (NodeId id : order) {
    const Node& n = g.node(id);
    const OpQuantRule& r = p.rules[size_t(id)];
    if (!r.annotated) continue;
    std::vector<TensorId> outputs;
    for (TensorId o : n.outputs)
      if (o != kNoTensor && p.boundary[size_t(o)]) outputs.push_back(o);
    if (r.fixed_output) {
      for (TensorId o : outputs) fixed_of[uf.find(size_t(o))] = r.fixed_output;
      continue;
    }
    if (r.share == OpQuantRule::Share::kNone || n.inputs.empty()) continue;
    // An input with fixed parameters (Sigmoid, Softmax, Tanh, ...) does not impose its range on
    // the others (SSD's cat([boxes, sigmoid(scores)]) would lose every negative box offset), nor
    // does one far from the group (own_params): it keeps its own and fold-qdq requantizes it on its
    // branch. Only where the op's int8 path takes such an input (input_may_keep_params).
    std::vector<TensorId> plain, fixed;
    bool own = false;
    const size_t data_inputs = r.share == OpQuantRule::Share::kInput0 ? 1 : n.inputs.size();
    for (size_t i = 0; i < data_inputs; ++i) {
      const TensorId t = n.inputs[i];
      if (t == kNoTensor || !p.boundary[size_t(t)]) continue;
      // (A fixed input marked own by a ReduceSum or Pad still shares here with the same fixed set.)
      if (r.input_may_keep_params && r.share == OpQuantRule::Share::kAllInputs && fixed_params(t))
        fixed.push_back(t);
      else if (r.input_may_keep_params && !own_params.empty() && own_params[size_t(t)])
        own = true;
      else
        plain.push_back(t);
    }
    bool same_fixed = !own && !fixed.empty();
    for (TensorId t : fixed) same_fixed = same_fixed && *fixed_params(t) == *fixed_params(fixed[0]);
    if (!plain.empty() || same_fixed) {  // the output shares with the plain inputs, or one fixed set
      std::vector<TensorId> members = plain.empty() ? fixed : plain;
      members.insert(members.end(), outputs.begin(), outputs.end());
      unite(members);
    } else {
      // Every input keeps its own parameters: the output has its own too. Fixed sets only (e.g.
      // cat([tanh, sigmoid])): the set covering every one of their ranges, so that no member is
      // clamped on any input (calibrated or not); otherwise its observed range.
      unite(outputs);
      if (!own && !fixed.empty() && !outputs.empty()) {
        std::vector<QuantParams> sets;
        for (TensorId t : fixed) sets.push_back(*fixed_params(t));
        const QuantParams cover = covering_params(sets);
        std::vector<TensorId> members = outputs;  // with the inputs that have exactly that set
        for (TensorId t : fixed)
          if (*fixed_params(t) == cover) members.push_back(t);
        fixed_of[uf.find(size_t(outputs[0]))] = cover;
        unite(members);
      }
    }
  }
  for (NodeId id : g.live_nodes()) {  // outputs that are one state (GRU/LSTM Y, Y_h and initial_h)
    const Node& n = g.node(id);
    const OpQuantRule& r = p.rules[size_t(id)];
    if (!r.annotated || r.shared_outputs < 2) continue;
    std::vector<TensorId> members;
    for (size_t i = 0; i < size_t(r.shared_outputs) && i < n.outputs.size(); ++i)
      if (n.outputs[i] != kNoTensor && p.boundary[size_t(n.outputs[i])]) members.push_back(n.outputs[i]);
    const TensorId s = r.state_input >= 0 ? n.input(size_t(r.state_input)) : kNoTensor;
    if (s != kNoTensor && p.boundary[size_t(s)]) members.push_back(s);
    unite(members);
  }
  p.unobserved.assign(nt, 0);
  for (NodeId id : g.live_nodes()) {
    const Node& n = g.node(id);
    if (!p.rules[size_t(id)].annotated || !p.rules[size_t(id)].clamps_input || n.inputs.empty()) continue;
    const TensorId x = n.inputs[0];
    if (x == kNoTensor || !p.boundary[size_t(x)] || g.is_graph_output(x) || g.tensor(x).producer < 0 ||
        consumers[size_t(x)].size() != 1)
      continue;
    p.unobserved[size_t(x)] = 1;
  }
  p.group.assign(nt, -1);
  std::map<size_t, int> root_to_group;
  for (size_t i = 0; i < nt; ++i) {
    if (!p.boundary[i]) continue;
    auto [it, inserted] = root_to_group.emplace(uf.find(i), int(p.group_tensors.size()));
    if (inserted) {
      p.group_tensors.emplace_back();
      p.group_fixed.push_back(fixed_of[uf.find(i)]);
    }
    p.group[i] = it->second;
    p.group_tensors[size_t(it->second)].push_back(TensorId(i));
  }
  p.group_symmetric.assign(p.group_tensors.size(), 0);
  p.group_mask_fill.assign(p.group_tensors.size(), 0);
  for (NodeId id : g.live_nodes()) {
    const OpQuantRule& r = p.rules[size_t(id)];
    const Node& n = g.node(id);
    if (r.annotated && r.symmetric_inputs)
      for (TensorId t : n.inputs)
        if (t != kNoTensor && p.group[size_t(t)] >= 0) p.group_symmetric[size_t(p.group[size_t(t)])] = 1;
    if (r.annotated && r.mask_fill_input >= 0 && p.group[size_t(n.outputs[0])] >= 0)
      p.group_mask_fill[size_t(p.group[size_t(n.outputs[0])])] = 1;
  }
  return p;
}

// The finite [min, max] one tensor took during calibration (empty when it was not observed).
struct TensorRange {
  float min = INFINITY, max = -INFINITY;
  bool empty() const { return !(min <= max); }
  void update(const float* v, size_t n) {
    for (size_t i = 0; i < n; ++i)
      if (std::isfinite(v[i])) {
        min = std::min(min, v[i]);
        max = std::max(max, v[i]);
      }
  }
};

// An input of Concat, Max, Min or Where whose observed span is below 1/kFarSpanRatio of its
// group's (sharing would cost it 3+ bits, e.g. boxes next to a wide branch) keeps its own
// parameters, requantized on its branch.
constexpr double kFarSpanRatio = 8;

// Whether observed range `r` lies outside parameters `q` by more than `steps` steps at either end.
bool outside(const TensorRange& r, const QuantParams& q, double steps) {
  const double s = q.scale[0], lo = (-128.0 - q.zero_point[0]) * s, hi = (127.0 - q.zero_point[0]) * s;
  return !r.empty() && (lo - r.min > steps * s || r.max - hi > steps * s);
}

// The inputs (not constants) of `p`'s sharing ops that keep their own parameters once the ranges
// are known: those far from their group (see kFarSpanRatio), and the input of a sharing op whose
// output leaves the group's fixed range (a ReduceSum of Sigmoids): its output then gets its own.
std::vector<char> far_members(const Graph& g, const Plan& p, const std::vector<TensorRange>& ranges) {
  std::vector<TensorRange> group_range(p.group_tensors.size());
  for (size_t i = 0; i < ranges.size(); ++i)
    if (p.group[i] >= 0 && !ranges[i].empty()) {
      const float v[2] = {ranges[i].min, ranges[i].max};
      group_range[size_t(p.group[i])].update(v, 2);
    }
  std::vector<char> far;
  const auto mark = [&](TensorId t) {
    far.resize(g.num_tensors(), 0);
    far[size_t(t)] = 1;
  };
  for (NodeId id : g.live_nodes()) {
    const Node& n = g.node(id);
    const OpQuantRule& r = p.rules[size_t(id)];
    if (!r.annotated || r.share == OpQuantRule::Share::kNone || !r.input_may_keep_params || n.outputs.empty() ||
        n.outputs[0] == kNoTensor || p.group[size_t(n.outputs[0])] < 0)
      continue;
    const int k = p.group[size_t(n.outputs[0])];
    const size_t data_inputs = r.share == OpQuantRule::Share::kInput0 ? 1 : n.inputs.size();
    const double union_span = double(group_range[size_t(k)].max) - group_range[size_t(k)].min;
    for (size_t i = 0; i < data_inputs; ++i) {
      const TensorId t = n.inputs[i];
      if (t == kNoTensor || p.group[size_t(t)] != k || g.tensor(t).is_constant() || ranges[size_t(t)].empty())
        continue;
      if (p.group_fixed[size_t(k)]) {  // the nominal range plus one step (check_groups' allowance)
        if (outside(ranges[size_t(n.outputs[0])], *p.group_fixed[size_t(k)], 1.5)) mark(t);
        continue;
      }
      if (r.share != OpQuantRule::Share::kAllInputs) continue;  // one input: it is its output's range
      const double span = double(ranges[size_t(t)].max) - ranges[size_t(t)].min;
      if (span > 0 && span * kFarSpanRatio < union_span) mark(t);
    }
  }
  return far;
}

// The inputs of sharing ops that keep parameters of their own (fixed, or far from the group), in
// tensor order, each once.
std::vector<std::string> own_param_inputs(const Graph& g, const Plan& p) {
  std::vector<char> own(g.num_tensors(), 0);
  for (NodeId id : g.live_nodes()) {
    const Node& n = g.node(id);
    const OpQuantRule& r = p.rules[size_t(id)];
    if (!r.annotated || r.share == OpQuantRule::Share::kNone || n.outputs.empty() || n.outputs[0] == kNoTensor ||
        p.group[size_t(n.outputs[0])] < 0)
      continue;
    const size_t data_inputs = r.share == OpQuantRule::Share::kInput0 ? 1 : n.inputs.size();
    for (size_t i = 0; i < data_inputs && i < n.inputs.size(); ++i) {
      const TensorId t = n.inputs[i];
      if (t != kNoTensor && p.group[size_t(t)] >= 0 && p.group[size_t(t)] != p.group[size_t(n.outputs[0])])
        own[size_t(t)] = 1;
    }
  }
  std::vector<std::string> r;
  for (size_t i = 0; i < own.size(); ++i)
    if (own[i]) r.push_back(g.tensor(TensorId(i)).name);
  return r;
}

std::unique_ptr<Observer> make_observer(const QuantizeOptions& o) {
  switch (o.observer) {
    case ObserverKind::kMinMax:
      return std::make_unique<MinMaxObserver>();
    case ObserverKind::kPercentile: {
      PercentileObserver::Options po;
      po.percentile = o.percentile;
      return std::make_unique<PercentileObserver>(po);
    }
    case ObserverKind::kHistogram:
      break;
  }
  // torch 1.13's range defects (truncated histc bounds, history lost after a constant batch) are
  // for comparing with torch only; our quantizer uses the exact float range.
  HistogramObserver::Options ho;
  ho.flavor = HistogramObserver::Flavor::kFloatRange;
  return std::make_unique<HistogramObserver>(ho);
}

// Runs the float graph over the calibration set; returns one observer per group. The elementwise
// mean of each tensor in `mean_tensors` (ids of `g`) is accumulated into `means` on the way.
StatusOr<std::vector<std::unique_ptr<Observer>>> calibrate(const Graph& g, const Plan& p, const CalibrationSet& calib,
                                                           const QuantizeOptions& options,
                                                           const std::vector<TensorId>& mean_tensors,
                                                           std::vector<TensorMean>* means,
                                                           std::vector<TensorRange>* ranges) {
  std::vector<std::unique_ptr<Observer>> observers;
  for (size_t k = 0; k < p.group_tensors.size(); ++k) observers.push_back(make_observer(options));
  ranges->assign(g.num_tensors(), TensorRange());
  // Constants in groups (e.g. the constant operand of an Add) are observed once.
  for (size_t i = 0; i < g.num_tensors(); ++i) {
    const Tensor& t = g.tensor(TensorId(i));
    if (p.group[i] >= 0 && t.is_constant()) {
      observers[size_t(p.group[i])]->update(t.data->data<float>(), size_t(t.data->count()));
      (*ranges)[i].update(t.data->data<float>(), size_t(t.data->count()));
    }
  }
  // Spatial kernels run NHWC: wrap them in transposes; every original tensor keeps its name.
  Graph run_graph = g;
  RETURN_IF_ERROR(wrap_spatial_ops_nhwc(run_graph));
  // One executor per thread (run_samples_ordered: slot t uses executors[t]).
  const size_t T = size_t(std::max(1, options.threads));
  std::vector<std::unique_ptr<Executor>> executors;
  for (size_t t = 0; t < T; ++t) {
    auto ex = Executor::create(run_graph);
    if (!ex.ok()) return ex.status().with_context("calibration");
    executors.push_back(std::move(ex).value());
  }
  std::vector<int> group_of(run_graph.num_tensors(), -1);
  std::vector<TensorId> original(run_graph.num_tensors(), kNoTensor);  // run_graph id -> id of g
  for (size_t i = 0; i < g.num_tensors(); ++i) {
    if (p.group[i] < 0 || g.tensor(TensorId(i)).is_constant() || p.unobserved[i]) continue;
    auto id = run_graph.find_tensor(g.tensor(TensorId(i)).name);
    if (id) {
      group_of[size_t(*id)] = p.group[i];
      original[size_t(*id)] = TensorId(i);
    }
  }
  std::vector<int> mean_of(run_graph.num_tensors(), -1);
  means->clear();
  for (TensorId t : mean_tensors) {
    auto id = run_graph.find_tensor(g.tensor(t).name);
    CHECK_OR_RETURN(id.has_value(), Error::Internal, "calibration: tensor '", g.tensor(t).name, "' is lost");
    mean_of[size_t(*id)] = int(means->size());
    means->emplace_back(num_elements(g.tensor(t).shape));
  }
  std::vector<int64_t> nonfinite_before(observers.size(), 0);
  // The observed tensors of one sample, copied in the order the executor produced them: the
  // executor runs in parallel, the observers and means are fed afterwards in sample order, exactly
  // as one thread running the samples one after another would feed them.
  struct Observed {
    TensorId tensor;
    std::vector<float> values;
  };
  std::vector<std::vector<Observed>> seen(T);
  std::vector<Status> status(T);
  std::vector<std::vector<TensorData>> inputs(T), outs(T);
  RETURN_IF_ERROR(run_samples_ordered(
      calib.size(), T,
      [&](size_t t, int64_t s) {
        inputs[t] = calib.sample(s);
        seen[t].clear();
        status[t] = executors[t]->run(inputs[t], &outs[t], [&](NodeId node, const RunContext& ctx) {
          for (TensorId o : run_graph.node(node).outputs) {
            if (o == kNoTensor || (mean_of[size_t(o)] < 0 && group_of[size_t(o)] < 0)) continue;
            const float* v = ctx.in<float>(o);
            seen[t].push_back({o, std::vector<float>(v, v + num_elements(run_graph.tensor(o).shape))});
          }
        });
      },
      [&](size_t t, int64_t s) -> Status {
        for (size_t k = 0; k < inputs[t].size(); ++k) {
          int grp = group_of[size_t(run_graph.inputs[k])];
          if (grp >= 0) {
            observers[size_t(grp)]->update(inputs[t][k].data<float>(), size_t(inputs[t][k].count()));
            (*ranges)[size_t(original[size_t(run_graph.inputs[k])])].update(inputs[t][k].data<float>(),
                                                                             size_t(inputs[t][k].count()));
          }
          int m = mean_of[size_t(run_graph.inputs[k])];
          if (m >= 0) (*means)[size_t(m)].add(inputs[t][k].data<float>());
        }
        if (!status[t].ok()) return status[t].with_context("calibration sample " + std::to_string(s));
        std::string bad_tensor;
        for (const Observed& ob : seen[t]) {
          const TensorId o = ob.tensor;
          if (mean_of[size_t(o)] >= 0) (*means)[size_t(mean_of[size_t(o)])].add(ob.values.data());
          if (group_of[size_t(o)] < 0) continue;
          Observer& obs = *observers[size_t(group_of[size_t(o)])];
          obs.update(ob.values.data(), ob.values.size());
          (*ranges)[size_t(original[size_t(o)])].update(ob.values.data(), ob.values.size());
          // A masked_fill output holds -inf by design; its observer skips non-finite values.
          if (obs.nonfinite_count() != nonfinite_before[size_t(group_of[size_t(o)])] && bad_tensor.empty() &&
              !p.group_mask_fill[size_t(group_of[size_t(o)])])
            bad_tensor = run_graph.tensor(o).name;
        }
        CHECK_OR_RETURN(bad_tensor.empty(), Error::InvalidArgument, "calibration ", calib.origin(s, 0), ": tensor '",
                        bad_tensor, "' contains NaN or Inf; the model or this sample produces non-finite values");
        report_progress(options.progress, "calibrating", s + 1, calib.size());
        return Status::OK();
      }));
  return observers;
}

// float -> integer constant with the given per-tensor or per-axis parameters.
TensorData quantize_constant(const TensorData& f, const QuantParams& q, DType dtype, int64_t qmin, int64_t qmax) {
  TensorData out(dtype, f.shape);
  const float* src = f.data<float>();
  int64_t inner = 1;
  if (q.per_axis())
    for (size_t d = size_t(q.axis) + 1; d < f.shape.size(); ++d) inner *= f.shape[d];
  for (int64_t i = 0; i < f.count(); ++i) {
    const size_t c = q.per_axis() ? size_t((i / inner) % f.shape[size_t(q.axis)]) : 0;
    double v = std::nearbyint(double(src[i]) / double(q.scale[c])) + q.zero_point[c];
    v = std::min(double(qmax), std::max(double(qmin), v));
    if (dtype == DType::I8) out.data<int8_t>()[i] = int8_t(v);
    if (dtype == DType::I32) out.data<int32_t>()[i] = int32_t(v);
  }
  return out;
}

// Symmetric int8 weight parameters in [-127, 127]: per channel along `axis`, or per tensor (-1).
StatusOr<QuantParams> weight_params(const Tensor& w, int axis) {
  if (axis < 0) {
    MinMaxObserver obs;
    obs.update(w.data->data<float>(), size_t(w.data->count()));
    return obs.qparams(QuantSpec::int8_weight());
  }
  PerChannelMinMaxObserver obs(axis);
  RETURN_IF_ERROR(obs.update(*w.data));
  return obs.qparams(QuantSpec::int8_weight());
}

class Rewriter {
 public:
  Rewriter(Graph& g) : g_(g) {}

  // t -> Q -> DQ; every reader of t reads the DQ output. A graph output keeps its name.
  void insert_qdq(TensorId t, const QuantParams& q) {
    Tensor& orig = g_.tensor(t);
    const std::string base = orig.name;
    if (orig.is_constant()) {
      TensorData qd = quantize_constant(*orig.data, q, DType::I8, -128, 127);
      TensorId qt = g_.add_constant(g_.unique_tensor_name(base + "_quantized"), std::move(qd), q);
      replace_with_dq(t, qt, base);
      return;
    }
    Tensor qt;
    qt.name = g_.unique_tensor_name(base + "_quantized");
    qt.dtype = DType::I8;
    qt.shape = orig.shape;
    qt.quant = q;
    TensorId qid = g_.add_tensor(qt);
    Node qn;
    qn.kind = OpKind::QuantizeLinear;
    qn.name = base + "_QuantizeLinear";
    qn.inputs = {t};
    qn.outputs = {qid};
    TensorId dq = replace_with_dq(t, qid, base);
    g_.add_node(std::move(qn));
    (void)dq;
  }

  // Replaces uses of float `t` by DequantizeLinear(`q`). Returns the DQ output.
  TensorId replace_with_dq(TensorId t, TensorId q, const std::string& base) {
    Tensor dt;
    dt.name = g_.unique_tensor_name(base + "_dequantized");
    dt.dtype = DType::F32;
    dt.shape = g_.tensor(t).shape;
    TensorId dq = g_.add_tensor(dt);
    const bool was_output = g_.is_graph_output(t);
    g_.replace_uses(t, dq);
    Node dn;
    dn.kind = OpKind::DequantizeLinear;
    dn.name = base + "_DequantizeLinear";
    dn.inputs = {q};
    dn.outputs = {dq};
    g_.add_node(std::move(dn));
    if (was_output) std::swap(g_.tensor(t).name, g_.tensor(dq).name);  // the model keeps its output names
    return dq;
  }

 private:
  Graph& g_;
};

// A layer whose bias is corrected, with what the correction needs.
struct BiasLayer {
  NodeId node = -1;
  int64_t channels = 0;                  // output channels
  TensorData wq;                         // dequantized weights, as the QDQ graph computes them
  std::vector<double> bias;              // float bias per output channel (zeros without one)
  double bias_scale = 1;                 // the layer adds bias_scale * bias (Gemm: beta)
  std::vector<double> float_input_mean;  // E[x] in the float model (layer_input_mean())
  std::vector<double> float_mean;        // W E[x]: the float model's mean output without bias
};

// The Conv/Gemm/MatMul nodes whose bias the rewrite quantizes (or can create): float input with an
// activation group, constant f32 weights, and a bias that is absent or a constant vector.
std::vector<NodeId> correctable_layers(const Graph& g, const Plan& p) {
  std::vector<NodeId> r;
  for (NodeId id : g.live_nodes()) {
    const OpQuantRule& rule = p.rules[size_t(id)];
    if (!rule.annotated || !bias_correctable(g, id)) continue;
    const Node& n = g.node(id);
    if (p.group[size_t(n.inputs[0])] < 0) continue;
    bool weight_rule = false;
    for (auto& w : rule.weights) weight_rule |= w.first == 1;
    if (!weight_rule) continue;
    if (n.kind != OpKind::MatMul) {
      if (rule.bias_input < 0) continue;
      const TensorId b = n.input(size_t(rule.bias_input));
      if (b != kNoTensor) {
        const Tensor& bt = g.tensor(b);
        const bool vector_like = bt.shape.size() == 1 || (bt.shape.size() == 2 && bt.shape[0] == 1);
        const int64_t c = output_channels(g, id);
        if (!bt.is_constant() || bt.dtype != DType::F32 || !vector_like ||
            (bt.data->count() != c && bt.data->count() != 1))
          continue;
        if (n.kind == OpKind::Gemm && n.attrs.get_float("beta", 1.0) == 0) continue;
      }
    }
    r.push_back(id);
  }
  return r;
}

// dequant(quant(w)) with the weight parameters the rewrite uses.
StatusOr<TensorData> dequantized_weights(const Tensor& w, int axis) {
  ASSIGN_OR_RETURN(QuantParams wq, weight_params(w, axis));
  TensorData q = quantize_constant(*w.data, wq, DType::I8, -127, 127);
  TensorData d(DType::F32, w.shape);
  int64_t inner = 1;
  if (wq.per_axis())
    for (size_t k = size_t(wq.axis) + 1; k < w.shape.size(); ++k) inner *= w.shape[k];
  for (int64_t i = 0; i < d.count(); ++i) {
    const size_t c = wq.per_axis() ? size_t((i / inner) % w.shape[size_t(wq.axis)]) : 0;
    d.data<float>()[i] = float(int32_t(q.data<int8_t>()[i]) - wq.zero_point[c]) * wq.scale[c];
  }
  return d;
}

StatusOr<BiasLayer> make_bias_layer(const Graph& g, const Plan& p, NodeId id, const std::vector<double>& x_mean) {
  const Node& n = g.node(id);
  BiasLayer l;
  l.node = id;
  l.channels = output_channels(g, id);
  int axis = -1;
  for (auto& w : p.rules[size_t(id)].weights)
    if (w.first == 1) axis = w.second;
  ASSIGN_OR_RETURN(l.wq, dequantized_weights(g.tensor(n.inputs[1]), axis));
  l.bias.assign(size_t(l.channels), 0.0);
  const TensorId b = n.kind == OpKind::MatMul ? kNoTensor : n.input(size_t(p.rules[size_t(id)].bias_input));
  if (b != kNoTensor) {  // a new bias (set_float_bias) is added with beta = 1
    const TensorData& bd = *g.tensor(b).data;
    for (int64_t c = 0; c < l.channels; ++c) l.bias[size_t(c)] = bd.data<float>()[bd.count() == 1 ? 0 : c];
    if (n.kind == OpKind::Gemm) l.bias_scale = n.attrs.get_float("beta", 1.0);
  }
  ASSIGN_OR_RETURN(l.float_input_mean, layer_input_mean(g, id, x_mean));
  ASSIGN_OR_RETURN(l.float_mean, expected_output(g, id, *g.tensor(n.inputs[1]).data, l.float_input_mean));
  return l;
}

// b' = b + (W E[x] - Wq E[xq]) / beta, as float.
std::vector<float> corrected_bias(const BiasLayer& l, const std::vector<double>& quantized_mean) {
  std::vector<float> b(size_t(l.channels));
  for (size_t c = 0; c < b.size(); ++c)
    b[c] = float(l.bias[c] + (l.float_mean[c] - quantized_mean[c]) / l.bias_scale);
  return b;
}

// Runs `g` (a QDQ graph) over the calibration set; the elementwise mean of each of `tensors`.
StatusOr<std::vector<std::vector<double>>> measure_means(const Graph& g, const std::vector<TensorId>& tensors,
                                                         const CalibrationSet& calib, const ProgressCallback& progress,
                                                         const std::string& label) {
  Graph run_graph = g;  // ids of g stay valid: the wrap only adds tensors and nodes
  RETURN_IF_ERROR(wrap_spatial_ops_nhwc(run_graph));
  auto ex = Executor::create(run_graph);
  if (!ex.ok()) return ex.status().with_context(label);
  std::vector<int> mean_of(run_graph.num_tensors(), -1);
  std::vector<TensorMean> means;
  for (TensorId t : tensors) {
    mean_of[size_t(t)] = int(means.size());
    means.emplace_back(num_elements(g.tensor(t).shape));
  }
  std::vector<TensorData> outs;
  for (int64_t s = 0; s < calib.size(); ++s) {
    std::vector<TensorData> inputs = calib.sample(s);
    for (size_t k = 0; k < inputs.size(); ++k)
      if (mean_of[size_t(run_graph.inputs[k])] >= 0)
        means[size_t(mean_of[size_t(run_graph.inputs[k])])].add(inputs[k].data<float>());
    Status st = ex.value()->run(inputs, &outs, [&](NodeId node, const RunContext& ctx) {
      for (TensorId o : run_graph.node(node).outputs)
        if (o != kNoTensor && mean_of[size_t(o)] >= 0) means[size_t(mean_of[size_t(o)])].add(ctx.in<float>(o));
    });
    if (!st.ok()) return st.with_context(label + ", calibration sample " + std::to_string(s));
    report_progress(progress, label, s + 1, calib.size());
  }
  std::vector<std::vector<double>> r;
  for (auto& m : means) r.push_back(m.mean());
  return r;
}

// A DequantizeLinear of integer constant `q` feeding input `index` of node `id` (this use only).
void use_dequantized(Graph& g, NodeId id, size_t index, TensorId q, std::string base, Shape shape) {
  Tensor dt;
  dt.name = g.unique_tensor_name(base + "_dequantized");
  dt.dtype = DType::F32;
  dt.shape = shape;
  TensorId dq = g.add_tensor(dt);
  Node dn;
  dn.kind = OpKind::DequantizeLinear;
  dn.name = dt.name;
  dn.inputs = {q};
  dn.outputs = {dq};
  g.add_node(std::move(dn));
  g.node(id).inputs[index] = dq;
}

// True when layer `id` already adds exactly `values` (no bias counts as zeros): then a correction
// changes nothing, and the graph stays as it is.
bool bias_unchanged(const Graph& g, NodeId id, int bias_input, const std::vector<float>& values) {
  const Node& n = g.node(id);
  const TensorId old = n.kind == OpKind::MatMul ? kNoTensor : n.input(size_t(bias_input));
  const TensorData* d = old == kNoTensor ? nullptr : g.tensor(old).data.get();
  for (size_t c = 0; c < values.size(); ++c) {
    const float b = d == nullptr ? 0.0f : d->data<float>()[d->count() == 1 ? 0 : c];
    if (values[c] != b) return false;
  }
  return true;
}

// Sets the float bias of layer `id` to `values` (a new constant; a MatMul becomes a Gemm to carry
// it). Returns the bias input index.
int set_float_bias(Graph& g, NodeId id, int bias_input, const std::vector<float>& values) {
  Node& n = g.node(id);
  if (n.kind == OpKind::MatMul) {
    n.kind = OpKind::Gemm;  // A [M, K] x B [K, N]: Gemm with its defaults (no transposes, alpha = beta = 1)
    bias_input = 2;
  }
  const TensorId old = n.input(size_t(bias_input));
  const int64_t c = int64_t(values.size());
  Shape shape = {c};
  std::string name = n.name + "_bias";
  if (old != kNoTensor) {
    if (g.tensor(old).shape.size() == 2) shape = {1, c};
    name = g.tensor(old).name;
  } else if (n.kind == OpKind::Gemm) {
    n.attrs.set("beta", 1.0);  // the bias is new: added as it is
  }
  TensorId b = g.add_constant(g.unique_tensor_name(name + "_corrected"), TensorData::from(shape, values));
  if (g.node(id).inputs.size() <= size_t(bias_input)) g.node(id).inputs.resize(size_t(bias_input) + 1, kNoTensor);
  g.node(id).inputs[size_t(bias_input)] = b;
  return bias_input;
}

// The QDQ graph (not yet compacted: node ids and the ids of `input`'s tensors stay valid): weights
// and biases become DequantizeLinear of integer constants, each boundary gets Q -> DQ. `biases`
// replaces the float bias of the layers it names before the bias is quantized.
StatusOr<Graph> rewrite(const Graph& input, const Plan& plan, const std::vector<QuantParams>& params,
                        const std::map<NodeId, std::vector<float>>& biases, std::vector<std::string>* float_nodes) {
  Graph g = input;
  Rewriter rw(g);
  // Weights and biases first: they need the input scale, read from the plan (not the graph).
  std::map<std::pair<TensorId, int>, TensorId> quantized_weights;  // (float const, axis) -> int8 const
  for (NodeId id : input.live_nodes()) {
    const OpQuantRule& r = plan.rules[size_t(id)];
    if (!r.annotated) {
      // Marked, so that fold-qdq leaves it in float even between int8 ops (ir/op_attrs.h keep_float).
      if (plan.kept_float[size_t(id)]) g.node(id).attrs.set("keep_float", int64_t(1));
      if (float_nodes)
        float_nodes->push_back(describe(input, id) + (plan.kept_float[size_t(id)] ? ": kept in float by the user"
                                                                                   : ": no int8 rule, stays float"));
      continue;
    }
    const Node n = g.node(id);
    if (r.mask_fill_input >= 0 && plan.group[size_t(n.outputs[0])] >= 0) {
      // The fill becomes the lowest value of the output's parameters (see kMaskFillRange).
      const QuantParams& oq = params[size_t(plan.group[size_t(n.outputs[0])])];
      const TensorId f = n.inputs[size_t(r.mask_fill_input)];
      const TensorId qt = g.add_constant(g.unique_tensor_name(g.tensor(f).name + "_quantized"),
                                         TensorData::from<int8_t>(g.tensor(f).shape, {int8_t(-128)}), oq);
      use_dequantized(g, id, size_t(r.mask_fill_input), qt, g.tensor(f).name, g.tensor(f).shape);
    }
    std::vector<float> w_scales;
    for (auto [index, axis] : r.weights) {
      TensorId w = n.input(size_t(index));
      if (w == kNoTensor || !g.tensor(w).is_constant() || g.tensor(w).dtype != DType::F32) continue;
      ASSIGN_OR_RETURN(QuantParams wq, weight_params(g.tensor(w), axis));
      w_scales = wq.scale;
      auto key = std::make_pair(w, axis);
      auto it = quantized_weights.find(key);
      if (it == quantized_weights.end()) {
        TensorData qd = quantize_constant(*g.tensor(w).data, wq, DType::I8, -127, 127);
        TensorId qt = g.add_constant(g.unique_tensor_name(g.tensor(w).name + "_quantized"), std::move(qd), wq);
        it = quantized_weights.emplace(key, qt).first;
      }
      // Only this node's use is replaced: another node may want the same weights otherwise.
      use_dequantized(g, id, size_t(index), it->second, g.tensor(w).name, g.tensor(w).shape);
    }
    int bias_input = r.bias_input;
    auto corrected = biases.find(id);
    if (corrected != biases.end() && !bias_unchanged(g, id, bias_input, corrected->second))
      bias_input = set_float_bias(g, id, bias_input, corrected->second);
    TensorId b = g.node(id).input(size_t(bias_input));
    TensorId x = n.input(0);
    if (bias_input >= 0 && b != kNoTensor && g.tensor(b).is_constant() && g.tensor(b).dtype == DType::F32 &&
        !w_scales.empty() && x != kNoTensor && plan.group[size_t(x)] >= 0) {
      const Tensor& bt = g.tensor(b);
      const float s_in = params[size_t(plan.group[size_t(x)])].scale[0];
      const int64_t nb = bt.data->count();
      // A bias broadcast as a vector over the output channels: [C] or [1, C].
      const bool vector_like = bt.shape.size() == 1 || (bt.shape.size() == 2 && bt.shape[0] == 1);
      if (vector_like && (w_scales.size() == 1 || int64_t(w_scales.size()) == nb)) {
        QuantParams bq;
        for (size_t c = 0; c < w_scales.size(); ++c) {
          bq.scale.push_back(s_in * w_scales[c]);
          bq.zero_point.push_back(0);
        }
        bq.axis = int32_t(bt.shape.size() - 1);
        TensorData qd = quantize_constant(*bt.data, bq, DType::I32, -2147483647LL, 2147483647LL);
        const std::string base = bt.name;  // bt dangles once a tensor is added
        const Shape shape = bt.shape;
        TensorId qt = g.add_constant(g.unique_tensor_name(base + "_quantized"), std::move(qd), bq);
        use_dequantized(g, id, size_t(bias_input), qt, base, shape);
      }
    }
  }
  // Activation boundaries (ids below input.num_tensors() are unchanged by the rewrites above).
  for (size_t i = 0; i < input.num_tensors(); ++i)
    if (plan.group[i] >= 0) rw.insert_qdq(TensorId(i), params[size_t(plan.group[i])]);
  return g;
}

// DequantizeLinear of an integer constant (weights, biases) becomes its float value, so that the
// measuring runs pack the weights once instead of on every run. Same values: the executor's
// DequantizeLinear computes (q - zero_point) * scale in float, as this does.
void fold_constant_dequantize(Graph& g) {
  for (NodeId id : g.live_nodes()) {
    const Node& n = g.node(id);
    if (n.kind != OpKind::DequantizeLinear || !g.tensor(n.inputs[0]).is_constant()) continue;
    const Tensor& q = g.tensor(n.inputs[0]);
    const QuantParams& qp = q.quant;
    TensorData f(DType::F32, q.shape);
    int64_t inner = 1;
    if (qp.per_axis())
      for (size_t d = size_t(qp.axis) + 1; d < q.shape.size(); ++d) inner *= q.shape[d];
    for (int64_t i = 0; i < f.count(); ++i) {
      const size_t c = qp.per_axis() ? size_t((i / inner) % q.shape[size_t(qp.axis)]) : 0;
      const int64_t v = q.data->get_as_int(i);
      f.data<float>()[i] = float(int32_t(v - qp.zero_point[c])) * qp.scale[c];
    }
    Tensor& out = g.tensor(n.outputs[0]);
    out.data = std::make_shared<const TensorData>(std::move(f));
    out.producer = -1;
    g.remove_node(id);
  }
}

// Per layer of `layers`: 1 + the largest level of a listed layer upstream of it (1 when none is).
StatusOr<std::vector<int>> layer_levels(const Graph& g, const std::vector<NodeId>& layers) {
  ASSIGN_OR_RETURN(std::vector<NodeId> order, g.topological_order());
  std::map<NodeId, size_t> index;
  for (size_t i = 0; i < layers.size(); ++i) index[layers[i]] = i;
  std::vector<int> tensor_level(g.num_tensors(), 0), level(layers.size(), 0);
  for (NodeId id : order) {
    int l = 0;
    for (TensorId t : g.node(id).inputs)
      if (t != kNoTensor) l = std::max(l, tensor_level[size_t(t)]);
    auto it = index.find(id);
    if (it != index.end()) level[it->second] = ++l;
    for (TensorId t : g.node(id).outputs)
      if (t != kNoTensor) tensor_level[size_t(t)] = l;
  }
  return level;
}

// The corrected float bias of every layer of `layer_ids` (the correctable layers).
StatusOr<std::map<NodeId, std::vector<float>>> bias_correction(const Graph& input, const Plan& plan,
                                                               const std::vector<QuantParams>& params,
                                                               const std::vector<NodeId>& layer_ids,
                                                               const std::vector<std::vector<double>>& float_means,
                                                               const CalibrationSet& calib,
                                                               const QuantizeOptions& options, QuantizeReport* rep) {
  std::map<NodeId, std::vector<float>> biases;
  std::vector<BiasLayer> layers;
  for (size_t k = 0; k < layer_ids.size(); ++k) {
    ASSIGN_OR_RETURN(BiasLayer l, make_bias_layer(input, plan, layer_ids[k], float_means[k]));
    ASSIGN_OR_RETURN(auto y, expected_output(input, l.node, l.wq, l.float_input_mean));
    biases[l.node] = corrected_bias(l, y);
    layers.push_back(std::move(l));
  }
  int passes = 0;
  if (options.bias_correction == BiasCorrection::kEmpirical && !layers.empty()) {
    // Sequential: a layer's input is measured once every layer upstream of it has its final bias.
    // Level by level (a layer's level is 1 + the largest level of a corrected layer upstream), one
    // run of the QDQ graph cut after the inputs of that level's layers.
    ASSIGN_OR_RETURN(std::vector<int> level, layer_levels(input, layer_ids));
    const int levels = *std::max_element(level.begin(), level.end());
    for (int k = 1; k <= levels; ++k, ++passes) {
      ASSIGN_OR_RETURN(Graph qdq, rewrite(input, plan, params, biases, nullptr));
      std::vector<TensorId> inputs;  // the DQ outputs that feed this level's layers
      for (size_t i = 0; i < layers.size(); ++i)
        if (level[i] == k) inputs.push_back(qdq.node(layers[i].node).inputs[0]);
      std::sort(inputs.begin(), inputs.end());
      inputs.erase(std::unique(inputs.begin(), inputs.end()), inputs.end());
      qdq.outputs = inputs;
      RETURN_IF_ERROR(eliminate_dead_code(qdq));
      fold_constant_dequantize(qdq);
      ASSIGN_OR_RETURN(auto means, measure_means(qdq, inputs, calib, options.progress,
                                                 "bias correction, level " + std::to_string(k) + "/" +
                                                     std::to_string(levels)));
      for (size_t i = 0; i < layers.size(); ++i) {
        if (level[i] != k) continue;
        const BiasLayer& l = layers[i];
        const auto slot = std::lower_bound(inputs.begin(), inputs.end(), qdq.node(l.node).inputs[0]) - inputs.begin();
        ASSIGN_OR_RETURN(auto m, layer_input_mean(input, l.node, means[size_t(slot)]));
        ASSIGN_OR_RETURN(auto y, expected_output(input, l.node, l.wq, m));
        biases[l.node] = corrected_bias(l, y);
      }
    }
  }
  rep->bias_correction = options.bias_correction;
  rep->bias_correction_passes = passes;
  for (const BiasLayer& l : layers) {
    CorrectedBias cb;
    cb.node = input.node(l.node).name;
    cb.channels = l.channels;
    const std::vector<float>& b = biases[l.node];
    for (size_t c = 0; c < b.size(); ++c) {
      cb.max_abs_shift = std::max(cb.max_abs_shift, std::abs(double(b[c]) - l.bias[c]));
      cb.max_abs_bias = std::max(cb.max_abs_bias, std::abs(l.bias[c]));
    }
    rep->corrected_biases.push_back(cb);
  }
  return biases;
}

// Parameters of a calibrated group: symmetric for BATCH_MATMUL operands; a masked_fill output's
// range reaches kMaskFillRange below its largest value (the fill quantizes to its lowest value).
QuantParams group_params(const Plan& p, size_t k, const Observer& obs) {
  QuantSpec spec = QuantSpec::int8_activation();
  if (p.group_symmetric[k]) spec.scheme = QScheme::kSymmetric;
  QuantParams q = obs.qparams(spec);
  if (!p.group_mask_fill[k] || q.scale.empty()) return q;
  const float lo = float((-128 - q.zero_point[0]) * double(q.scale[0]));
  const float hi = float((127 - q.zero_point[0]) * double(q.scale[0]));
  if (hi - lo >= kMaskFillRange) return q;
  const ScaleZeroPoint sz = compute_scale_zero_point(float(hi - kMaskFillRange), hi, spec);
  return QuantParams::per_tensor(sz.scale, sz.zero_point);
}

// Every member of every group against the range it was observed in: a member may lie outside its
// group's representable range by half a step, plus what the group's observer chose to clip of
// everything the group saw (histogram, percentile); a fixed group (Sigmoid's [0, 1)) also by one
// step at each end (the op's nominal range). Clamp inputs (clamps_input) are not observed: allowed.
std::vector<ClampedMember> check_groups(const Graph& g, const Plan& p, const std::vector<QuantParams>& params,
                                        const std::vector<TensorRange>& ranges) {
  std::vector<ClampedMember> r;
  for (size_t k = 0; k < p.group_tensors.size(); ++k) {
    const QuantParams& q = params[k];
    if (q.scale.empty()) continue;
    const double s = q.scale[0], lo = (-128.0 - q.zero_point[0]) * s, hi = (127.0 - q.zero_point[0]) * s;
    double seen_lo = INFINITY, seen_hi = -INFINITY;
    for (TensorId t : p.group_tensors[k])
      if (!ranges[size_t(t)].empty()) {
        seen_lo = std::min(seen_lo, double(ranges[size_t(t)].min));
        seen_hi = std::max(seen_hi, double(ranges[size_t(t)].max));
      }
    double allow_lo = 0.5 * s, allow_hi = 0.5 * s;
    if (p.group_fixed[k]) {
      allow_lo += s;
      allow_hi += s;
    } else if (seen_lo <= seen_hi) {  // the observer's own clipping of the union
      allow_lo = std::max(allow_lo, lo - seen_lo);
      allow_hi = std::max(allow_hi, seen_hi - hi);
    }
    for (TensorId t : p.group_tensors[k]) {
      const TensorRange& tr = ranges[size_t(t)];
      if (tr.empty() || (lo - tr.min <= allow_lo && tr.max - hi <= allow_hi)) continue;
      ClampedMember c;
      c.tensor = g.tensor(t).name;
      c.observed_min = tr.min;
      c.observed_max = tr.max;
      c.range_min = float(lo);
      c.range_max = float(hi);
      for (TensorId m : p.group_tensors[k]) c.group.push_back(g.tensor(m).name);
      r.push_back(std::move(c));
    }
  }
  return r;
}

}  // namespace

StatusOr<ObserverKind> parse_observer_kind(const std::string& name) {
  if (name == "minmax") return ObserverKind::kMinMax;
  if (name == "histogram") return ObserverKind::kHistogram;
  if (name == "percentile") return ObserverKind::kPercentile;
  return error(Error::InvalidArgument, "unknown observer '", name, "' (minmax, histogram and percentile are known)");
}

std::vector<ModelInput> model_inputs(const Graph& g) {
  std::vector<ModelInput> r;
  for (TensorId t : g.inputs) r.push_back({g.tensor(t).name, g.tensor(t).dtype, g.tensor(t).shape});
  return r;
}

StatusOr<BiasCorrection> parse_bias_correction(const std::string& name) {
  if (name == "off") return BiasCorrection::kOff;
  if (name == "float") return BiasCorrection::kFloat;
  if (name == "empirical") return BiasCorrection::kEmpirical;
  return error(Error::InvalidArgument, "unknown bias correction '", name, "' (off, float and empirical are known)");
}

const char* bias_correction_name(BiasCorrection b) {
  switch (b) {
    case BiasCorrection::kOff:
      return "off";
    case BiasCorrection::kFloat:
      return "float";
    case BiasCorrection::kEmpirical:
      return "empirical";
  }
  return "?";
}

StatusOr<Graph> quantize_graph(const Graph& input, const CalibrationSet& calib, const QuantizeOptions& options,
                               QuantizeReport* report) {
  ASSIGN_OR_RETURN(Plan plan, make_plan(input, options.keep_float));
  RETURN_IF_ERROR(check_finite_constants(input, plan));
  CHECK_OR_RETURN(calib.size() > 0, Error::InvalidArgument, "the calibration set is empty");
  std::vector<NodeId> layers;
  std::vector<TensorId> layer_inputs;  // sorted, unique
  if (options.bias_correction != BiasCorrection::kOff) {
    layers = correctable_layers(input, plan);
    for (NodeId id : layers) layer_inputs.push_back(input.node(id).inputs[0]);
    std::sort(layer_inputs.begin(), layer_inputs.end());
    layer_inputs.erase(std::unique(layer_inputs.begin(), layer_inputs.end()), layer_inputs.end());
  }
  std::vector<TensorMean> means;  // per layer input: E[x] in the float model
  std::vector<TensorRange> ranges;  // per tensor
  ASSIGN_OR_RETURN(auto observers, calibrate(input, plan, calib, options, layer_inputs, &means, &ranges));
  const std::vector<char> far = far_members(input, plan, ranges);
  if (!far.empty()) {  // plan again with the far members on their own, and calibrate the new groups
    ASSIGN_OR_RETURN(plan, make_plan(input, options.keep_float, far));
    ASSIGN_OR_RETURN(observers, calibrate(input, plan, calib, options, layer_inputs, &means, &ranges));
  }
  std::vector<std::vector<double>> input_means;  // per layer
  for (NodeId id : layers) {
    const auto it = std::lower_bound(layer_inputs.begin(), layer_inputs.end(), input.node(id).inputs[0]);
    input_means.push_back(means[size_t(it - layer_inputs.begin())].mean());
  }

  std::vector<QuantParams> params(plan.group_tensors.size());
  QuantizeReport local;
  QuantizeReport& rep = report ? *report : local;
  rep = QuantizeReport();
  rep.samples = calib.size();
  for (size_t k = 0; k < params.size(); ++k) {
    params[k] = plan.group_fixed[k] ? *plan.group_fixed[k] : group_params(plan, k, *observers[k]);
    if (plan.group_fixed[k] && plan.group_symmetric[k] && params[k].zero_point[0] != 0) {
      // A fixed range (Softmax's [0, 1)) feeding a BATCH_MATMUL: the same largest value with zero point 0.
      const double hi = (127.0 - params[k].zero_point[0]) * double(params[k].scale[0]);
      params[k] = QuantParams::per_tensor(float(hi / 127.0), 0);
    }
    QuantizedGroup qg;
    for (TensorId t : plan.group_tensors[k]) qg.tensors.push_back(input.tensor(t).name);
    qg.params = params[k];
    qg.observed_min = observers[k]->observed().min;
    qg.observed_max = observers[k]->observed().max;
    qg.fixed = plan.group_fixed[k].has_value();
    rep.groups.push_back(std::move(qg));
  }
  rep.own_params = own_param_inputs(input, plan);
  rep.clamped_members = check_groups(input, plan, params, ranges);
  std::map<NodeId, std::vector<float>> biases;
  if (options.bias_correction != BiasCorrection::kOff) {
    ASSIGN_OR_RETURN(biases, bias_correction(input, plan, params, layers, input_means, calib, options, &rep));
  }
  ASSIGN_OR_RETURN(Graph g, rewrite(input, plan, params, biases, &rep.float_nodes));
  RETURN_IF_ERROR(eliminate_dead_code(g));
  g.compact();
  return g;
}

}  // namespace neutron
