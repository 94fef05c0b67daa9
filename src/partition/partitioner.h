// Partitioning: which nodes run on the Neutron NPU, grouped into partitions, and why the others
// stay on the CPU.
//
// Input: a verified int8 graph after fold-qdq and BEFORE layout-nhwc (NCHW, as the rules are
// written). Only int8-quantized ops are delegated (rule "quant.int8_io").
//
// Algorithm (upstream's CapabilityBasedPartitioner + validation loop, facts §1.3 steps 5-6):
//  1. Support: a node is a candidate when no node-level rule rejects it (op_support.h) and its op
//     type is not in the user's deny list (rule "user.no_delegate").
//  2. Grouping: every candidate starts as its own group; walking the nodes in topological order,
//     a candidate is merged with each candidate consumer's group unless the merge would create a
//     cycle in the graph of groups, i.e. unless some path leaves one of the two groups and
//     re-enters the other through a third group or a CPU node. Sweeps repeat until nothing
//     merges. The result is acyclic (contracting every partition to one node leaves a DAG) and
//     maximal (no two adjacent partitions can be merged without a cycle).
//  3. Context: a partition whose nodes are all no-ops on Neutron is not emitted (rule
//     "partition.all_no_op"; an empty NeutronGraph fails to compile), and each node's context
//     rules are checked on the proposal ("alone in its partition", ...). Rejected nodes leave the
//     candidate set for good, and steps 2-3 repeat until nothing changes.
//  4. Partitions are numbered by their first node in topological order; their boundary tensors
//     (runtime inputs read from outside, outputs used outside or by the graph) are listed.
//
// Layout: the NPU works in NHWC. Partitioning runs on NCHW; afterwards each partition's subgraph
// goes through layout-nhwc (the existing pass: transposes around spatial ops, sunk and cancelled),
// and analyze_partition_layout() reports the transposes that remain at the partition boundary and
// inside it.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "partition/op_support.h"
#include "target/target.h"

namespace neutron {

struct PartitionOptions {
  std::vector<OpKind> no_delegate;  // op types never delegated (--no-delegate)
  // Op type names or node names the user kept in float when quantizing (--keep-float): reported
  // as rule "user.keep_float". Other float ops are reported with their op's rule, else as
  // "float.no_int8_kernel"; programs run both as float CPU kernel calls.
  std::vector<std::string> keep_float;
};

struct Partition {
  int id = 0;
  std::vector<NodeId> nodes;        // in topological order
  std::vector<TensorId> inputs;     // runtime tensors read from outside, by first use
  std::vector<TensorId> outputs;    // tensors read outside the partition or graph outputs, by production
  std::vector<TensorId> constants;  // constant tensors the partition reads, by first use
  int64_t macs = 0;
  // Filled by analyze_partition_layout(); -1 until then.
  // NCHW<->NHWC transposes left after layout-nhwc at the partition boundary (converting an input or
  // output, possibly through elementwise ops or Pad) and inside it (e.g. NHWC->NCHW before a
  // flattening Reshape).
  int boundary_transposes = -1;
  int internal_transposes = -1;
};

struct NodePlacement {
  int partition = -1;                   // -1: CPU (or a dead node)
  std::optional<RuleRecord> rejection;  // set for live CPU nodes
  int64_t macs = 0;
};

struct Partitioning {
  std::vector<NodePlacement> nodes;  // indexed by NodeId
  std::vector<Partition> partitions;
  int iterations = 0;  // rounds of the validation loop
  bool on_npu(NodeId id) const { return nodes[size_t(id)].partition >= 0; }
};

// Upstream delegates only to Neutron-C N3 targets; other targets are NotSupported with the reason.
Status check_target_supported(const NeutronTarget& target);

// Errors: the graph does not verify, is already channels-last, or the target is not supported;
// a partition with more inputs or outputs than the target's payload header holds (NotSupported).
StatusOr<Partitioning> partition_graph(const Graph& g, const NeutronTarget& target, const PartitionOptions& options = {});

// Maximal acyclic groups of the `candidate` nodes (indexed by NodeId), numbered by first node in
// topological order from `first_id`, with their boundaries (step 2 of the algorithm alone, no
// rules). Used to group the ops a program runs as CPU kernel calls.
StatusOr<std::vector<Partition>> group_nodes(const Graph& g, const std::vector<char>& candidate, int first_id = 0);

// One execution unit of the partitioned graph: a partition, or a node left on the CPU.
struct ExecutionUnit {
  bool is_partition = false;
  int index = 0;  // partition id or NodeId
};
// Partitions and CPU nodes in a deterministic topological order of the contracted graph (each
// partition one unit). Errors if contracting the partitions leaves a cycle.
StatusOr<std::vector<ExecutionUnit>> execution_order(const Graph& g, const Partitioning& p);

// The partition as a standalone graph: its inputs are graph inputs, its outputs graph outputs,
// constants shared with `g`. Verified.
StatusOr<Graph> extract_partition(const Graph& g, const Partition& partition);

// Runs layout-nhwc and dce on each partition's subgraph and fills boundary_transposes and
// internal_transposes.
Status analyze_partition_layout(const Graph& g, Partitioning* p);

// Deterministic text of the partitioned graph: CPU nodes as `neutron dump` prints them, each
// partition as a block of its nodes, in execution order; then a summary per partition.
std::string print_partitioned_graph(const Graph& g, const Partitioning& p);

}  // namespace neutron
