#include "ir/graph.h"

#include <algorithm>
#include <queue>

namespace neutron {

namespace {
constexpr const char* kOpNames[] = {
#define X(name, text, category) text,
#include "ir/op_kinds.def"
#undef X
};
constexpr OpCategory kOpCategories[] = {
#define X(name, text, category) OpCategory::category,
#include "ir/op_kinds.def"
#undef X
};
}  // namespace

OpCategory op_category(OpKind k) { return kOpCategories[size_t(k)]; }

const char* op_kind_name(OpKind k) {
  size_t i = size_t(k);
  return i < size_t(OpKind::kCount) ? kOpNames[i] : "?";
}

std::optional<OpKind> op_kind_from_name(const std::string& name) {
  for (size_t i = 0; i < size_t(OpKind::kCount); ++i)
    if (name == kOpNames[i]) return OpKind(i);
  return std::nullopt;
}

int64_t Attributes::get_int(const std::string& name, int64_t def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  if (auto* v = std::get_if<int64_t>(&it->second)) return *v;
  if (auto* v = std::get_if<double>(&it->second)) return int64_t(*v);
  return def;
}
double Attributes::get_float(const std::string& name, double def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  if (auto* v = std::get_if<double>(&it->second)) return *v;
  if (auto* v = std::get_if<int64_t>(&it->second)) return double(*v);
  return def;
}
std::string Attributes::get_string(const std::string& name, const std::string& def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  if (auto* v = std::get_if<std::string>(&it->second)) return *v;
  return def;
}
std::vector<int64_t> Attributes::get_ints(const std::string& name, std::vector<int64_t> def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  if (auto* v = std::get_if<std::vector<int64_t>>(&it->second)) return *v;
  if (auto* v = std::get_if<int64_t>(&it->second)) return {*v};
  return def;
}
std::vector<double> Attributes::get_floats(const std::string& name, std::vector<double> def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  if (auto* v = std::get_if<std::vector<double>>(&it->second)) return *v;
  if (auto* v = std::get_if<double>(&it->second)) return {*v};
  return def;
}

TensorId Graph::add_tensor(Tensor t) {
  name_counter_[t.name];
  tensors_.push_back(std::move(t));
  return TensorId(tensors_.size() - 1);
}

TensorId Graph::add_constant(const std::string& name, TensorData data, QuantParams quant) {
  Tensor t;
  t.name = name;
  t.dtype = data.dtype;
  t.shape = data.shape;
  t.quant = std::move(quant);
  t.data = std::make_shared<const TensorData>(std::move(data));
  return add_tensor(std::move(t));
}

NodeId Graph::add_node(Node n) {
  NodeId id = NodeId(nodes_.size());
  for (TensorId o : n.outputs)
    if (o != kNoTensor) tensors_[size_t(o)].producer = id;
  nodes_.push_back(std::move(n));
  return id;
}

std::vector<NodeId> Graph::live_nodes() const {
  std::vector<NodeId> r;
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (!nodes_[i].dead) r.push_back(NodeId(i));
  return r;
}

std::vector<std::vector<NodeId>> Graph::consumers() const {
  std::vector<std::vector<NodeId>> c(tensors_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].dead) continue;
    for (TensorId t : nodes_[i].inputs)
      if (t != kNoTensor && (c[size_t(t)].empty() || c[size_t(t)].back() != NodeId(i))) c[size_t(t)].push_back(NodeId(i));
  }
  return c;
}

StatusOr<std::vector<NodeId>> Graph::topological_order() const {
  // Kahn's algorithm; ties broken by node index so the order is deterministic and
  // stays close to the source model's order.
  std::vector<int> pending(nodes_.size(), 0);
  auto cons = consumers();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].dead) continue;
    for (TensorId t : nodes_[i].inputs) {
      if (t == kNoTensor) continue;
      NodeId p = tensors_[size_t(t)].producer;
      if (p >= 0 && !nodes_[size_t(p)].dead) ++pending[i];
    }
  }
  std::priority_queue<NodeId, std::vector<NodeId>, std::greater<NodeId>> ready;
  size_t live = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].dead) continue;
    ++live;
    if (pending[i] == 0) ready.push(NodeId(i));
  }
  std::vector<NodeId> order;
  while (!ready.empty()) {
    NodeId n = ready.top();
    ready.pop();
    order.push_back(n);
    for (TensorId o : nodes_[size_t(n)].outputs) {
      if (o == kNoTensor) continue;
      for (NodeId c : cons[size_t(o)]) {
        // A consumer may read the same tensor twice; count each input slot.
        for (TensorId in : nodes_[size_t(c)].inputs)
          if (in == o && --pending[size_t(c)] == 0) ready.push(c);
      }
    }
  }
  if (order.size() != live) {
    for (size_t i = 0; i < nodes_.size(); ++i)
      if (!nodes_[i].dead && pending[i] > 0)
        return error(Error::InvalidModel, "graph has a cycle through ", describe(*this, NodeId(i)));
  }
  return order;
}

void Graph::replace_uses(TensorId from, TensorId to) {
  for (auto& n : nodes_) {
    if (n.dead) continue;
    for (auto& t : n.inputs)
      if (t == from) t = to;
  }
  for (auto& t : outputs)
    if (t == from) t = to;
}

std::optional<TensorId> Graph::find_tensor(const std::string& name) const {
  for (size_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].name == name) return TensorId(i);
  return std::nullopt;
}

bool Graph::is_graph_output(TensorId id) const {
  return std::find(outputs.begin(), outputs.end(), id) != outputs.end();
}

void Graph::compact() {
  std::vector<char> used(tensors_.size(), 0);
  for (TensorId t : inputs) used[size_t(t)] = 1;
  for (TensorId t : outputs) used[size_t(t)] = 1;
  for (const auto& n : nodes_) {
    if (n.dead) continue;
    for (TensorId t : n.inputs)
      if (t != kNoTensor) used[size_t(t)] = 1;
    for (TensorId t : n.outputs)
      if (t != kNoTensor) used[size_t(t)] = 1;
  }
  std::vector<TensorId> remap(tensors_.size(), kNoTensor);
  std::vector<Tensor> kept;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = TensorId(kept.size());
    kept.push_back(std::move(tensors_[i]));
  }
  std::vector<Node> live;
  for (auto& n : nodes_) {
    if (n.dead) continue;
    for (auto& t : n.inputs)
      if (t != kNoTensor) t = remap[size_t(t)];
    for (auto& t : n.outputs)
      if (t != kNoTensor) t = remap[size_t(t)];
    live.push_back(std::move(n));
  }
  for (auto& t : inputs) t = remap[size_t(t)];
  for (auto& t : outputs) t = remap[size_t(t)];
  tensors_ = std::move(kept);
  nodes_ = std::move(live);
  for (auto& t : tensors_) t.producer = -1;
  for (size_t i = 0; i < nodes_.size(); ++i)
    for (TensorId o : nodes_[i].outputs)
      if (o != kNoTensor) tensors_[size_t(o)].producer = NodeId(i);
}

std::string Graph::unique_tensor_name(const std::string& base) {
  if (!name_counter_.count(base)) {
    name_counter_[base] = 0;
    return base;
  }
  for (;;) {
    std::string candidate = base + "_" + std::to_string(++name_counter_[base]);
    if (!name_counter_.count(candidate)) {
      name_counter_[candidate] = 0;
      return candidate;
    }
  }
}

std::string describe(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  return str_cat("node '", n.name, "' (", op_kind_name(n.kind), ")");
}

}  // namespace neutron
