// Seed helper for payload_fuzz: writes the Neutron delegate payloads of a program file, one file
// each (OUTDIR/PREFIX-<instruction>.payload). Usage: extract_payloads PROGRAM.nprg OUTDIR PREFIX
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "program/program_format.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: extract_payloads PROGRAM.nprg OUTDIR PREFIX\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  if (bytes.empty() || !neutron::fb::VerifyProgramBuffer(verifier)) {
    std::fprintf(stderr, "extract_payloads: %s is not a program file\n", argv[1]);
    return 1;
  }
  const neutron::fb::Program* p = neutron::fb::GetProgram(bytes.data());
  int written = 0;
  for (uint32_t k = 0; p->instructions() && k < p->instructions()->size(); ++k) {
    const neutron::fb::DelegateCall* d = p->instructions()->Get(k)->op_as_DelegateCall();
    if (d == nullptr || p->payloads() == nullptr || d->payload() >= p->payloads()->size()) continue;
    const flatbuffers::Vector<uint8_t>* data = p->payloads()->Get(d->payload())->data();
    if (data == nullptr) continue;
    const std::string path = std::string(argv[2]) + "/" + argv[3] + "-" + std::to_string(k) + ".payload";
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data->data()), std::streamsize(data->size()));
    out.close();
    if (!out) {
      std::fprintf(stderr, "extract_payloads: cannot write %s\n", path.c_str());
      return 1;
    }
    ++written;
  }
  std::printf("%d payloads\n", written);
  return 0;
}
