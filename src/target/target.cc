#include "target/target.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "core/json.h"

#ifndef NEUTRON_DEFAULT_TARGETS_DIR
#define NEUTRON_DEFAULT_TARGETS_DIR "src/target/targets"
#endif

namespace neutron {

const char* neutron_kind_name(NeutronKind k) { return k == NeutronKind::kNeutronC ? "neutron-c" : "neutron-s"; }
const char* neutron_hw_version_name(NeutronHwVersion v) { return v == NeutronHwVersion::kN1 ? "N1" : "N3"; }

int64_t NeutronTarget::softmax_max_channels() const {
  if (num_pipes <= 0 || num_macs <= 0) return 0;
  const int64_t bound = 4 * 4096 / num_pipes;  // exclusive
  return (bound - 1) / num_macs * num_macs;
}

int64_t NeutronTarget::softmax_max_elements() const { return int64_t(65536) * num_macs; }

const double* NeutronTarget::sim_param(const std::string& n) const {
  for (const auto& p : sim_params)
    if (p.first == n) return &p.second;
  return nullptr;
}

const TargetFieldInfo* NeutronTarget::field(const std::string& n) const {
  for (const auto& f : fields)
    if (f.name == n) return &f;
  return nullptr;
}

namespace {

// Re-serializes a (small) value for TargetFieldInfo::value.
std::string value_text(const JsonValue& v) {
  switch (v.type()) {
    case JsonValue::Type::kNull: return "null";
    case JsonValue::Type::kBool: return v.as_bool() ? "true" : "false";
    case JsonValue::Type::kNumber: {
      if (v.is_integer()) return std::to_string(v.as_int());
      std::ostringstream os;
      os << v.as_number();
      return os.str();
    }
    case JsonValue::Type::kString: return "\"" + v.as_string() + "\"";
    case JsonValue::Type::kArray: {
      std::string r = "[";
      for (size_t i = 0; i < v.as_array().size(); ++i) r += (i ? "," : "") + value_text(v.as_array()[i]);
      return r + "]";
    }
    case JsonValue::Type::kObject: return "{...}";
  }
  return "";
}

// One parameter: its name and how its value is checked and stored.
struct FieldSpec {
  const char* name;
  // Checks the value and stores it; returns a message ("must be a positive integer") or "".
  std::function<std::string(const JsonValue&, NeutronTarget&)> apply;
};

std::function<std::string(const JsonValue&, NeutronTarget&)> integer_at_least(int64_t lo, std::function<void(NeutronTarget&, int64_t)> set) {
  return [lo, set](const JsonValue& v, NeutronTarget& t) -> std::string {
    if (!v.is_integer() || v.as_int() < lo) return str_cat("must be an integer >= ", lo);
    set(t, v.as_int());
    return "";
  };
}

std::function<std::string(const JsonValue&, NeutronTarget&)> number_at_least(double lo, bool strict, std::function<void(NeutronTarget&, double)> set) {
  return [lo, strict, set](const JsonValue& v, NeutronTarget& t) -> std::string {
    if (!v.is_number() || (strict ? !(v.as_number() > lo) : !(v.as_number() >= lo)))
      return str_cat("must be a number ", strict ? "> " : ">= ", lo);
    set(t, v.as_number());
    return "";
  };
}

std::function<std::string(const JsonValue&, NeutronTarget&)> boolean(bool NeutronTarget::*member) {
  return [member](const JsonValue& v, NeutronTarget& t) -> std::string {
    if (!v.is_bool()) return "must be true or false";
    t.*member = v.as_bool();
    return "";
  };
}

std::function<std::string(const JsonValue&, NeutronTarget&)> text(std::string NeutronTarget::*member) {
  return [member](const JsonValue& v, NeutronTarget& t) -> std::string {
    if (!v.is_string() || v.as_string().empty()) return "must be a non-empty string";
    t.*member = v.as_string();
    return "";
  };
}

const std::vector<FieldSpec>& field_specs() {
  static const std::vector<FieldSpec> kSpecs = {
      {"name", text(&NeutronTarget::name)},
      {"description", text(&NeutronTarget::description)},
      {"kind",
       [](const JsonValue& v, NeutronTarget& t) -> std::string {
         if (v.is_string() && v.as_string() == "neutron-c") t.kind = NeutronKind::kNeutronC;
         else if (v.is_string() && v.as_string() == "neutron-s") t.kind = NeutronKind::kNeutronS;
         else return "must be \"neutron-c\" or \"neutron-s\"";
         return "";
       }},
      {"hw_version",
       [](const JsonValue& v, NeutronTarget& t) -> std::string {
         if (v.is_string() && v.as_string() == "N1") t.hw_version = NeutronHwVersion::kN1;
         else if (v.is_string() && v.as_string() == "N3") t.hw_version = NeutronHwVersion::kN3;
         else return "must be \"N1\" or \"N3\"";
         return "";
       }},
      {"num_pipes", integer_at_least(1, [](NeutronTarget& t, int64_t x) { t.num_pipes = int(std::min<int64_t>(x, 1 << 20)); })},
      {"num_macs", integer_at_least(1, [](NeutronTarget& t, int64_t x) { t.num_macs = int(std::min<int64_t>(x, 1 << 20)); })},
      {"clock_mhz", number_at_least(0, true, [](NeutronTarget& t, double x) { t.clock_mhz = x; })},
      {"sram_bytes", integer_at_least(0, [](NeutronTarget& t, int64_t x) { t.sram_bytes = x; })},
      {"flash_bandwidth_mb_s", number_at_least(0, false, [](NeutronTarget& t, double x) { t.flash_bandwidth_mb_s = x; })},
      {"npu_reads_flash", boolean(&NeutronTarget::npu_reads_flash)},
      {"has_tcm", boolean(&NeutronTarget::has_tcm)},
      {"has_data_mover", boolean(&NeutronTarget::has_data_mover)},
      {"has_controller", boolean(&NeutronTarget::has_controller)},
      {"buffer_alignment", integer_at_least(1, [](NeutronTarget& t, int64_t x) { t.buffer_alignment = int(std::min<int64_t>(x, 1 << 20)); })},
      {"max_kernel_size", integer_at_least(1, [](NeutronTarget& t, int64_t x) { t.max_kernel_size = x; })},
      {"max_stride", integer_at_least(1, [](NeutronTarget& t, int64_t x) { t.max_stride = x; })},
      {"max_dilation", integer_at_least(1, [](NeutronTarget& t, int64_t x) { t.max_dilation = x; })},
      {"max_conv_weight_volume", integer_at_least(1, [](NeutronTarget& t, int64_t x) { t.max_conv_weight_volume = x; })},
      {"max_transposed_conv_stride", integer_at_least(1, [](NeutronTarget& t, int64_t x) { t.max_transposed_conv_stride = x; })},
      {"softmax_max_spatial", integer_at_least(1, [](NeutronTarget& t, int64_t x) { t.softmax_max_spatial = x; })},
      {"resize_scales",
       [](const JsonValue& v, NeutronTarget& t) -> std::string {
         const char* msg = "must be a non-empty array of integers >= 1";
         if (!v.is_array() || v.as_array().empty()) return msg;
         t.resize_scales.clear();
         for (const JsonValue& e : v.as_array()) {
           if (!e.is_integer() || e.as_int() < 1) return msg;
           t.resize_scales.push_back(e.as_int());
         }
         return "";
       }},
      {"max_partition_inputs", integer_at_least(1, [](NeutronTarget& t, int64_t x) { t.max_partition_inputs = int(std::min<int64_t>(x, 1 << 20)); })},
      {"max_partition_outputs", integer_at_least(1, [](NeutronTarget& t, int64_t x) { t.max_partition_outputs = int(std::min<int64_t>(x, 1 << 20)); })},
  };
  return kSpecs;
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

StatusOr<NeutronTarget> parse_target(const std::string& json_text, const std::string& file) {
  ASSIGN_OR_RETURN(JsonValue root, parse_json(json_text, file));
  auto at = [&](const JsonValue& v) { return str_cat(file, ":", v.line(), ":", v.column(), ": "); };
  if (!root.is_object())
    return error(Error::InvalidArgument, at(root), "a target description must be a JSON object, got ", root.type_name());

  NeutronTarget t;
  t.file = file;
  const auto& specs = field_specs();
  for (const auto& member : root.as_object()) {
    // Plain references, not a structured binding: C++17 lambdas cannot capture those (clang).
    const std::string& key = member.first;
    const JsonValue& value = member.second;
    if (key == "comment") {
      if (!value.is_string()) return error(Error::InvalidArgument, at(value), "\"comment\" must be a string");
      continue;
    }
    auto spec = std::find_if(specs.begin(), specs.end(), [&](const FieldSpec& s) { return key == s.name; });
    const bool sim_field = key.rfind("sim_", 0) == 0 && key.size() > 4;  // optional timing-model parameter
    if (spec == specs.end() && !sim_field)
      return error(Error::InvalidArgument, at(value), "unknown field \"", key, "\" (a misspelled parameter?)");
    if (!value.is_object())
      return error(Error::InvalidArgument, at(value), "field \"", key,
                   "\" must be an object {\"value\": ..., \"source\": \"...\"} (or \"assumption\" instead of \"source\")");
    const JsonValue* v = value.find("value");
    const JsonValue* source = value.find("source");
    const JsonValue* assumption = value.find("assumption");
    if (!v) return error(Error::InvalidArgument, at(value), "field \"", key, "\" has no \"value\"");
    if ((source != nullptr) == (assumption != nullptr))
      return error(Error::InvalidArgument, at(value), "field \"", key,
                   "\" needs exactly one of \"source\" (where the value comes from) or \"assumption\" (why we chose it)");
    const JsonValue* prov = source ? source : assumption;
    if (!prov->is_string() || prov->as_string().empty())
      return error(Error::InvalidArgument, at(*prov), "field \"", key, "\": \"", source ? "source" : "assumption",
                   "\" must be a non-empty string");
    for (const auto& m : value.as_object())
      if (m.first != "value" && m.first != "source" && m.first != "assumption")
        return error(Error::InvalidArgument, at(m.second), "field \"", key, "\" has an unknown member \"", m.first, "\"");
    const std::string name = key;
    const std::string problem =
        sim_field ? number_at_least(0, false, [&name](NeutronTarget& tt, double x) { tt.sim_params.emplace_back(name, x); })(*v, t)
                  : spec->apply(*v, t);
    if (!problem.empty())
      return error(Error::InvalidArgument, at(*v), "field \"", key, "\" ", problem, ", got ", value_text(*v));
    t.fields.push_back({key, value_text(*v), prov->as_string(), assumption != nullptr});
  }
  for (const FieldSpec& s : specs)
    if (!t.field(s.name))
      return error(Error::InvalidArgument, file, ": missing field \"", s.name, "\"");
  return t;
}

StatusOr<NeutronTarget> load_target_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return error(Error::NotFound, path, ": cannot open target description");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return error(Error::IoError, path, ": read error");
  return parse_target(ss.str(), path);
}

std::string targets_dir() {
  const char* env = std::getenv("NEUTRON_TARGETS_DIR");
  if (env && *env) return env;
  return NEUTRON_DEFAULT_TARGETS_DIR;
}

std::vector<std::string> list_targets(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = ::readdir(d)) {
    const std::string f = e->d_name;
    if (f.size() > 5 && f.compare(f.size() - 5, 5, ".json") == 0 && file_exists(dir + "/" + f))
      names.push_back(f.substr(0, f.size() - 5));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

StatusOr<NeutronTarget> load_target(const std::string& name_or_path) {
  const bool is_path = name_or_path.find('/') != std::string::npos ||
                       (name_or_path.size() > 5 && name_or_path.compare(name_or_path.size() - 5, 5, ".json") == 0);
  if (is_path) return load_target_file(name_or_path);
  const std::string dir = targets_dir();
  const std::string path = dir + "/" + name_or_path + ".json";
  if (name_or_path.empty() || !file_exists(path)) {
    std::string known;
    for (const auto& n : list_targets(dir)) known += (known.empty() ? "" : ", ") + n;
    return error(Error::NotFound, "unknown target '", name_or_path, "'; known targets: ",
                 known.empty() ? "(none)" : known, " (in ", dir, "; a path to a .json file also works)");
  }
  ASSIGN_OR_RETURN(NeutronTarget t, load_target_file(path));
  if (t.name != name_or_path)
    return error(Error::InvalidArgument, path, ": field \"name\" is \"", t.name, "\" but the file is named '",
                 name_or_path, ".json'");
  return t;
}

}  // namespace neutron
