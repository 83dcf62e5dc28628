#ifndef METRONOME_COMMON_FILE_UTIL_H_
#define METRONOME_COMMON_FILE_UTIL_H_

#include <string>

#include "absl/status/statusor.h"

namespace metronome {

// Creates `path` with `contents` and `mode`, fsyncs it and its directory. Fails with
// ALREADY_EXISTS, without touching the file, when the path exists.
absl::Status WriteNewFile(const std::string& path, const std::string& contents, int mode);

// Replaces `path` atomically (write a temporary file, fsync, rename, fsync the
// directory): readers see the old or the new contents, never a mix.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents);

// Reads a whole file, failing with a reason naming the path when it is missing,
// unreadable, or larger than `size_max` bytes.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t size_max);

}  // namespace metronome

#endif  // METRONOME_COMMON_FILE_UTIL_H_
