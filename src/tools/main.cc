// STUB CLI.
#include <cstdio>
int main() {
  std::fprintf(stderr, "neutron: not implemented yet\n");
  return 1;
}
