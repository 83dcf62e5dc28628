#include "common/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"

namespace metronome {
namespace {

absl::Status ErrnoError(const std::string& what, const std::string& path) {
  const int error = errno;
  const std::string message = what + " " + path + ": " + std::strerror(error);
  if (error == EEXIST) return absl::AlreadyExistsError(message);
  if (error == ENOENT) return absl::NotFoundError(message);
  if (error == EACCES || error == EPERM) return absl::PermissionDeniedError(message);
  if (error == ENOSPC) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status WriteAll(int fd, const std::string& contents, const std::string& path) {
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write", path);
    }
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) return ErrnoError("cannot fsync", path);
  return absl::OkStatus();
}

absl::Status SyncDirectory(const std::string& path) {
  const std::string directory = DirectoryOf(path);
  const int fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return ErrnoError("cannot open directory", directory);
  const int rc = fsync(fd);
  close(fd);
  if (rc != 0) return ErrnoError("cannot fsync directory", directory);
  return absl::OkStatus();
}

absl::Status WriteToFd(int fd, const std::string& contents, const std::string& path) {
  absl::Status status = WriteAll(fd, contents, path);
  if (close(fd) != 0 && status.ok()) status = ErrnoError("cannot close", path);
  return status;
}

}  // namespace

absl::Status WriteNewFile(const std::string& path, const std::string& contents, int mode) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError("cannot create", path);
  absl::Status status = WriteToFd(fd, contents, path);
  if (!status.ok()) {
    unlink(path.c_str());  // Never leave a half-written key or federation file behind.
    return status;
  }
  return SyncDirectory(path);
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  const std::string temporary = path + ".tmp";
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", temporary);
  absl::Status status = WriteToFd(fd, contents, temporary);
  if (status.ok() && rename(temporary.c_str(), path.c_str()) != 0) {
    status = ErrnoError("cannot rename into", path);
  }
  if (!status.ok()) {
    unlink(temporary.c_str());
    return status;
  }
  return SyncDirectory(path);
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t size_max) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path);
  std::string contents;
  char buffer[8192];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status status = ErrnoError("cannot read", path);
      close(fd);
      return status;
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > size_max) {
      close(fd);
      return absl::InvalidArgumentError(path + " is larger than " + std::to_string(size_max) +
                                        " bytes");
    }
  }
  close(fd);
  return contents;
}

}  // namespace metronome
