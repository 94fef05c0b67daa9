// Exit-code self-test firmware: main returns 7, so QEMU (and scripts/firmware.sh) must exit 7.
// tests/firmware checks that a failing main fails the script.
#include "mps2_an505/board.h"

int main() {
  board_print("exit-code self-test: main returns 7\n");
  return 7;
}
