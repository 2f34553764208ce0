#include "store/resp_reader.hpp"
#include <charconv>
namespace splitstream {
namespace {
struct Scanner {
  std::string_view d; std::size_t pos = 0; const RespLimits& lim; std::string err; bool incomplete = false;
  bool line(std::string_view& out) {
    const auto cr = d.find("\r\n", pos);
    if (cr == std::string_view::npos) { incomplete = true; return false; }
    out = d.substr(pos, cr - pos); pos = cr + 2; return true;
  }
  bool number(std::string_view t, long long& v) {
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    return ec == std::errc() && p == t.data() + t.size() && !t.empty();
  }
  bool one(int depth) {
    if (pos >= d.size()) { incomplete = true; return false; }
    const char type = d[pos++];
    std::string_view l;
    if (!line(l)) return false;
    long long n = 0;
    switch (type) {
      case '+': case '-': return true;
      case ':': if (!number(l, n)) { err = "bad integer"; return false; } return true;
      case '$':
        if (!number(l, n) || n < -1) { err = "bad bulk length"; return false; }
        if (n == -1) return true;
        if (static_cast<std::size_t>(n) > lim.max_bulk) { err = "bulk too long"; return false; }
        if (d.size() - pos < static_cast<std::size_t>(n) + 2) { incomplete = true; return false; }
        pos += static_cast<std::size_t>(n);
        if (d.substr(pos, 2) != "\r\n") { err = "bulk without CRLF"; return false; }
        pos += 2; return true;
      case '*':
        if (!number(l, n) || n < -1) { err = "bad array length"; return false; }
        if (n == -1) return true;
        if (static_cast<std::size_t>(n) > lim.max_elements) { err = "too many elements"; return false; }
        if (depth >= lim.max_depth) { err = "nested too deep"; return false; }
        for (long long i = 0; i < n; ++i) if (!one(depth + 1)) return false;
        return true;
      default: err = "bad type byte"; return false;
    }
  }
};
RedisReply build(std::string_view d, std::size_t& pos) {
  const char type = d[pos++];
  const auto cr = d.find("\r\n", pos);
  const std::string_view l = d.substr(pos, cr - pos);
  pos = cr + 2;
  long long n = 0;
  std::from_chars(l.data(), l.data() + l.size(), n);
  switch (type) {
    case '+': return RedisReply::status(std::string(l));
    case '-': return RedisReply::error(std::string(l));
    case ':': return RedisReply::integer(n);
    case '$': {
      if (n < 0) return RedisReply::nil();
      RedisReply r = RedisReply::string(std::string(d.substr(pos, static_cast<std::size_t>(n))));
      pos += static_cast<std::size_t>(n) + 2; return r;
    }
    default: {
      if (n < 0) return RedisReply::nil();
      std::vector<RedisReply> e; e.reserve(static_cast<std::size_t>(n));
      for (long long i = 0; i < n; ++i) e.push_back(build(d, pos));
      return RedisReply::array(std::move(e));
    }
  }
}
}
RespScanResult scan_resp_reply(std::string_view data, const RespLimits& limits) {
  Scanner s{data, 0, limits, {}, false};
  RespScanResult r;
  if (s.one(0)) { r.status = RespScan::complete; r.length = s.pos; }
  else if (!s.err.empty()) { r.status = RespScan::malformed; r.error = s.err; }
  return r;
}
RedisReply build_resp_reply(std::string_view complete) { std::size_t pos = 0; return build(complete, pos); }
void append_resp_command(std::string& out, const std::vector<std::string>& args) {
  out += '*'; out += std::to_string(args.size()); out += "\r\n";
  for (const auto& a : args) { out += '$'; out += std::to_string(a.size()); out += "\r\n"; out += a; out += "\r\n"; }
}
}
