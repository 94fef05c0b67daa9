// Host twin of the firmware placeholder: runs the same smoke workload (firmware/smoke.cc) with the
// host build of the kernels and prints the line the firmware must print ("smoke checksum=0x...").
#include <cstdio>

#include "smoke.h"

int main() {
  const neutron::fw::SmokeResult r = neutron::fw::run_smoke();
  if (r.error != nullptr) {
    std::fprintf(stderr, "smoke error: %s\n", r.error);
    return 1;
  }
  std::printf("smoke checksum=0x%08x\n", static_cast<unsigned>(r.checksum));
  return 0;
}
