#include "common/log.h"

#include <grpc/support/log.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>

namespace metronome {
namespace {

struct LogState {
  std::mutex mutex;
  std::string service = "metronome";
  LogLevel level_min = LogLevel::kInfo;
  std::shared_ptr<spdlog::logger> logger;
};

LogState& State() {
  static LogState* state = [] {
    auto* created = new LogState;
    created->logger = spdlog::stderr_logger_mt("metronome-json");
    created->logger->set_pattern("%v");
    created->logger->set_level(spdlog::level::trace);
    return created;
  }();
  return *state;
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string Timestamp(int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc;
  gmtime_r(&seconds, &utc);
  char buffer[40];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &utc);
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buffer, static_cast<int>(unix_ms % 1000));
  return out;
}

// Until the service has started, gRPC's own lines are kept at debug level: a start-up
// failure (say, a port in use) is reported once, by the service, naming the cause.
std::atomic<bool> grpc_logs_quiet{true};

void GrpcLog(gpr_log_func_args* args) {
  LogLevel level = LogLevel::kDebug;
  if (!grpc_logs_quiet && args->severity == GPR_LOG_SEVERITY_ERROR) level = LogLevel::kWarn;
  Log(level, args->message, {{"source", "grpc"}, {"file", args->file}, {"line", args->line}});
}

}  // namespace

void InitLogging(const std::string& service, LogLevel level_min) {
  LogState& state = State();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.service = service;
  state.level_min = level_min;
  gpr_set_log_function(GrpcLog);
}

void EnableGrpcLogs() { grpc_logs_quiet = false; }

std::string FormatLogLine(LogLevel level, const std::string& service, const std::string& message,
                          const nlohmann::json& fields, int64_t unix_ms) {
  nlohmann::json line = {{"ts", Timestamp(unix_ms)},
                         {"level", LevelName(level)},
                         {"service", service},
                         {"msg", message}};
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) line[key] = value;
  }
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Log(LogLevel level, const std::string& message, const nlohmann::json& fields) {
  LogState& state = State();
  std::string service;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    if (level < state.level_min) return;
    service = state.service;
  }
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  state.logger->info(FormatLogLine(level, service, message, fields, now_ms));
  if (level >= LogLevel::kWarn) state.logger->flush();
}

bool ParseLogLevel(const std::string& name, LogLevel* level) {
  for (LogLevel candidate :
       {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (name == LevelName(candidate)) {
      *level = candidate;
      return true;
    }
  }
  return false;
}

}  // namespace metronome
