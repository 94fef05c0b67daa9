#include "partition/partitioner.h"

#include <algorithm>
#include <numeric>
#include <queue>

#include "ir/op_cost.h"
#include "ir/verifier.h"
#include "passes/passes.h"
#include "passes/pipeline.h"

namespace neutron {
namespace {

// Union-find over node ids whose groups keep their member lists. CPU nodes stay singletons.
class Groups {
 public:
  explicit Groups(size_t n) : parent_(n), members_(n) {
    std::iota(parent_.begin(), parent_.end(), 0);
    for (size_t i = 0; i < n; ++i) members_[i] = {NodeId(i)};
  }
  int find(int x) {
    while (parent_[size_t(x)] != x) {
      parent_[size_t(x)] = parent_[size_t(parent_[size_t(x)])];
      x = parent_[size_t(x)];
    }
    return x;
  }
  void unite(int a, int b) {
    a = find(a);
    b = find(b);
    if (a == b) return;
    if (a > b) std::swap(a, b);
    parent_[size_t(b)] = a;
    auto& ma = members_[size_t(a)];
    auto& mb = members_[size_t(b)];
    ma.insert(ma.end(), mb.begin(), mb.end());
    mb.clear();
  }
  const std::vector<NodeId>& members(int root) const { return members_[size_t(root)]; }

 private:
  std::vector<int> parent_;
  std::vector<std::vector<NodeId>> members_;
};

// Node-level successor lists (each consumer once, ascending).
std::vector<std::vector<NodeId>> successors(const Graph& g) {
  const auto cons = g.consumers();
  std::vector<std::vector<NodeId>> succ(g.num_nodes());
  for (NodeId id : g.live_nodes()) {
    auto& s = succ[size_t(id)];
    for (TensorId t : g.node(id).outputs)
      if (t != kNoTensor) s.insert(s.end(), cons[size_t(t)].begin(), cons[size_t(t)].end());
    std::sort(s.begin(), s.end());
    s.erase(std::unique(s.begin(), s.end()), s.end());
  }
  return succ;
}

// True when group `to` is reachable from group `from` through at least one other group: the
// path leaves `from`, passes a third group or CPU node, and enters `to`. Groups are contracted:
// reaching any member of a group reaches all of its outputs.
bool reachable_through_others(Groups& groups, const std::vector<std::vector<NodeId>>& succ, int from, int to,
                              std::vector<int>& visited_stamp, int stamp) {
  std::vector<int> queue;
  for (NodeId m : groups.members(from))
    for (NodeId s : succ[size_t(m)]) {
      const int h = groups.find(s);
      if (h == from || h == to || visited_stamp[size_t(h)] == stamp) continue;
      visited_stamp[size_t(h)] = stamp;
      queue.push_back(h);
    }
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    for (NodeId m : groups.members(queue[qi]))
      for (NodeId s : succ[size_t(m)]) {
        const int h = groups.find(s);
        if (h == to) return true;
        if (h == from || visited_stamp[size_t(h)] == stamp) continue;
        visited_stamp[size_t(h)] = stamp;
        queue.push_back(h);
      }
  }
  return false;
}

// Step 2 of the algorithm: maximal acyclic merging of candidate nodes. Returns, per node, the
// group root (candidates) or -1 (CPU).
std::vector<int> form_groups(const Graph& g, const std::vector<NodeId>& order, const std::vector<char>& candidate,
                             const std::vector<std::vector<NodeId>>& succ) {
  Groups groups(g.num_nodes());
  std::vector<int> stamp(g.num_nodes(), 0);
  int next_stamp = 0;
  bool changed = true;
  while (changed) {
    changed = false;
    for (NodeId u : order) {
      if (!candidate[size_t(u)]) continue;
      for (NodeId v : succ[size_t(u)]) {
        if (!candidate[size_t(v)]) continue;
        const int a = groups.find(u), b = groups.find(v);
        if (a == b) continue;
        if (reachable_through_others(groups, succ, a, b, stamp, ++next_stamp) ||
            reachable_through_others(groups, succ, b, a, stamp, ++next_stamp))
          continue;
        groups.unite(a, b);
        changed = true;
      }
    }
  }
  std::vector<int> root(g.num_nodes(), -1);
  for (NodeId id : order)
    if (candidate[size_t(id)]) root[size_t(id)] = groups.find(id);
  return root;
}

// Numbers the groups by their first node in `order`: partition_of per node and members per id.
void number_partitions(const std::vector<NodeId>& order, const std::vector<int>& root, std::vector<int>* partition_of,
                       std::vector<std::vector<NodeId>>* members) {
  partition_of->assign(root.size(), -1);
  members->clear();
  std::vector<int> id_of_root(root.size(), -1);
  for (NodeId n : order) {
    const int r = root[size_t(n)];
    if (r < 0) continue;
    if (id_of_root[size_t(r)] < 0) {
      id_of_root[size_t(r)] = int(members->size());
      members->emplace_back();
    }
    (*partition_of)[size_t(n)] = id_of_root[size_t(r)];
    (*members)[size_t(id_of_root[size_t(r)])].push_back(n);
  }
}

std::string noop_partition_reason() {
  return "a partition made only of ops that are no-ops on Neutron (Reshape, Identity, Dropout, a single-input "
         "Concat, a Transpose of a constant or with the identity permutation, arithmetic with an identity constant, "
         "a reduction over size-1 dims) compiles to an empty Neutron graph, so it is not emitted";
}

void fill_boundaries(const Graph& g, const std::vector<int>& partition_of, Partition* p) {
  const auto cons = g.consumers();
  auto add_unique = [](std::vector<TensorId>& v, TensorId t) {
    if (std::find(v.begin(), v.end(), t) == v.end()) v.push_back(t);
  };
  for (NodeId n : p->nodes) {
    for (TensorId t : g.node(n).inputs) {
      if (t == kNoTensor) continue;
      const Tensor& tt = g.tensor(t);
      if (tt.is_constant()) {
        add_unique(p->constants, t);
      } else if (tt.producer < 0 || partition_of[size_t(tt.producer)] != p->id) {
        add_unique(p->inputs, t);
      }
    }
  }
  for (NodeId n : p->nodes)
    for (TensorId t : g.node(n).outputs) {
      if (t == kNoTensor) continue;
      bool outside = g.is_graph_output(t);
      for (NodeId c : cons[size_t(t)]) outside |= partition_of[size_t(c)] != p->id;
      if (outside) add_unique(p->outputs, t);
    }
}

}  // namespace

