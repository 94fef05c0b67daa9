// Calibration data: the sample inputs run through a float model to observe its activations.
//
// A calibration set holds S samples; sample i has one tensor per model input, with exactly that
// input's dtype and shape. Data come from .npy files (float64 is not read: save float32).
//
// One array (one .npy file) holds one or more samples of ONE input. For an input of shape
// (s0, s1, ..., sk) the array shape must be
//   (n, s0, s1, ..., sk)   n samples on an extra leading axis, or
//   (n, s1, ..., sk)       n samples stacked on the batch axis, allowed when s0 == 1
// (the ranks tell the two apart); an array with exactly the input's shape is one sample.
//
// load_calibration_data(path, inputs) accepts
//   FILE.npy     for a model with one input: all its samples.
//   DIR/         for each input NAME, either DIR/NAME.npy (an array as above) or DIR/NAME/ (a folder
//                of .npy files, each an array as above); a model with one input may instead have its
//                .npy files directly in DIR/. Then any other .npy file or folder named after no
//                input is an error (it is usually a misspelt input name). '/' in an input name is
//                written '_'.
//   Within a folder, the files ending in ".npy" (not hidden) are read in byte-wise name order
//   (as Python's sorted(os.listdir())): zero-pad numbers, 0002.npy sorts before 0010.npy. Samples
//   are numbered in that order, file by file. With several inputs, every input must have the same
//   number of samples, and sample i is the i-th sample of each input.
//
// Every error is InvalidArgument (NotFound for a missing path) and names the file, the input and,
// for bad values, the sample (its index along the file's sample axis) and the element (its flat
// index within the sample, then its index in the input's shape), e.g.
//   calib.npy: sample 17 of input 'input' contains NaN at element 302 (index [0,0,9,14])
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"
#include "core/status.h"
#include "core/tensor_data.h"

namespace neutron {

// A model input as calibration data must match it.
struct ModelInput {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;  // the model's input shape, e.g. [1, 3, 224, 224]
};

// An array of samples for one input, and where it came from (a file name, for messages).
struct CalibrationArray {
  std::string origin;
  TensorData data;
};

class CalibrationSet {
 public:
  const std::vector<ModelInput>& inputs() const { return inputs_; }
  int64_t size() const { return samples_; }

  // Sample `sample` of input `input`, shaped exactly as inputs()[input].shape.
  TensorData tensor(int64_t sample, size_t input) const;
  // All inputs of one sample, in the order of inputs().
  std::vector<TensorData> sample(int64_t sample) const;
  // Where a sample comes from, for messages: "calib/0003.npy sample 2".
  std::string origin(int64_t sample, size_t input) const;

 private:
  friend StatusOr<CalibrationSet> make_calibration_set(const std::vector<ModelInput>& inputs,
                                                       std::vector<std::vector<CalibrationArray>> arrays);
  struct Ref {
    uint32_t array;  // index into arrays_[input]
    int64_t index;   // sample index within that array
  };
  std::vector<ModelInput> inputs_;
  int64_t samples_ = 0;
  std::vector<std::vector<CalibrationArray>> arrays_;  // [input][array]
  std::vector<std::vector<Ref>> refs_;                 // [input][sample]
};

// Validates arrays already in memory: arrays[k] are the arrays (in sample order) for inputs[k].
StatusOr<CalibrationSet> make_calibration_set(const std::vector<ModelInput>& inputs,
                                              std::vector<std::vector<CalibrationArray>> arrays);

// Reads and validates a calibration set from a .npy file or a folder (see the header comment).
StatusOr<CalibrationSet> load_calibration_data(const std::string& path, const std::vector<ModelInput>& inputs);

}  // namespace neutron
