#!/usr/bin/env python3
"""firmware_qemu_cifarnet: compile CifarNet for imxrt700 on the host, run the program on the host
(`neutron run`) and on the Cortex-M33 firmware under QEMU mps2-an505 (scripts/firmware.sh, image
neutron_fw_runner), and require bit-identical outputs. The firmware reads the weights in place from
the program (flash), so its arena must be the compile-time plan (`neutron inspect`) plus the small
runtime state it reports.

usage: qemu_program.py NEUTRON FIRMWARE_SH BUILD_DIR FIXTURES_DIR [SAMPLES]
"""
import json
import re
import subprocess
import sys

import numpy as np


def main():
    neutron, firmware_sh, build_dir, fixtures = sys.argv[1:5]
    samples = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    work = build_dir + "/cifarnet"
    subprocess.run(["mkdir", "-p", work], check=True)
    program = work + "/cifarnet.nprg"
    subprocess.run([neutron, "compile", fixtures + "/cifarnet/model_int8.onnx", "--target", "imxrt700", "-o", program],
                   check=True, stdout=subprocess.DEVNULL)
    x = np.ascontiguousarray(np.load(fixtures + "/cifarnet/inputs.npy")[:samples].astype("<f4"))
    np.save(work + "/inputs.npy", x)
    with open(work + "/inputs.bin", "wb") as f:
        f.write(x.tobytes())
    subprocess.run([neutron, "run", program, "-i", work + "/inputs.npy", "-o", work + "/host"], check=True,
                   stdout=subprocess.DEVNULL)
    host = np.load(work + "/host/output_0.npy").astype("<f4")

    fw = subprocess.run([firmware_sh, build_dir, "--program", program, "--input", work + "/inputs.bin",
                         "--elf", "neutron_fw_runner", "--timeout", "120"], stdout=subprocess.PIPE, text=True)
    print(fw.stdout)
    if fw.returncode != 0:
        print("FAIL: firmware exited %d" % fw.returncode)
        return 1
    got = {}
    for line in fw.stdout.splitlines():
        m = re.match(r"output 0 sample (\d+):((?: 0x[0-9a-f]+)+)$", line)
        if m:
            got[int(m.group(1))] = [int(w, 16) for w in m.group(2).split()]
    if sorted(got) != list(range(samples)):
        print("FAIL: expected outputs for samples 0..%d, got %s" % (samples - 1, sorted(got)))
        return 1
    bits = host.reshape(samples, -1).view("<u4")
    for k in range(samples):
        if list(bits[k]) != got[k]:
            print("FAIL: sample %d differs:\n  host     %s\n  firmware %s" %
                  (k, [hex(v) for v in bits[k]], [hex(v) for v in got[k]]))
            return 1
    subprocess.run([neutron, "inspect", program, "--json", work + "/inspect.json"], check=True, stdout=subprocess.DEVNULL)
    with open(work + "/inspect.json") as f:
        host_plan = json.load(f)["memory_plan"]["arena_bytes"]
    m = re.search(r"^memory: plan (\d+) runtime state (\d+) arena (\d+)$", fw.stdout, re.M)
    u = re.search(r"arena used (\d+) bytes", fw.stdout)
    if not m or not u:
        print("FAIL: the firmware did not report its memory figures")
        return 1
    plan, state, arena, used = int(m.group(1)), int(m.group(2)), int(m.group(3)), int(u.group(1))
    print("firmware arena: plan %d + runtime state %d = %d bytes (used %d); compile-time plan %d" %
          (plan, state, arena, used, host_plan))
    if plan != host_plan or arena != plan + state or used > arena or arena - used > 1024:
        print("FAIL: the firmware's arena is not the compile-time plan plus its runtime state")
        return 1
    if state > max(plan // 10, 64 * 1024):
        print("FAIL: runtime state %d bytes is not small next to the plan (%d bytes)" % (state, plan))
        return 1
    print("firmware_qemu_cifarnet: %d samples bit-identical to the host runtime" % samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