Status check_target_supported(const NeutronTarget& t) {
  if (t.kind != NeutronKind::kNeutronC)
    return error(Error::NotSupported, "target '", t.name, "' is ", neutron_kind_name(t.kind),
                 ": upstream delegates only to Neutron-C targets (NeutronTargetSpec rejects subsystems); its "
                 "support rules are not known");
  if (t.hw_version != NeutronHwVersion::kN3)
    return error(Error::NotSupported, "target '", t.name, "' has hardware version ",
                 neutron_hw_version_name(t.hw_version),
                 ": upstream delegates only to N3 targets; the support rules are known for N3 only");
  return Status::OK();
}

// A node that computes in float: not Quantize/Dequantize, a runtime operand float32.
static bool computes_in_float(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (n.kind == OpKind::QuantizeLinear || n.kind == OpKind::DequantizeLinear) return false;
  for (const auto* ts : {&n.inputs, &n.outputs})
    for (TensorId t : *ts)
      if (t != kNoTensor && !g.tensor(t).is_constant() && g.tensor(t).dtype == DType::F32) return true;
  return false;
}

// Every runtime input of the node comes from a DequantizeLinear: the model quantized what it
// reads, so it stays in float only because nothing made it an int8 op.
static bool reads_dequantized(const Graph& g, NodeId id) {
  bool any = false;
  for (TensorId t : g.node(id).inputs) {
    if (t == kNoTensor || g.tensor(t).is_constant()) continue;
    const NodeId p = g.tensor(t).producer;
    if (p < 0 || g.node(p).kind != OpKind::DequantizeLinear) return false;
    any = true;
  }
  return any;
}

