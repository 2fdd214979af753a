#include "support/nghttpd_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace grove::test {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_all(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) {
    throw std::runtime_error("cannot write " + path.string());
  }
}

// The first executable named `name` on PATH, /usr/sbin or /usr/bin (nghttpd
// lives in /usr/sbin, which is not on every user's PATH). Empty if none.
fs::path find_program(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::stringstream list(path);
    for (std::string dir; std::getline(list, dir, ':');) {
      dirs.push_back(dir.empty() ? "." : dir);
    }
  }
  dirs.emplace_back("/usr/sbin");
  dirs.emplace_back("/usr/bin");
  for (const std::string& dir : dirs) {
    fs::path candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return {};
}

// Starts `argv` with stdout and stderr appended to `log`; returns its pid.
pid_t spawn(const std::vector<std::string>& argv, const fs::path& log) {
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  int status = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (status != 0) {
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(status));
  }
  return pid;
}

// Runs `argv` to completion; throws with its output when it fails.
void run_program(const std::vector<std::string>& argv, const fs::path& log) {
  fs::remove(log);
  pid_t pid = spawn(argv, log);
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string command;
    for (const std::string& arg : argv) {
      command += arg + " ";
    }
    throw std::runtime_error("command failed: " + command + "\n" + read_all(log));
  }
}

// Binds 127.0.0.1:0, reads the port and closes: a port free a moment ago.
unsigned short free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  if (fd >= 0) {
    ::close(fd);
  }
  if (!ok) {
    throw std::runtime_error("cannot find a free loopback port");
  }
  return ntohs(address.sin_port);
}

bool accepts(unsigned short port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return up;
}

fs::path make_temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "grove-nghttpd-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("cannot create a temporary directory under " +
                             fs::temp_directory_path().string());
  }
  return pattern;
}

}  // namespace

nghttpd_server::nghttpd_server() : dir_(make_temp_dir()) {
  try {
    fs::create_directory(dir_ / "htdocs");
    make_certificates();
    start();
  } catch (...) {
    stop();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
    throw;
  }
}

nghttpd_server::~nghttpd_server() {
  stop();
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

std::string nghttpd_server::base_url() const {
  return "https://127.0.0.1:" + std::to_string(port_);
}

void nghttpd_server::add_file(std::string_view name, std::string_view content) const {
  fs::path relative(name);
  for (const fs::path& part : relative) {
    if (part == "..") {
      throw std::invalid_argument("nghttpd_server::add_file: '..' in " + std::string(name));
    }
  }
  fs::path target = dir_ / "htdocs" / relative.relative_path();
  fs::create_directories(target.parent_path());
  write_all(target, content);
}

// A CA certificate, then a server key and a certificate signing request,
// signed by the CA with the names curl checks (subjectAltName).
void nghttpd_server::make_certificates() const {
  fs::path openssl = find_program("openssl");
  if (openssl.empty()) {
    throw std::runtime_error("openssl not found: install the Debian package openssl");
  }
  auto in_dir = [this](const char* name) { return (dir_ / name).string(); };
  fs::path log = dir_ / "openssl.log";
  const std::vector<std::string> ec_key = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                           "-nodes"};

  std::vector<std::string> ca = {openssl.string(), "req", "-x509", "-days", "2"};
  ca.insert(ca.end(), ec_key.begin(), ec_key.end());
  ca.insert(ca.end(),
            {"-keyout", in_dir("ca.key"), "-out", in_dir("ca.pem"), "-subj", "/CN=grove test CA"});
  run_program(ca, log);

  std::vector<std::string> csr = {openssl.string(), "req", "-new"};
  csr.insert(csr.end(), ec_key.begin(), ec_key.end());
  csr.insert(csr.end(), {"-keyout", in_dir("server.key"), "-out", in_dir("server.csr"), "-subj",
                         "/CN=localhost"});
  run_program(csr, log);

  write_all(dir_ / "server.ext",
            "subjectAltName = IP:127.0.0.1, DNS:localhost\n"
            "basicConstraints = critical, CA:FALSE\n"
            "keyUsage = critical, digitalSignature\n"
            "extendedKeyUsage = serverAuth\n");
  run_program({openssl.string(), "x509", "-req", "-days", "2", "-in", in_dir("server.csr"), "-CA",
               in_dir("ca.pem"), "-CAkey", in_dir("ca.key"), "-CAcreateserial", "-extfile",
               in_dir("server.ext"), "-out", in_dir("server.pem")},
              log);
}

void nghttpd_server::start() {
  fs::path program;
  if (const char* env = std::getenv("GROVE_NGHTTPD"); env != nullptr && *env != '\0') {
    program = env;
  } else {
    program = find_program("nghttpd");
  }
  if (program.empty() || ::access(program.c_str(), X_OK) != 0) {
    throw std::runtime_error(
        "nghttpd not found: install the Debian package nghttp2-server (scripts/test installs it) "
        "or set GROVE_NGHTTPD to the executable");
  }

  // The free port may be taken by someone else before nghttpd binds it; then
  // nghttpd exits at once and another port is tried.
  fs::path log = dir_ / "nghttpd.log";
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = free_port();
    pid_ = spawn(
        {program.string(), "--address=127.0.0.1", "--htdocs=" + (dir_ / "htdocs").string(),
         std::to_string(port_), (dir_ / "server.key").string(), (dir_ / "server.pem").string()},
        log);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      if (accepts(port_)) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ > 0) {
      stop();
      throw std::runtime_error("nghttpd did not accept connections on 127.0.0.1:" +
                               std::to_string(port_) + " within 10 s\n" + read_all(log));
    }
  }
  throw std::runtime_error("nghttpd exited during start-up three times:\n" + read_all(log));
}

void nghttpd_server::stop() noexcept {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace grove::test
