#ifndef METRONOME_COMMON_CANONICAL_H_
#define METRONOME_COMMON_CANONICAL_H_

#include <string>
#include <string_view>

#include "common/bytes.h"

namespace metronome {

// The canonical byte encoding of everything Metronome hashes or signs. Integers are
// big-endian and fixed-width; variable-length byte strings carry a u32 length prefix;
// digests, keys and signatures are raw fixed-size arrays. Protobuf serialisation is
// never used for hashed or signed data: it is not canonical.
//
// Every top-level artefact starts with a one-byte ArtefactKind and a one-byte format
// version, so bytes of one kind can never be read as another and `metronome inspect`
// can tell what a file holds.
enum class ArtefactKind : uint8_t {
  kHeader = 1,
  kBody = 2,
  kTransaction = 3,
  kQuorumCertificate = 4,
  kCheckpointCertificate = 5,
  kFederation = 6,
  kMerkleProof = 7,
  kLedger = 8,
  kProposal = 9,
  kVote = 10,
  kTimeout = 11,
  kNewView = 12,
  kEvidence = 13,
  // 100-103 are taken by the devchain (services/pow_adapter/core/devchain_block.h):
  // header, block, freeze evidence, checkpoint state.
  // 110 is the interpreter's durable state (services/interpreter/core/durable_state.h).
};

constexpr uint8_t kFormatVersion = 1;

// Appends canonical encodings to a byte buffer. Writing cannot fail.
class Writer {
 public:
  void U8(uint8_t value) { out_.push_back(value); }
  void U16(uint16_t value);
  void U32(uint32_t value);
  void U64(uint64_t value);
  // Raw bytes, no length: for fixed-size fields (digests, keys, signatures).
  void Fixed(const uint8_t* data, size_t size) { out_.insert(out_.end(), data, data + size); }
  template <size_t N>
  void Fixed(const std::array<uint8_t, N>& data) {
    Fixed(data.data(), N);
  }
  // u32 length, then the bytes.
  void LengthPrefixed(const uint8_t* data, size_t size);
  void LengthPrefixed(const Bytes& data) { LengthPrefixed(data.data(), data.size()); }
  void String(std::string_view text) {
    LengthPrefixed(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  }
  // The kind byte and the format version.
  void Kind(ArtefactKind kind) {
    U8(static_cast<uint8_t>(kind));
    U8(kFormatVersion);
  }

  const Bytes& bytes() const { return out_; }
  Bytes Take() { return std::move(out_); }

 private:
  Bytes out_;
};

// Reads canonical encodings from untrusted bytes. The first failure (truncation, a
// length above the caller's bound, a wrong kind byte) is recorded with a reason; every
// later read is then a no-op returning zero values, so decoders can read a whole
// structure and check ok() once. Does not own the bytes; they must outlive the Reader.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  explicit Reader(const Bytes& data) : Reader(data.data(), data.size()) {}
  // A Reader borrows its bytes; reading a temporary would leave it dangling.
  explicit Reader(Bytes&& data) = delete;

  uint8_t U8();
  uint16_t U16();
  uint32_t U32();
  uint64_t U64();
  template <size_t N>
  std::array<uint8_t, N> Fixed() {
    std::array<uint8_t, N> out{};
    if (Need(N)) {
      std::copy(data_ + offset_, data_ + offset_ + N, out.begin());
      offset_ += N;
    }
    return out;
  }
  // A u32 length prefix, then that many bytes. Fails when the length exceeds
  // `size_max`, so a hostile length never causes a large allocation.
  Bytes LengthPrefixed(size_t size_max);
  std::string String(size_t size_max);
  // Reads and checks the kind byte and format version.
  void ExpectKind(ArtefactKind kind);
  // A u32 element count, failing when above `count_max`.
  uint32_t Count(uint32_t count_max, const char* what);

  // Records a failure found by a decoder (first failure wins).
  void Fail(std::string reason);
  // Fails unless every byte has been consumed: canonical encodings have no trailer.
  void ExpectEnd();

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t offset() const { return offset_; }
  size_t remaining() const { return ok() ? size_ - offset_ : 0; }

 private:
  bool Need(size_t count);

  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
  std::string error_;
};

}  // namespace metronome

#endif  // METRONOME_COMMON_CANONICAL_H_