StatusOr<Partitioning> partition_graph(const Graph& g, const NeutronTarget& target, const PartitionOptions& options) {
  RETURN_IF_ERROR(check_target_supported(target));
  RETURN_IF_ERROR(verify_graph(g).with_context("partition: input graph"));
  for (NodeId id : g.live_nodes())
    if (g.node(id).attrs.get_int("channels_last", 0) != 0)
      return error(Error::InvalidArgument, "partition: ", describe(g, id),
                   " is channels-last; partitioning runs on the NCHW graph, before layout-nhwc");
  ASSIGN_OR_RETURN(std::vector<NodeId> order, g.topological_order());
  const auto succ = successors(g);

  Partitioning result;
  result.nodes.resize(g.num_nodes());
  std::vector<char> candidate(g.num_nodes(), 0);
  for (NodeId id : order) {
    NodePlacement& pl = result.nodes[size_t(id)];
    pl.macs = node_macs(g, id);
    const OpKind k = g.node(id).kind;
    if (std::find(options.no_delegate.begin(), options.no_delegate.end(), k) != options.no_delegate.end()) {
      pl.rejection = RuleRecord{"user.no_delegate", "the op type is excluded by --no-delegate",
                                std::string(op_kind_name(k)) + " is in the deny list"};
      continue;
    }
    const Node& node = g.node(id);
    const bool kept = node.attrs.get_int("keep_float", 0) != 0 ||
                      std::any_of(options.keep_float.begin(), options.keep_float.end(), [&](const std::string& k) {
                        return k == node.name || k == op_kind_name(node.kind);
                      });
    if (kept && computes_in_float(g, id)) {
      pl.rejection = RuleRecord{"user.keep_float",
                                "kept in float by the user (--keep-float): it runs on the CPU as float kernel calls, "
                                "with quantize / dequantize calls at its edges",
                                describe(g, id) + " computes in float"};
      continue;
    }
    pl.rejection = check_node_support(g, id, target);
    if (pl.rejection && pl.rejection->rule == "quant.int8_io" && computes_in_float(g, id) && reads_dequantized(g, id))
      pl.rejection = RuleRecord{"float.no_int8_kernel",
                                str_cat("no int8 kernel for ", op_kind_name(node.kind),
                                        " (the quantizer or the int8 lowering keeps it in float): it runs on the CPU "
                                        "as float kernel calls, with quantize / dequantize calls at its edges"),
                                pl.rejection->detail};
    candidate[size_t(id)] = !pl.rejection.has_value();
  }

  // Steps 2-3: propose, validate, repeat until stable (each round rejects at least one node).
  std::vector<int> partition_of;
  std::vector<std::vector<NodeId>> members;
  for (int round = 1;; ++round) {
    result.iterations = round;
    number_partitions(order, form_groups(g, order, candidate, succ), &partition_of, &members);
    const PartitionContext pc{g, partition_of, members};
    bool rejected = false;
    for (size_t p = 0; p < members.size(); ++p) {
      const bool all_noop = std::all_of(members[p].begin(), members[p].end(),
                                        [&](NodeId n) { return is_noop_on_neutron(g, n); });
      if (!all_noop) continue;
      std::string names;
      for (NodeId n : members[p]) names += (names.empty() ? "" : ", ") + describe(g, n);
      for (NodeId n : members[p]) {
        result.nodes[size_t(n)].rejection =
            RuleRecord{"partition.all_no_op", noop_partition_reason(), "partition of " + names};
        candidate[size_t(n)] = 0;
      }
      rejected = true;
    }
    for (NodeId n : order) {
      if (!candidate[size_t(n)]) continue;
      const OpSupport* s = find_op_support(g.node(n).kind);
      const RuleInput in{g, n, target};
      for (const ContextRule& r : s->context_rules) {
        const Verdict v = r.check(in, pc);
        if (v.ok) continue;
        result.nodes[size_t(n)].rejection = RuleRecord{r.name, r.reason(target), v.detail};
        candidate[size_t(n)] = 0;
        rejected = true;
        break;
      }
    }
    if (!rejected) break;
  }

  for (size_t p = 0; p < members.size(); ++p) {
    Partition part;
    part.id = int(p);
    part.nodes = members[p];
    for (NodeId n : part.nodes) {
      result.nodes[size_t(n)].partition = part.id;
      result.nodes[size_t(n)].rejection.reset();
      part.macs += result.nodes[size_t(n)].macs;
    }
    fill_boundaries(g, partition_of, &part);
    if (int(part.inputs.size()) > target.max_partition_inputs || int(part.outputs.size()) > target.max_partition_outputs)
      return error(Error::NotSupported, "partition ", part.id, " (first node ", describe(g, part.nodes.front()), ") has ",
                   part.inputs.size(), " inputs and ", part.outputs.size(), " outputs; target '", target.name,
                   "' allows at most ", target.max_partition_inputs, " and ", target.max_partition_outputs,
                   " (one-byte fields of the delegate payload header)");
    result.partitions.push_back(std::move(part));
  }
  return result;
}

