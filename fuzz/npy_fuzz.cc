// libFuzzer harness: bytes -> parse_npy (the .npy reader behind --input/--calib/--labels files).
// A parsed tensor must hold exactly count() elements and survive serialize_npy -> parse_npy.
#include <string>

#include "core/npy.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace neutron;
  fuzz::limit_memory_budget();
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  StatusOr<TensorData> t = parse_npy(bytes, "fuzz.npy");
  if (!t.ok()) {
    FUZZ_CHECK(!t.status().to_string().empty(), "an error without a message");
    return 0;
  }
  const TensorData& a = *t;
  FUZZ_CHECK(a.count() >= 0, "negative element count");
  FUZZ_CHECK(a.bytes.size() == size_t(a.count()) * dtype_size(a.dtype), "%zu bytes for %lld elements",
             a.bytes.size(), static_cast<long long>(a.count()));
  StatusOr<TensorData> b = parse_npy(serialize_npy(a), "fuzz-roundtrip.npy");
  FUZZ_CHECK(b.ok(), "a parsed tensor does not parse again after serialize_npy: %s",
             b.status().to_string().c_str());
  FUZZ_CHECK(b->dtype == a.dtype && b->shape == a.shape && b->bytes == a.bytes, "the round trip changed the tensor");
  return 0;
}
