// Microcode writer and reader: round trip, determinism, and rejection of corrupted or truncated
// microcode (every truncation, targeted corruptions, random byte flips that must never crash).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "npu/microcode_reader.h"
#include "npu/microcode_writer.h"

namespace neutron::npu {
namespace {

// A small program: conv -> table -> elementwise add, prefetch of the conv's weights.
MicrocodeWriter sample_writer() {
  MicrocodeWriter w;
  const uint32_t in = w.add_tensor(Region::kInput, 0, 0, ElemType::kInt8, {1, 6, 6, 3}, -5);
  const uint32_t mid = w.add_tensor(Region::kScratch, 0, 0, ElemType::kInt8, {1, 6, 6, 8}, 3);
  const uint32_t mid2 = w.add_tensor(Region::kScratch, 0, 288, ElemType::kInt8, {1, 6, 6, 8}, 3);
  const uint32_t out = w.add_tensor(Region::kOutput, 0, 0, ElemType::kInt8, {1, 6, 6, 8}, 0);
  std::vector<int8_t> weights(8 * 3 * 3 * 8, 1);
  ConvArgs c{};
  c.input = in;
  c.output = mid;
  c.weights_offset = w.add_weights(weights);
  c.bias_offset = w.add_weights(std::vector<int32_t>(8, 7));
  std::vector<int32_t> mult;
  for (int i = 0; i < 8; ++i) {
    mult.push_back(1 << 30);
    mult.push_back(12);
  }
  c.multipliers_offset = w.add_weights(mult);
  c.kernel_h = c.kernel_w = 3;
  c.stride_h = c.stride_w = c.dilation_h = c.dilation_w = 1;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
  c.groups = 1;
  c.in_c_padded = 8;
  c.out_c_padded = 8;
  c.act_min = -128;
  c.act_max = 127;
  PrefetchArgs p{c.weights_offset, uint32_t(weights.size()), 0, 0};
  w.append(Opcode::kPrefetch, p);
  w.append(Opcode::kWaitPrefetch, WaitPrefetchArgs{0});
  w.append(Opcode::kConv2D, c);
  std::vector<int8_t> table(256);
  for (int i = 0; i < 256; ++i) table[size_t(i)] = int8_t(i - 128);
  TableArgs t{mid, mid2, w.add_weights(table)};
  w.append(Opcode::kTable, t);
  ElementwiseArgs e{};
  e.a = mid;
  e.b = mid2;
  e.output = out;
  e.op = int32_t(ElementwiseOp::kAdd);
  e.multiplier_a = 1 << 30;
  e.multiplier_b = 1 << 30;
  e.shift = 31;
  e.act_min = -128;
  e.act_max = 127;
  w.append(Opcode::kElementwise, e);
  w.set_scratch_size(576);
  w.set_sram_scratch_size(1024);
  w.set_num_inputs(1);
  w.set_num_outputs(1);
  return w;
}

MicrocodeImage sample_image() {
  auto img = sample_writer().finish();
  EXPECT_TRUE(img.ok()) << img.status().to_string();
  return std::move(img).value();
}

uint32_t word(const std::vector<uint8_t>& mc, int i) {
  uint32_t v;
  std::memcpy(&v, mc.data() + 4 * i, 4);
  return v;
}
void set_word(std::vector<uint8_t>& mc, int i, uint32_t v) { std::memcpy(mc.data() + 4 * i, &v, 4); }

ValidationResult validate(const MicrocodeImage& img) {
  MicrocodeView v;
  return validate_microcode(img.microcode.data(), img.microcode.size(), img.weights.size(), &v);
}

TEST(MicrocodeWriter, RoundTrip) {
  const MicrocodeImage img = sample_image();
  MicrocodeView v;
  const ValidationResult r = validate_microcode(img.microcode.data(), img.microcode.size(), img.weights.size(), &v);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(v.word(kWordMagic), kMicrocodeMagic);
  EXPECT_EQ(v.word(kWordFormatVersion), kMicrocodeFormatVersion);
  EXPECT_EQ(v.num_tensors(), 4u);
  EXPECT_EQ(v.num_instructions(), 5u);
  EXPECT_EQ(v.size, img.microcode.size());
  EXPECT_EQ(img.microcode.size() % 16, 0u);
  EXPECT_EQ(v.weights_size(), img.weights.size());
  EXPECT_EQ(img.weights.size() % 16, 0u);
  EXPECT_EQ(v.scratch_size(), 576u);
  EXPECT_EQ(v.sram_scratch_size(), 1024u);
  EXPECT_EQ(v.num_inputs(), 1u);
  EXPECT_EQ(v.num_outputs(), 1u);
  const TensorDesc t0 = v.tensor(0);
  EXPECT_EQ(t0.region, uint8_t(Region::kInput));
  EXPECT_EQ(t0.size, 108u);
  EXPECT_EQ(t0.zero_point, -5);
  EXPECT_EQ(t0.dims[3], 3);

  InstructionCursor cur(v);
  Instruction inst;
  std::vector<Opcode> ops;
  while (cur.next(&inst)) {
    ops.push_back(inst.opcode);
    EXPECT_EQ(inst.arg_words, expected_arg_words(uint16_t(inst.opcode)));
    if (inst.opcode == Opcode::kConv2D) {
      const ConvArgs c = inst.as<ConvArgs>();
      EXPECT_EQ(c.kernel_h, 3);
      EXPECT_EQ(c.in_c_padded, 8);
      EXPECT_EQ(c.weights_offset % 16, 0u);
      EXPECT_EQ(c.bias_offset % 16, 0u);
    }
  }
  EXPECT_EQ(ops, (std::vector<Opcode>{Opcode::kPrefetch, Opcode::kWaitPrefetch, Opcode::kConv2D, Opcode::kTable,
                                      Opcode::kElementwise}));
  EXPECT_NE(dump_microcode(img.microcode.data(), img.microcode.size()).find("conv2d"), std::string::npos);
}

TEST(MicrocodeWriter, Deterministic) {
  const MicrocodeImage a = sample_image(), b = sample_image();
  EXPECT_EQ(a.microcode, b.microcode);
  EXPECT_EQ(a.weights, b.weights);
}

TEST(MicrocodeWriter, WeightsAlignmentAndPadding) {
  MicrocodeWriter w;
  EXPECT_EQ(w.add_weights("abc", 3), 0u);
  EXPECT_EQ(w.add_weights("d", 1), 16u);
  EXPECT_EQ(w.add_weights("e", 1, 64), 64u);
  const uint32_t r = w.reserve_weights(5);
  EXPECT_EQ(r, 80u);
  w.weights_at(r)[4] = 9;
  auto img = w.finish();
  ASSERT_TRUE(img.ok()) << img.status().to_string();
  EXPECT_EQ(img->weights.size(), 96u);
  EXPECT_EQ(img->weights[3], 0);
  EXPECT_EQ(img->weights[16], 'd');
  EXPECT_EQ(img->weights[84], 9);
}

TEST(MicrocodeWriter, RejectsArgsOfTheWrongSize) {
  MicrocodeWriter w;
  w.append(Opcode::kConv2D, TableArgs{0, 0, 0});
  auto img = w.finish();
  ASSERT_FALSE(img.ok());
  EXPECT_NE(img.status().message().find("conv2d"), std::string::npos) << img.status().message();
}

TEST(MicrocodeWriter, FinishValidates) {
  MicrocodeWriter w;
  w.add_tensor(Region::kScratch, 0, 0, ElemType::kInt8, {1, 2, 2, 2});  // scratch size is 0
  auto img = w.finish();
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.status().code(), Error::InvalidModel);
  EXPECT_NE(img.status().message().find("tensor 0"), std::string::npos) << img.status().message();
}

TEST(MicrocodeReader, BadMagicAndVersionAreInvalidProgram) {
  MicrocodeImage img = sample_image();
  set_word(img.microcode, kWordMagic, 0x12345678);
  EXPECT_EQ(validate(img).error, Error::InvalidProgram);
  img = sample_image();
  set_word(img.microcode, kWordFormatVersion, 2);
  EXPECT_EQ(validate(img).error, Error::InvalidProgram);
  EXPECT_STREQ(validate(img).message, "unsupported microcode format version");
}

TEST(MicrocodeReader, EveryTruncationIsRejected) {
  const MicrocodeImage img = sample_image();
  for (size_t n = 0; n < img.microcode.size(); ++n) {
    MicrocodeView v;
    // A copy of exactly n bytes, so ASan sees any read past the end.
    std::vector<uint8_t> cut(img.microcode.begin(), img.microcode.begin() + long(n));
    EXPECT_FALSE(validate_microcode(cut.data(), cut.size(), img.weights.size(), &v).ok()) << n;
  }
  MicrocodeView v;
  EXPECT_FALSE(validate_microcode(img.microcode.data(), img.microcode.size(), img.weights.size() - 16, &v).ok());
  EXPECT_EQ(validate_microcode(nullptr, 0, 0, &v).error, Error::InvalidArgument);
}

TEST(MicrocodeReader, TargetedCorruptions) {
  const MicrocodeImage base = sample_image();
  const uint32_t table = word(base.microcode, kWordTensorTableOffset);
  const uint32_t code = word(base.microcode, kWordInstructionsOffset);
  struct Mod {
    const char* what;
    size_t offset;
    uint32_t value;
    int width;            // bytes written
    const char* message;  // expected message, or null: any error
  };
  const Mod mods[] = {
      {"size beyond buffer", 4 * kWordMicrocodeSize, 1 << 20, 4, "microcode size exceeds the buffer"},
      {"size below header", 4 * kWordMicrocodeSize, 8, 4, "microcode size below header size"},
      {"weights size", 4 * kWordWeightsSize, 1 << 20, 4, "weights size exceeds the weights buffer"},
      {"reserved word", 4 * 5, 1, 4, "reserved header words are not zero"},
      {"tensor count", 4 * kWordNumTensors, 1000, 4, "tensor table outside the microcode"},
      {"table offset", 4 * kWordTensorTableOffset, 2, 4, "tensor table outside the microcode"},
      {"code offset", 4 * kWordInstructionsOffset, 1 << 16, 4, "instruction stream outside the microcode"},
      {"code overlaps table", 4 * kWordInstructionsOffset, table + 32, 4, "instruction stream overlaps the tensor table"},
      {"instruction count", 4 * kWordNumInstructions, 1000, 4, nullptr},
      {"inputs", 4 * kWordNumInputs, 0, 4, "tensor refers to a missing input"},
      {"too many outputs", 4 * kWordNumOutputs, 256, 4, "too many inputs or outputs"},
      {"scratch size", 4 * kWordScratchSize, 100, 4, "tensor outside its region"},
      {"region", table + 0, 9, 1, "tensor has an unknown region"},
      {"elem type", table + 1, 7, 1, "tensor has an unknown element type"},
      {"offset past region", table + 64 + 4, 289, 4, "tensor outside its region"},
      {"size", table + 8, 107, 4, "tensor size does not match its dims"},
      {"dim", table + 12, 0, 4, "tensor dimension out of range"},
      {"huge dims", table + 12, 1 << 24, 4, nullptr},
      {"opcode", code, 99, 2, "unknown opcode"},
      {"arg words", code + 2, 3, 2, "argument size does not match the opcode"},
  };
  for (const Mod& m : mods) {
    MicrocodeImage img = sample_image();
    std::memcpy(img.microcode.data() + m.offset, &m.value, size_t(m.width));
    const ValidationResult r = validate(img);
    EXPECT_FALSE(r.ok()) << m.what;
    if (m.message) {
      EXPECT_STREQ(r.message, m.message) << m.what;
    }
  }
}

TEST(MicrocodeReader, OperandChecks) {
  // A table reading tensor 7 (out of range), and a kernel writing into an input.
  MicrocodeWriter w = sample_writer();
  w.append(Opcode::kTable, TableArgs{7, 0, 0});
  auto bad = w.finish();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("tensor index out of range"), std::string::npos);
  MicrocodeWriter w2 = sample_writer();
  w2.append(Opcode::kTable, TableArgs{1, 0, 0});
  auto bad2 = w2.finish();
  ASSERT_FALSE(bad2.ok());
  EXPECT_NE(bad2.status().message().find("writes outside"), std::string::npos);
  MicrocodeWriter w3 = sample_writer();
  ConcatArgs c{};
  c.output = 3;
  c.num_inputs = 9;
  w3.append(Opcode::kConcat, c);
  EXPECT_FALSE(w3.finish().ok());
}

