// A real s3rver (npm s3rver@3.7.1) for the storage tests, started on a free
// loopback port with a temporary data directory and stopped by pid.
//
// The executable is $GROVE_S3RVER, else build/node/node_modules/.bin/s3rver
// under the source tree (scripts/test installs it there). When neither
// exists the fixture FAILS the test with instructions: a missing peer must
// never turn into a silently skipped test.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "storage_test_util.hpp"

namespace grove::test {

class s3rver_process {
 public:
  static constexpr const char* bucket = "grove-test";
  static constexpr const char* access_key = "S3RVER";
  static constexpr const char* secret_key = "S3RVER";

  s3rver_process() {
    const std::filesystem::path exe = executable();
    if (exe.empty()) {
      FAIL(
          "s3rver not found: set GROVE_S3RVER to the s3rver executable or run "
          "`npm install --prefix build/node s3rver@3.7.1` in the source tree (scripts/test does "
          "this)");
    }
    port_ = free_port();
    const std::string port = std::to_string(port_);
    const std::string data = data_dir_.path().string();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      // Die with the test process, and keep the test's output pipes free.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      int null_fd = ::open("/dev/null", O_RDWR);
      ::dup2(null_fd, STDOUT_FILENO);
      ::dup2(null_fd, STDERR_FILENO);
      // Listing with continuation tokens needs the legacy OpenSSL provider on Node 17+.
      ::setenv("NODE_OPTIONS", "--openssl-legacy-provider", 1);
      ::execl(exe.c_str(), exe.c_str(), "-d", data.c_str(), "-a", "127.0.0.1", "-p", port.c_str(),
              "--silent", "--configure-bucket", bucket, static_cast<char*>(nullptr));
      ::_exit(127);
    }
    wait_until_listening();
  }

  ~s3rver_process() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }

  s3rver_process(const s3rver_process&) = delete;
  s3rver_process& operator=(const s3rver_process&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& data_dir() const { return data_dir_.path(); }

 private:
  static std::filesystem::path executable() {
    if (const char* env = std::getenv("GROVE_S3RVER"); env != nullptr && *env != '\0') {
      return std::filesystem::exists(env) ? std::filesystem::path(env) : std::filesystem::path();
    }
    auto local = std::filesystem::path(GROVE_SOURCE_DIR) / "build/node/node_modules/.bin/s3rver";
    return std::filesystem::exists(local) ? local : std::filesystem::path();
  }

  // Binds 127.0.0.1:0, reads the port and closes: a port free a moment ago.
  static unsigned short free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  // Polls the port for up to 20 s (Node starts in about a second).
  void wait_until_listening() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("s3rver exited during start-up (status " << status << ")");
      }
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port_);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      ::close(fd);
      if (up) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("s3rver did not listen on port " << port_ << " within 20 s");
  }

  temp_dir data_dir_;
  unsigned short port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace grove::test
