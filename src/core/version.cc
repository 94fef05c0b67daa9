#include "core/version.h"

#ifndef NEUTRON_VERSION
#error "NEUTRON_VERSION is set by src/CMakeLists.txt from the project version"
#endif

namespace neutron {

const char* tool_version() { return NEUTRON_VERSION; }

}  // namespace neutron