TEST(MicrocodeReader, RandomByteFlipsNeverCrash) {
  const MicrocodeImage img = sample_image();
  const uint32_t seed = 20240611;
  std::mt19937 rng(seed);
  int accepted = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> mc = img.microcode;
    const int flips = 1 + int(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      const size_t at = rng() % mc.size();
      mc[at] ^= uint8_t(1u << (rng() % 8));
      if (rng() % 4 == 0) mc[at] = uint8_t(rng());
    }
    MicrocodeView v;
    const ValidationResult r = validate_microcode(mc.data(), mc.size(), img.weights.size(), &v);
    if (!r.ok()) continue;
    ++accepted;
    // A valid result must be walkable and its descriptors readable.
    InstructionCursor cur(v);
    Instruction inst;
    uint32_t n = 0;
    while (cur.next(&inst)) {
      ASSERT_LE(size_t(inst.offset) + 4 + size_t(inst.arg_words) * 4, size_t(v.size)) << "seed " << seed;
      ++n;
    }
    EXPECT_EQ(n, v.num_instructions());
    for (uint32_t i = 0; i < v.num_tensors(); ++i) (void)v.tensor(i);
    (void)dump_microcode(mc.data(), mc.size());
  }
  EXPECT_GT(accepted, 0);  // some flips hit don't-care bytes (args values, zero points)
}

}  // namespace
}  // namespace neutron::npu
