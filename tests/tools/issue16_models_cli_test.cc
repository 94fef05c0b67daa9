// Issue 16's networks as a new user runs them (fixtures/<name>/ from scripts/make_fixtures.py):
// quantize with calib.npy, compile for imxrt700 and for the CPU, run every sample through both
// programs and the quantized ONNX model on the host. All MACs on the NPU, the three outputs
// identical, and close to torch's float outputs (ref_f32.npy).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/npy.h"
#include "util/cli.h"

namespace neutron::testing {
namespace {

std::string fixture(const std::string& model, const std::string& file) {
  return std::string(NEUTRON_FIXTURES_DIR) + "/" + model + "/" + file;
}

TensorData load(const std::string& path) {
  auto r = read_npy(path);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? std::move(r).value() : TensorData();
}

double sqnr(const float* ref, const float* got, int64_t n, int64_t stride = 1, int64_t offset = 0, int64_t width = 1) {
  double s = 0, e = 0;
  for (int64_t i = 0; i < n; ++i) {
    if ((i % stride) < offset || (i % stride) >= offset + width) continue;
    s += double(ref[i]) * ref[i];
    e += (double(ref[i]) - got[i]) * (double(ref[i]) - got[i]);
  }
  return e > 0 ? 10 * std::log10(s / e) : 200.0;
}

// Returns the int8-vs-float SQNR over all samples; `boxes` (ssd_head): the SQNR of the first 4
// values of every row of the last axis.
void check_model(const std::string& name, double min_sqnr, double min_box_sqnr = 0) {
  SCOPED_TRACE(name);
  const std::string dir = make_temp_dir("issue16_" + name + "_");
  const std::string q = dir + "/q.onnx", npu = dir + "/npu.nprg", cpu = dir + "/cpu.nprg";
  CommandResult r = run_cli("quantize " + fixture(name, "model_f32.onnx") + " --calib " + fixture(name, "calib.npy") +
                            " -o " + q);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_cli("compile " + q + " --target imxrt700 -o " + npu);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const size_t at = r.output.find("MACs on the NPU: ");
  ASSERT_NE(at, std::string::npos) << r.output;
  long long on = 0, all = 0;
  ASSERT_EQ(std::sscanf(r.output.c_str() + at, "MACs on the NPU: %lld of %lld", &on, &all), 2);
  EXPECT_EQ(on, all) << r.output;
  r = run_cli("compile " + q + " --target cpu -o " + cpu);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const TensorData inputs = load(fixture(name, "inputs.npy"));
  const TensorData ref = load(fixture(name, "ref_f32.npy"));
  ASSERT_FALSE(inputs.shape.empty());
  const int64_t samples = inputs.shape[0];
  const int64_t per_out = ref.count() / samples;
  std::vector<float> got(size_t(ref.count()));
  for (int64_t s = 0; s < samples; ++s) {
    Shape xs = inputs.shape;
    xs[0] = 1;
    TensorData x(inputs.dtype, xs);
    std::memcpy(x.bytes.data(), inputs.bytes.data() + size_t(s) * x.bytes.size(), x.bytes.size());
    ASSERT_TRUE(write_npy(dir + "/x.npy", x).ok());
    std::string outs[3];
    const std::string models[3] = {npu, cpu, q};
    for (int k = 0; k < 3; ++k) {
      const std::string od = dir + "/out" + std::to_string(k);
      r = run_cli("run " + models[k] + " -i " + dir + "/x.npy -o " + od);
      ASSERT_EQ(r.exit_code, 0) << r.output;
      outs[k] = read_file(od + "/output_0.npy");
      ASSERT_FALSE(outs[k].empty()) << od;
    }
    EXPECT_EQ(outs[0], outs[1]) << "NPU program and CPU program differ on sample " << s;
    EXPECT_EQ(outs[0], outs[2]) << "NPU program and the host's int8 run differ on sample " << s;
    const TensorData y = load(dir + "/out0/output_0.npy");
    ASSERT_EQ(y.count(), per_out);
    std::memcpy(got.data() + s * per_out, y.bytes.data(), size_t(per_out) * sizeof(float));
  }
  const double all_sqnr = sqnr(ref.data<float>(), got.data(), ref.count());
  std::printf("%s: int8 vs float SQNR %.1f dB\n", name.c_str(), all_sqnr);
  EXPECT_GE(all_sqnr, min_sqnr);
  if (min_box_sqnr > 0) {
    const int64_t width = ref.shape.back();
    const double box = sqnr(ref.data<float>(), got.data(), ref.count(), width, 0, 4);
    std::printf("%s: box SQNR %.1f dB\n", name.c_str(), box);
    EXPECT_GE(box, min_box_sqnr);
  }
}

TEST(Issue16Models, UNetWithConvTranspose2d) { check_model("unet_small", 25); }
TEST(Issue16Models, VocoderWithConvTranspose1dStride4) { check_model("vocoder_1d", 25); }
TEST(Issue16Models, FaceEmbedderWithPReluAndNormalize) { check_model("face_embedder", 13); }
TEST(Issue16Models, SsdHeadWithSigmoidInTheConcat) { check_model("ssd_head", 25, 17); }
TEST(Issue16Models, GruKeywordSpotter) { check_model("gru_kws", 25); }
TEST(Issue16Models, LstmKeywordSpotter) { check_model("lstm_kws", 25); }

}  // namespace
}  // namespace neutron::testing
