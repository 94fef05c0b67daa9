#!/usr/bin/env python3
"""Firmware size report: per library (static archive) and per image (link map).

  size_report.py --size arm-none-eabi-size --lib NAME=lib.a ... [--image NAME=image.map ...]
                 --txt OUT.txt --json OUT.json

Library columns sum the sections of every object in the archive (SysV `size -A`): text = .text*,
rodata = .rodata* (+ .ARM.exidx/extab), data = .data*, bss = .bss* + COMMON. This is the cost of
the whole library, each function counted once, before --gc-sections drops what an image does not
call. Image columns come from the link map: the input sections each archive contributed to the
ELF after --gc-sections, grouped the same way; toolchain archives (libc_nano.a, libm.a, libgcc.a) by name and the
image's own objects (main.cc ...) as "objects (main...)".
"""
import argparse
import json
import os
import re
import subprocess
import sys

KINDS = ("text", "rodata", "data", "bss")


def kind_of(section):
    if section.startswith(".text") or section in (".glue_7", ".glue_7t", ".vfp11_veneer", ".v4_bx", ".vectors"):
        return "text"
    if section.startswith(".rodata") or section.startswith(".ARM.ex") or section.startswith(".neutron_blobs"):
        return "rodata"
    if section.startswith(".data") or section in (".init_array", ".preinit_array", ".fini_array"):
        return "data" if section.startswith(".data") else "rodata"
    if section.startswith(".bss") or section == "COMMON":
        return "bss"
    return None


def archive_sizes(size_tool, path):
    out = subprocess.run([size_tool, "-A", path], check=True, capture_output=True, text=True).stdout
    total = dict.fromkeys(KINDS, 0)
    objects = {}
    current = None
    for line in out.splitlines():
        m = re.match(r"^(\S+)\s+\(ex (.+)\):$", line)
        if m:
            current = os.path.basename(m.group(1))
            objects[current] = dict.fromkeys(KINDS, 0)
            continue
        parts = line.split()
        if current is None or len(parts) < 3 or not parts[1].isdigit():
            continue
        k = kind_of(parts[0])
        if k:
            objects[current][k] += int(parts[1])
            total[k] += int(parts[1])
    return total, objects


def map_contributions(map_path, lib_files):
    """Sums the input sections of the link map by contributing archive (basename)."""
    text = open(map_path, encoding="utf-8", errors="replace").read()
    start = text.find("Linker script and memory map")
    body = text[start:] if start >= 0 else text
    by_lib = {}
    pending = None  # a section name whose address/size/file moved to the next line
    rx = re.compile(r"^\s(\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
    for line in body.splitlines():
        if line.startswith(" ") and not line.startswith("  ") and len(line.split()) == 1:
            pending = line.split()[0]
            continue
        m = rx.match(line)
        if not m:
            pending = None
            continue
        name = m.group(1) or pending
        pending = None
        if name is None or name.startswith("*"):
            continue
        k = kind_of(name)
        if k is None:
            continue
        size = int(m.group(3), 16)
        addr = int(m.group(2), 16)
        if size == 0 or addr == 0:
            continue
        src = m.group(4).strip()
        lib = "objects (main...)"
        am = re.match(r"^(.*\.a)\(", src)
        if am:
            base = os.path.basename(am.group(1))
            lib = lib_files.get(base, base)  # a project library, or libc_nano.a, libm.a, libgcc.a
        entry = by_lib.setdefault(lib, dict.fromkeys(KINDS, 0))
        entry[k] += size
    return by_lib


def row(name, s):
    return f"{name:<22}{s['text']:>10}{s['rodata']:>10}{s['data']:>8}{s['bss']:>10}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", required=True)
    ap.add_argument("--lib", action="append", default=[])
    ap.add_argument("--image", action="append", default=[])
    ap.add_argument("--txt", required=True)
    ap.add_argument("--json", required=True)
    args = ap.parse_args()

    report = {"libraries": {}, "groups": {}, "images": {}}
    lib_files = {}
    for spec in args.lib:
        name, path = spec.split("=", 1)
        total, objects = archive_sizes(args.size, path)
        report["libraries"][name] = {"total": total, "objects": objects}
        lib_files[os.path.basename(path)] = name
    groups = {
        "runtime": ["neutron_fw_runtime"],
        "kernels": ["neutron_fw_kernels"],
        "sim+driver+npu reader": ["neutron_fw_kernel_calls", "neutron_fw_sim", "neutron_fw_driver", "neutron_fw_npu"],
        "board": ["neutron_fw_board"],
    }
    for g, members in groups.items():
        s = dict.fromkeys(KINDS, 0)
        for lib in members:
            for k in KINDS:
                s[k] += report["libraries"].get(lib, {"total": dict.fromkeys(KINDS, 0)})["total"][k]
        report["groups"][g] = s
    for spec in args.image:
        name, path = spec.split("=", 1)
        if os.path.exists(path):
            report["images"][name] = map_contributions(path, lib_files)

    lines = ["Firmware sizes in bytes (arm-none-eabi, Cortex-M33; text = code, rodata = constants)", ""]
    header = f"{'library':<22}{'.text':>10}{'.rodata':>10}{'.data':>8}{'.bss':>10}"
    lines += ["Libraries (every object in the archive, before --gc-sections):", header]
    for name, lib in report["libraries"].items():
        lines.append(row(name, lib["total"]))
    lines += ["", "Groups:", header]
    for g, s in report["groups"].items():
        lines.append(row(g, s))
    for name, by_lib in report["images"].items():
        lines += ["", f"Linked into {name}.elf (after --gc-sections):", header]
        total = dict.fromkeys(KINDS, 0)
        for lib in sorted(by_lib):
            lines.append(row(lib, by_lib[lib]))
            for k in KINDS:
                total[k] += by_lib[lib][k]
        lines.append(row("total", total))
    text = "\n".join(lines) + "\n"
    with open(args.txt, "w") as f:
        f.write(text)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
