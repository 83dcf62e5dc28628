#ifndef METRONOME_COMMON_LOG_H_
#define METRONOME_COMMON_LOG_H_

#include <nlohmann/json.hpp>
#include <string>

namespace metronome {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Structured logs: one JSON object per line on stderr, e.g.
//   {"ts":"2026-11-24T03:52:28.123Z","level":"info","service":"bft","msg":"committed",
//    "view":12,"height":7}
// Thread-safe (spdlog sink). Call InitLogging once at start-up; before that, logs go to
// stderr with service "metronome".
// Also routes gRPC's own log lines into ours (source "grpc"), at debug level until
// EnableGrpcLogs: start-up failures are reported once, by the service.
void InitLogging(const std::string& service, LogLevel level_min);
// Called once the service has started: gRPC's errors are logged as warnings from now on.
void EnableGrpcLogs();

void Log(LogLevel level, const std::string& message, const nlohmann::json& fields = {});
inline void LogInfo(const std::string& message, const nlohmann::json& fields = {}) {
  Log(LogLevel::kInfo, message, fields);
}
inline void LogWarn(const std::string& message, const nlohmann::json& fields = {}) {
  Log(LogLevel::kWarn, message, fields);
}
inline void LogError(const std::string& message, const nlohmann::json& fields = {}) {
  Log(LogLevel::kError, message, fields);
}

// The JSON line Log would write, without the trailing newline (exposed for tests).
std::string FormatLogLine(LogLevel level, const std::string& service, const std::string& message,
                          const nlohmann::json& fields, int64_t unix_ms);

// Parses "debug", "info", "warn" or "error".
bool ParseLogLevel(const std::string& name, LogLevel* level);

}  // namespace metronome

#endif  // METRONOME_COMMON_LOG_H_