StatusOr<std::vector<Partition>> group_nodes(const Graph& g, const std::vector<char>& candidate, int first_id) {
  CHECK_OR_RETURN(candidate.size() == g.num_nodes(), Error::Internal, "group_nodes: ", candidate.size(),
                  " flags for ", g.num_nodes(), " nodes");
  ASSIGN_OR_RETURN(std::vector<NodeId> order, g.topological_order());
  std::vector<int> partition_of;
  std::vector<std::vector<NodeId>> members;
  number_partitions(order, form_groups(g, order, candidate, successors(g)), &partition_of, &members);
  std::vector<Partition> parts;
  for (size_t k = 0; k < members.size(); ++k) {
    Partition part;
    part.id = int(k);
    part.nodes = members[k];
    for (NodeId n : part.nodes) part.macs += node_macs(g, n);
    fill_boundaries(g, partition_of, &part);
    part.id = first_id + int(k);
    parts.push_back(std::move(part));
  }
  return parts;
}

StatusOr<std::vector<ExecutionUnit>> execution_order(const Graph& g, const Partitioning& p) {
  ASSIGN_OR_RETURN(std::vector<NodeId> order, g.topological_order());
  const auto succ = successors(g);
  // Units: partitions first (ids 0..P-1), then one per CPU node.
  const int num_parts = int(p.partitions.size());
  std::vector<int> unit_of(g.num_nodes(), -1);
  std::vector<ExecutionUnit> units;
  std::vector<int> first_pos;  // earliest topological position of a unit's nodes (tie-break)
  for (const Partition& part : p.partitions) {
    units.push_back({true, part.id});
    first_pos.push_back(int(order.size()));
    for (NodeId n : part.nodes) unit_of[size_t(n)] = part.id;
  }
  for (size_t i = 0; i < order.size(); ++i) {
    const NodeId n = order[i];
    if (unit_of[size_t(n)] < 0) {
      unit_of[size_t(n)] = int(units.size());
      units.push_back({false, n});
      first_pos.push_back(int(i));
    } else if (unit_of[size_t(n)] < num_parts) {
      first_pos[size_t(unit_of[size_t(n)])] = std::min(first_pos[size_t(unit_of[size_t(n)])], int(i));
    }
  }
  std::vector<std::vector<int>> unit_succ(units.size());
  std::vector<int> pending(units.size(), 0);
  for (NodeId n : order)
    for (NodeId s : succ[size_t(n)]) {
      const int a = unit_of[size_t(n)], b = unit_of[size_t(s)];
      if (a == b) continue;
      auto& v = unit_succ[size_t(a)];
      if (std::find(v.begin(), v.end(), b) != v.end()) continue;
      v.push_back(b);
      ++pending[size_t(b)];
    }
  using Item = std::pair<int, int>;  // (first position, unit)
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> ready;
  for (size_t u = 0; u < units.size(); ++u)
    if (pending[u] == 0) ready.push({first_pos[u], int(u)});
  std::vector<ExecutionUnit> result;
  while (!ready.empty()) {
    const int u = ready.top().second;
    ready.pop();
    result.push_back(units[size_t(u)]);
    for (int s : unit_succ[size_t(u)])
      if (--pending[size_t(s)] == 0) ready.push({first_pos[size_t(s)], s});
  }
  if (result.size() != units.size())
    return error(Error::Internal, "contracting the partitions leaves a cycle (", units.size() - result.size(),
                 " units never become ready)");
  return result;
}

