// A free loopback port for a test's servers, picked below the kernel's ephemeral range. A port
// the kernel hands out (bind to 0) lies inside that range: while a server of the test is down or
// between connections, any outgoing connection on the machine can be given that very port as its
// source port, and the server cannot bind it again (or a client reconnecting to it connects to
// itself). Under `ctest -j` that happens. Test processes running at once also pick from the same
// range: a port stays reserved for the process that picked it, by a lock on a file named for it
// (released by the kernel when that process ends, however it ends).
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>

namespace splitstream::testing {

// A port that could be bound on loopback just now, outside the ephemeral range, and never the
// same twice in one process: a test picks several before it starts what binds them.
inline int free_port() {
  auto can_bind = [](std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return ok;
  };
  // Held open for the life of the process: the lock is the reservation. One descriptor per port
  // picked: a test binary run whole in one process picks hundreds, so the soft limit on open
  // files is raised to the hard one once, when the folder of lock files is made.
  auto reserve = [](std::uint16_t port) {
    static const std::filesystem::path dir = [] {
      rlimit limit{};
      if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
      }
      std::error_code ignored;
      auto made = std::filesystem::temp_directory_path(ignored) / "splitstream-test-ports";
      if (std::filesystem::create_directories(made, ignored))
        std::filesystem::permissions(
            made, std::filesystem::perms::all | std::filesystem::perms::sticky_bit, ignored);
      return made;
    }();
    const std::string path = (dir / std::to_string(port)).string();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE))
      throw std::runtime_error("free_port: out of file descriptors for port reservations");
    if (fd < 0) return true;  // no lock files here: the check against other processes is off
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
    ::close(fd);
    return false;
  };
  int ephemeral_low = 32768;
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  range >> ephemeral_low;
  const int low = 10000;
  const int high = std::max(low + 1000, ephemeral_low) - 1;
  static std::mutex mutex;
  static std::set<int> handed_out;
  static std::mt19937 random(std::random_device{}());
  const std::lock_guard<std::mutex> lock(mutex);
  std::uniform_int_distribution<int> pick(low, high);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const auto port = static_cast<std::uint16_t>(pick(random));
    if (handed_out.count(port) == 0 && can_bind(port) && reserve(port)) {
      handed_out.insert(port);
      return port;
    }
  }
  throw std::runtime_error("free_port: no free port below the ephemeral range");
}

}  // namespace splitstream::testing
