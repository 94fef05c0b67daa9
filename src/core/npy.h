// Reading and writing NumPy .npy files (format versions 1.0-3.0, little-endian, C order).
#pragma once
#include <string>

#include "core/status.h"
#include "core/tensor_data.h"

namespace neutron {

// Refuses Fortran order, big-endian data and unsupported dtypes with a message naming the file.
StatusOr<TensorData> read_npy(const std::string& path);
StatusOr<TensorData> parse_npy(const std::string& bytes, const std::string& name_for_errors);
// Written atomically (core/output_files.h): a failed write leaves the old file.
Status write_npy(const std::string& path, const TensorData& t);
std::string serialize_npy(const TensorData& t);
// serialize_npy, or NotSupported naming `name` for a dtype .npy cannot hold.
StatusOr<std::string> encode_npy(const TensorData& t, const std::string& name);

}  // namespace neutron
