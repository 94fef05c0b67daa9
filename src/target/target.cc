#include "target/target.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "core/json.h"
#include "core/read_file.h"

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

// Every numeric field has a plausible range: absurd values (a 2^63 MHz clock, a zero or negative
// size) are errors here rather than overflows in the timing model or the compiler's arithmetic.
constexpr int64_t kInt32Max = 2147483647;

std::function<std::string(const JsonValue&, NeutronTarget&)> integer_in(int64_t lo, int64_t hi, std::function<void(NeutronTarget&, int64_t)> set) {
  return [lo, hi, set](const JsonValue& v, NeutronTarget& t) -> std::string {
    if (!v.is_integer() || v.as_int() < lo || v.as_int() > hi) return str_cat("must be an integer from ", lo, " to ", hi);
    set(t, v.as_int());
    return "";
  };
}

// A number in (lo, hi] (`strict`) or [lo, hi].
std::function<std::string(const JsonValue&, NeutronTarget&)> number_in(double lo, double hi, bool strict, std::function<void(NeutronTarget&, double)> set) {
  return [lo, hi, strict, set](const JsonValue& v, NeutronTarget& t) -> std::string {
    const double x = v.as_number();
    if (!v.is_number() || !(strict ? x > lo : x >= lo) || !(x <= hi))
      return str_cat("must be a number ", strict ? "above " : "from ", lo, strict ? " and at most " : " to ", hi);
    set(t, x);
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
      {"num_pipes", integer_in(1, 1024, [](NeutronTarget& t, int64_t x) { t.num_pipes = int(x); })},
      {"num_macs", integer_in(1, 1024, [](NeutronTarget& t, int64_t x) { t.num_macs = int(x); })},
      {"clock_mhz", number_in(0, 100000, true, [](NeutronTarget& t, double x) { t.clock_mhz = x; })},
      {"sram_bytes", integer_in(1024, int64_t(1) << 40, [](NeutronTarget& t, int64_t x) { t.sram_bytes = x; })},
      {"flash_bandwidth_mb_s",  // 0: no flash on the NPU's path (the timing model refuses weights in flash then)
       [](const JsonValue& v, NeutronTarget& t) -> std::string {
         const double x = v.as_number();
         if (!v.is_number() || !(x == 0 || (x >= 0.001 && x <= 1e7))) return "must be 0 (no flash) or a number from 0.001 to 1e+07";
         t.flash_bandwidth_mb_s = x;
         return "";
       }},
      {"npu_reads_flash", boolean(&NeutronTarget::npu_reads_flash)},
      {"has_tcm", boolean(&NeutronTarget::has_tcm)},
      {"has_data_mover", boolean(&NeutronTarget::has_data_mover)},
      {"has_controller", boolean(&NeutronTarget::has_controller)},
      {"buffer_alignment",
       [](const JsonValue& v, NeutronTarget& t) -> std::string {
         const int64_t x = v.as_int();
         if (!v.is_integer() || x < 1 || x > 4096 || (x & (x - 1)) != 0) return "must be a power of two from 1 to 4096";
         t.buffer_alignment = int(x);
         return "";
       }},
      {"max_kernel_size", integer_in(1, kInt32Max, [](NeutronTarget& t, int64_t x) { t.max_kernel_size = x; })},
      {"max_stride", integer_in(1, kInt32Max, [](NeutronTarget& t, int64_t x) { t.max_stride = x; })},
      {"max_dilation", integer_in(1, kInt32Max, [](NeutronTarget& t, int64_t x) { t.max_dilation = x; })},
      {"max_conv_weight_volume", integer_in(1, kInt32Max, [](NeutronTarget& t, int64_t x) { t.max_conv_weight_volume = x; })},
      {"max_transposed_conv_stride", integer_in(1, kInt32Max, [](NeutronTarget& t, int64_t x) { t.max_transposed_conv_stride = x; })},
      {"softmax_max_spatial", integer_in(1, kInt32Max, [](NeutronTarget& t, int64_t x) { t.softmax_max_spatial = x; })},
      {"resize_scales",
       [](const JsonValue& v, NeutronTarget& t) -> std::string {
         const char* msg = "must be a non-empty array of integers from 1 to 1024";
         if (!v.is_array() || v.as_array().empty()) return msg;
         t.resize_scales.clear();
         for (const JsonValue& e : v.as_array()) {
           if (!e.is_integer() || e.as_int() < 1 || e.as_int() > 1024) return msg;
           t.resize_scales.push_back(e.as_int());
         }
         return "";
       }},
      // The delegate payload header stores these counts in one byte.
      {"max_partition_inputs", integer_in(1, 255, [](NeutronTarget& t, int64_t x) { t.max_partition_inputs = int(x); })},
      {"max_partition_outputs", integer_in(1, 255, [](NeutronTarget& t, int64_t x) { t.max_partition_outputs = int(x); })},
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
  for (const auto& [key, value] : root.as_object()) {
    if (key == "comment") {
      if (!value.is_string()) return error(Error::InvalidArgument, at(value), "\"comment\" must be a string");
      continue;
    }
    const std::string& field = key;  // a structured binding cannot be captured by a lambda in C++17 (clang)
    auto spec = std::find_if(specs.begin(), specs.end(), [&field](const FieldSpec& s) { return field == s.name; });
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
        // sim_*: a generic bound here; src/sim/sim_config_target.cc checks each one's own range.
        sim_field ? number_in(0, 1e9, false, [&name](NeutronTarget& tt, double x) { tt.sim_params.emplace_back(name, x); })(*v, t)
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
  ASSIGN_OR_RETURN(std::string text, read_file(path));
  return parse_target(text, path);
}

std::string targets_dir() {
  const char* env = std::getenv("NEUTRON_TARGETS_DIR");
  return env ? env : "";
}

std::vector<std::string> list_targets(const std::string& dir) {
  std::vector<std::string> names;
  if (dir.empty()) {
    for (const BuiltinTarget& b : builtin_targets()) names.push_back(b.name);
    std::sort(names.begin(), names.end());
    return names;
  }
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

namespace {

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// A folder given as --target: the one target description in it.
StatusOr<NeutronTarget> load_target_folder(const std::string& dir) {
  const std::vector<std::string> names = list_targets(dir);
  if (names.size() != 1) {
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    std::string d = dir;
    while (d.size() > 1 && d.back() == '/') d.pop_back();
    return error(Error::InvalidArgument, d, " is a directory with ", names.size(), " target files (",
                 known.empty() ? "none" : known, "); a target folder must hold exactly one, else name the file: ", d,
                 "/NAME.json");
  }
  return load_target_file(dir + "/" + names[0] + ".json");
}

}  // namespace

StatusOr<NeutronTarget> load_target(const std::string& name_or_path) {
  const bool is_path = name_or_path.find('/') != std::string::npos ||
                       (name_or_path.size() > 5 && name_or_path.compare(name_or_path.size() - 5, 5, ".json") == 0);
  if (is_path) return is_directory(name_or_path) ? load_target_folder(name_or_path) : load_target_file(name_or_path);
  const std::string dir = targets_dir();
  auto unknown = [&] {
    std::string known;
    for (const auto& n : list_targets(dir)) known += (known.empty() ? "" : ", ") + n;
    return error(Error::NotFound, "unknown target '", name_or_path, "'; known targets: ", known.empty() ? "(none)" : known,
                 dir.empty() ? std::string(" (built in") : " (in $NEUTRON_TARGETS_DIR " + dir,
                 "; a path to a .json file also works)");
  };
  std::string path;
  StatusOr<NeutronTarget> t = Status::OK();
  if (dir.empty()) {
    const auto& b = builtin_targets();
    auto it = std::find_if(b.begin(), b.end(), [&](const BuiltinTarget& x) { return name_or_path == x.name; });
    if (it == b.end()) return unknown();
    path = "built-in " + name_or_path + ".json";
    t = parse_target(std::string(it->text, it->size), path);
  } else {
    path = dir + "/" + name_or_path + ".json";
    if (name_or_path.empty() || !file_exists(path)) return unknown();
    t = load_target_file(path);
  }
  if (!t.ok()) return t.status();
  if (t->name != name_or_path)
    return error(Error::InvalidArgument, path, ": field \"name\" is \"", t->name, "\" but the file is named '",
                 name_or_path, ".json'");
  return t;
}

}  // namespace neutron
