#include "common/canonical.h"

#include "common/assert.h"

namespace metronome {

void Writer::U16(uint16_t value) {
  U8(static_cast<uint8_t>(value >> 8));
  U8(static_cast<uint8_t>(value));
}

void Writer::U32(uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) U8(static_cast<uint8_t>(value >> shift));
}

void Writer::U64(uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) U8(static_cast<uint8_t>(value >> shift));
}

void Writer::LengthPrefixed(const uint8_t* data, size_t size) {
  METRONOME_ASSERT(size <= UINT32_MAX);
  U32(static_cast<uint32_t>(size));
  Fixed(data, size);
}

bool Reader::Need(size_t count) {
  if (!ok()) return false;
  if (size_ - offset_ < count) {
    Fail("truncated at byte " + std::to_string(offset_) + ": need " + std::to_string(count) +
         " more bytes, have " + std::to_string(size_ - offset_));
    return false;
  }
  return true;
}

uint8_t Reader::U8() {
  if (!Need(1)) return 0;
  return data_[offset_++];
}

uint16_t Reader::U16() {
  if (!Need(2)) return 0;
  const uint16_t value = static_cast<uint16_t>(data_[offset_] << 8 | data_[offset_ + 1]);
  offset_ += 2;
  return value;
}

uint32_t Reader::U32() {
  if (!Need(4)) return 0;
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = value << 8 | data_[offset_ + i];
  offset_ += 4;
  return value;
}

uint64_t Reader::U64() {
  if (!Need(8)) return 0;
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = value << 8 | data_[offset_ + i];
  offset_ += 8;
  return value;
}

Bytes Reader::LengthPrefixed(size_t size_max) {
  const uint32_t size = U32();
  if (!ok()) return {};
  if (size > size_max) {
    Fail("length " + std::to_string(size) + " at byte " + std::to_string(offset_ - 4) +
         " exceeds the maximum " + std::to_string(size_max));
    return {};
  }
  if (!Need(size)) return {};
  Bytes out(data_ + offset_, data_ + offset_ + size);
  offset_ += size;
  return out;
}

std::string Reader::String(size_t size_max) {
  const Bytes bytes = LengthPrefixed(size_max);
  return std::string(bytes.begin(), bytes.end());
}

void Reader::ExpectKind(ArtefactKind kind) {
  const size_t at = offset_;
  const uint8_t kind_byte = U8();
  const uint8_t version = U8();
  if (!ok()) return;
  if (kind_byte != static_cast<uint8_t>(kind)) {
    Fail("expected artefact kind " + std::to_string(static_cast<int>(kind)) + " at byte " +
         std::to_string(at) + ", found " + std::to_string(kind_byte));
  } else if (version != kFormatVersion) {
    Fail("unsupported format version " + std::to_string(version) + " at byte " +
         std::to_string(at + 1));
  }
}

uint32_t Reader::Count(uint32_t count_max, const char* what) {
  const uint32_t count = U32();
  if (ok() && count > count_max) {
    Fail(std::string(what) + " count " + std::to_string(count) + " exceeds the maximum " +
         std::to_string(count_max));
    return 0;
  }
  return count;
}

void Reader::Fail(std::string reason) {
  if (ok()) error_ = std::move(reason);
  METRONOME_ASSERT(!error_.empty());
}

void Reader::ExpectEnd() {
  if (ok() && offset_ != size_) {
    Fail(std::to_string(size_ - offset_) + " trailing bytes after byte " + std::to_string(offset_));
  }
}

}  // namespace metronome
