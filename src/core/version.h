// The tool's version (CMake's project version): `neutron --version`, every JSON document we write
// and the producer_version of the ONNX files we write.
#pragma once

namespace neutron {

const char* tool_version();  // "0.4.0"

}  // namespace neutron