StatusOr<Graph> extract_partition(const Graph& g, const Partition& partition) {
  Graph sub;
  sub.name = str_cat(g.name.empty() ? "main" : g.name, ".partition", partition.id);
  std::vector<TensorId> remap(g.num_tensors(), kNoTensor);
  auto copy_tensor = [&](TensorId t) {
    Tensor c = g.tensor(t);
    c.producer = -1;
    remap[size_t(t)] = sub.add_tensor(std::move(c));
    return remap[size_t(t)];
  };
  for (TensorId t : partition.inputs) sub.inputs.push_back(copy_tensor(t));
  for (TensorId t : partition.constants) copy_tensor(t);
  for (NodeId n : partition.nodes) {
    Node c = g.node(n);
    for (TensorId& t : c.inputs)
      if (t != kNoTensor) {
        if (remap[size_t(t)] == kNoTensor)
          return error(Error::Internal, "extract_partition: ", describe(g, n), " reads '", g.tensor(t).name,
                       "', which is neither produced inside partition ", partition.id, " nor one of its inputs");
        t = remap[size_t(t)];
      }
    for (TensorId& t : c.outputs)
      if (t != kNoTensor) t = copy_tensor(t);
    sub.add_node(std::move(c));
  }
  for (TensorId t : partition.outputs) sub.outputs.push_back(remap[size_t(t)]);
  RETURN_IF_ERROR(verify_graph(sub).with_context("partition " + std::to_string(partition.id)));
  return sub;
}

namespace {

// Ops a layout transpose passes through unchanged in meaning (elementwise on one input, or Pad):
// a transpose separated from the partition boundary only by these still converts a boundary tensor.
bool layout_transparent(const Node& n) {
  switch (n.kind) {
    case OpKind::Pad:
    case OpKind::Clip:
    case OpKind::Relu:
    case OpKind::LeakyRelu:
    case OpKind::Sigmoid:
    case OpKind::Tanh:
    case OpKind::HardSwish:
    case OpKind::Abs:
    case OpKind::Neg:
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Identity:
    case OpKind::Dropout:
      return true;
    default:
      return false;
  }
}

// The transpose converts a partition input or output: walking from it towards the boundary
// meets only layout-transparent single-path ops.
bool at_partition_boundary(const Graph& sub, const std::vector<std::vector<NodeId>>& cons, NodeId transpose) {
  TensorId t = sub.node(transpose).inputs[0];
  for (;;) {
    if (std::find(sub.inputs.begin(), sub.inputs.end(), t) != sub.inputs.end()) return true;
    const NodeId prod = sub.tensor(t).producer;
    if (prod < 0 || !layout_transparent(sub.node(prod))) break;
    t = sub.node(prod).inputs[0];
  }
  t = sub.node(transpose).outputs[0];
  for (;;) {
    if (sub.is_graph_output(t)) return true;
    if (cons[size_t(t)].size() != 1 || !layout_transparent(sub.node(cons[size_t(t)][0]))) return false;
    t = sub.node(cons[size_t(t)][0]).outputs[0];
  }
}

}  // namespace

Status analyze_partition_layout(const Graph& g, Partitioning* p) {
  static const std::vector<PassInfo> kLayout = {
      {"layout-nhwc", "spatial ops channels-last; transposes sunk and cancelled", layout_nhwc},
      {"dce", "remove nodes whose outputs nobody reads", eliminate_dead_code},
  };
  for (Partition& part : p->partitions) {
    ASSIGN_OR_RETURN(Graph sub, extract_partition(g, part));
    RETURN_IF_ERROR(run_passes(sub, kLayout).with_context("partition " + std::to_string(part.id)));
    const auto cons = sub.consumers();
    part.boundary_transposes = part.internal_transposes = 0;
    for (NodeId n : sub.live_nodes()) {
      if (sub.node(n).kind != OpKind::Transpose) continue;
      (at_partition_boundary(sub, cons, n) ? part.boundary_transposes : part.internal_transposes) += 1;
    }
  }
  return Status::OK();
}

}  // namespace neutron
