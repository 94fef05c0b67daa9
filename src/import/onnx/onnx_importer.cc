// STUB: replaced by the real importer.
#include "import/onnx/onnx_importer.h"

namespace neutron {

StatusOr<Graph> import_onnx_bytes(const std::string& bytes, const std::string& name, const OnnxImportOptions&) {
  return error(Error::NotSupported, name, ": ONNX import not implemented yet");
}
StatusOr<Graph> import_onnx_file(const std::string& path, const OnnxImportOptions& options) {
  return import_onnx_bytes("", path, options);
}

}  // namespace neutron
