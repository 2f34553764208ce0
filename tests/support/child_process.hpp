// Test helpers: run a program as a child process and speak minimal HTTP/1.1 over a plain
// socket (free_port() comes from support/free_port.hpp).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "support/free_port.hpp"
#include "support/wait_until.hpp"

namespace splitstream::testing {

class ChildProcess {
 public:
  // `stderr_path` non-empty: the child's stderr goes to that file (its log, for tests to read).
  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               const std::string& stderr_path = "") {
    std::vector<char*> argv;
    std::vector<std::string> all{program};
    all.insert(all.end(), args.begin(), args.end());
    for (std::string& a : all)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      if (!stderr_path.empty()) {
        const int fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) ::dup2(fd, 2);
      }
      ::execv(program.c_str(), argv.data());
      ::_exit(127);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  void signal(int sig) { ::kill(pid_, sig); }
  // The exit status, or nullopt if still running after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    std::optional<int> exit_status;
    wait_until(
        [&] {
          int status = 0;
          if (exited_ || ::waitpid(pid_, &status, WNOHANG) != pid_) return false;
          exited_ = true;
          exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          return true;
        },
        timeout);
    return exit_status;
  }
  bool running() {
    int status = 0;
    return !exited_ && ::waitpid(pid_, &status, WNOHANG) == 0;
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
};

struct HttpResult {
  int status = 0;  // 0: no answer
  std::string headers;
  std::string body;
};

// A TCP connection to 127.0.0.1:port with a 5 s receive timeout; -1 when refused.
inline int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Writes `request` (a whole HTTP/1.1 request) and reads one response: until Content-Length is
// satisfied, or the server closes.
inline HttpResult exchange_on(int fd, const std::string& request) {
  HttpResult result;
  for (std::size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string data;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    const auto end = data.find("\r\n\r\n");
    if (end == std::string::npos) continue;
    const auto cl = data.find("Content-Length: ");
    if (cl != std::string::npos && cl < end &&
        data.size() >= end + 4 + std::stoul(data.substr(cl + 16))) {
      break;
    }
  }
  const auto end = data.find("\r\n\r\n");
  if (data.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return result;
  result.status = std::stoi(data.substr(9, 3));
  result.headers = data.substr(0, end);
  result.body = data.substr(end + 4);
  return result;
}

// Sends `request` on a connection of its own to 127.0.0.1:port and reads the response.
inline HttpResult http_exchange(int port, const std::string& request) {
  const int fd = connect_loopback(port);
  if (fd < 0) return {};
  HttpResult result = exchange_on(fd, request);
  ::close(fd);
  return result;
}

// One keep-alive HTTP connection, open until destroyed. Once a request on it was answered, the
// server has certainly accepted it (a connection merely connected may still wait in the
// listen backlog) and holds it open.
class HttpConnection {
 public:
  explicit HttpConnection(int port) : fd_(connect_loopback(port)) {}
  ~HttpConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  HttpResult get(const std::string& path) {
    if (fd_ < 0) return {};
    return exchange_on(fd_, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
  }

 private:
  int fd_ = -1;
};

// A request with a method, extra header lines ("Name: value\r\n" each) and a body.
inline HttpResult http_send(int port, const std::string& method, const std::string& target,
                            const std::string& body = "", const std::string& headers = "") {
  return http_exchange(
      port, method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" +
                headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

inline HttpResult http_get(int port, const std::string& path) {
  return http_exchange(port,
                       "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
}

// Polls until `path` answers (any status) or the timeout passes.
inline HttpResult wait_for_http(int port, const std::string& path,
                                std::chrono::milliseconds timeout) {
  HttpResult r;
  wait_until(
      [&] {
        r = http_get(port, path);
        return r.status != 0;
      },
      timeout, std::chrono::milliseconds(20));
  return r;
}

}  // namespace splitstream::testing
