#include "http/static_files.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "core/text.hpp"

namespace splitstream {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr std::string_view kRevalidate = "no-cache";

struct FileType {
  std::string_view extension;
  std::string_view content_type;
  bool compressible;
};

constexpr FileType kTypes[] = {
    {"html", "text/html; charset=utf-8", true},
    {"htm", "text/html; charset=utf-8", true},
    {"js", "text/javascript; charset=utf-8", true},
    {"mjs", "text/javascript; charset=utf-8", true},
    {"css", "text/css; charset=utf-8", true},
    {"svg", "image/svg+xml", true},
    {"json", "application/json", true},
    {"map", "application/json", true},
    {"webmanifest", "application/manifest+json", true},
    {"txt", "text/plain; charset=utf-8", true},
    {"png", "image/png", false},
    {"jpg", "image/jpeg", false},
    {"jpeg", "image/jpeg", false},
    {"webp", "image/webp", false},
    {"ico", "image/x-icon", false},
    {"woff2", "font/woff2", false},
    {"woff", "font/woff", false},
};
constexpr FileType kOtherType{"", "application/octet-stream", false};

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

const FileType& file_type(std::string_view name) {
  const auto slash = name.rfind('/');
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return kOtherType;
  }
  const std::string_view extension = name.substr(dot + 1);
  for (const FileType& t : kTypes) {
    if (iequals(t.extension, extension)) return t;
  }
  return kOtherType;
}

bool is_precompressed_name(std::string_view name) {
  return name.ends_with(".br") || name.ends_with(".gz");
}

// A qvalue (RFC 9110 12.4.2) in thousandths: "0", "0.5", "1", "1.000"; nullopt when malformed.
std::optional<int> parse_qvalue(std::string_view s) {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return std::nullopt;
  int value = (s[0] - '0') * 1000;
  if (s.size() == 1) return value;
  if (s[1] != '.' || s.size() > 5) return std::nullopt;
  int scale = 100;
  for (const char c : s.substr(2)) {
    if (c < '0' || c > '9') return std::nullopt;
    value += (c - '0') * scale;
    scale /= 10;
  }
  if (value > 1000) return std::nullopt;
  return value;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The path's file name relative to the root ("" for "/"), or nullopt for anything that is not a
// plain path below the root: bad %-escapes, NUL and control characters, backslashes, empty,
// "." and ".." segments (also when %-encoded).
std::optional<std::string> relative_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  std::string decoded;
  decoded.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size() || hex_value(path[i + 1]) < 0 || hex_value(path[i + 2]) < 0) {
        return std::nullopt;
      }
      c = static_cast<char>(hex_value(path[i + 1]) * 16 + hex_value(path[i + 2]));
      i += 2;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\') return std::nullopt;
    decoded += c;
  }
  std::string_view rest = std::string_view(decoded).substr(1);
  if (rest.empty()) return std::string();
  for (std::string_view segments = rest;;) {
    const auto slash = segments.find('/');
    const std::string_view segment = segments.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") return std::nullopt;
    if (slash == std::string_view::npos) break;
    segments.remove_prefix(slash + 1);
  }
  return std::string(rest);
}

std::string etag_of(std::string_view bytes, std::string_view suffix) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::uint64_t hash = fnv1a64(bytes);
  std::string tag = "\"";
  for (int shift = 60; shift >= 0; shift -= 4)
    tag += kHex[(hash >> shift) & 0xf];
  tag += suffix;
  tag += '"';
  return tag;
}

// Every field `name` of the request as one comma-separated list.
std::string field_list(const HttpRequest& request, http::field name) {
  std::string out;
  const auto [first, last] = request.equal_range(name);
  for (auto it = first; it != last; ++it) {
    if (!out.empty()) out += ',';
    out += it->value();
  }
  return out;
}

// If-None-Match (RFC 9110 13.1.2): "*", or a list of entity tags compared weakly (W/ ignored).
bool none_match_hits(const HttpRequest& request, std::string_view etag) {
  const std::string header = field_list(request, http::field::if_none_match);
  std::string_view list = header;
  while (!list.empty()) {
    const char c = list.front();
    if (c == ' ' || c == '\t' || c == ',') {
      list.remove_prefix(1);
      continue;
    }
    if (c == '*') return true;
    if (list.starts_with("W/")) list.remove_prefix(2);
    if (list.empty() || list.front() != '"') return false;  // malformed: no match
    const auto close = list.find('"', 1);
    if (close == std::string_view::npos) return false;
    if (list.substr(0, close + 1) == etag) return true;
    list.remove_prefix(close + 1);
  }
  return false;
}

HttpResponse base_response(const HttpRequest& request, http::status status) {
  HttpResponse res{status, request.version()};
  res.set(http::field::server, "splitstream");
  res.keep_alive(request.keep_alive());
  return res;
}

std::optional<HttpResponse> refuse_method(const HttpRequest& request, std::string_view path) {
  if (request.method() == http::verb::get || request.method() == http::verb::head) {
    return std::nullopt;
  }
  auto res = error_response(request, http::status::method_not_allowed, "method_not_allowed",
                            std::string(path) + " is read-only: use GET");
  res.set(http::field::allow, "GET, HEAD");
  return res;
}

std::string_view path_of(const HttpRequest& request) {
  const std::string_view target = request.target();
  return target.substr(0, target.find('?'));
}

HttpResponse not_found(const HttpRequest& request, std::string_view path) {
  return error_response(request, http::status::not_found, "not_found",
                        "no resource at " + std::string(path));
}

std::string read_file(const fs::path& file, std::uintmax_t size) {
  std::ifstream in(file, std::ios::binary);
  std::string bytes(size, '\0');
  if (!in || !in.read(bytes.data(), static_cast<std::streamsize>(size)) ||
      in.peek() != std::ifstream::traits_type::eof()) {
    throw std::runtime_error("web root: cannot read " + file.string() +
                             " (unreadable, or changed while read)");
  }
  return bytes;
}

bool inside(const fs::path& root, const fs::path& target) {
  const fs::path rel = target.lexically_relative(root);
  return !rel.empty() && *rel.begin() != "..";
}

}  // namespace

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

AcceptedEncodings parse_accept_encoding(std::string_view header) {
  std::optional<int> br, gzip, any;
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const auto semicolon = item.find(';');
    const std::string_view coding = trim(item.substr(0, semicolon));
    int q = 1000;
    bool valid = true;
    for (std::string_view params = semicolon == std::string_view::npos ? std::string_view()
                                                                       : item.substr(semicolon + 1);
         !params.empty();) {
      const auto next = params.find(';');
      const std::string_view param = trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
      const auto eq = param.find('=');
      if (eq == std::string_view::npos || !iequals(trim(param.substr(0, eq)), "q")) continue;
      const auto parsed = parse_qvalue(trim(param.substr(eq + 1)));
      if (!parsed) valid = false;
      q = parsed.value_or(0);
    }
    if (!valid || coding.empty()) continue;
    if (iequals(coding, "br")) {
      br = q;
    } else if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
      gzip = q;
    } else if (coding == "*") {
      any = q;
    }
  }
  return {br.value_or(any.value_or(0)), gzip.value_or(any.value_or(0))};
}

StaticFiles StaticFiles::load(const fs::path& root, std::uint64_t max_total_bytes) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    throw std::runtime_error("web root " + root.string() + " is not a directory");
  }
  StaticFiles out;
  out.root_ = fs::canonical(root);
  std::map<std::string, std::string, std::less<>> contents;  // relative path -> bytes
  fs::recursive_directory_iterator it(out.root_, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    const fs::path& file = entry.path();
    std::error_code status_error;
    if (entry.is_symlink(status_error)) {
      // Followed only to files inside the root: a link out of it would publish that file.
      const fs::path target = fs::weakly_canonical(file, status_error);
      if (status_error || !inside(out.root_, target)) {
        throw std::runtime_error(
            "web root " + out.root_.string() + ": " + file.string() + " is a symlink to " +
            fs::read_symlink(file, status_error).string() + ", outside the web root");
      }
      if (!fs::is_regular_file(target, status_error)) continue;  // a directory, or dangling
    } else if (!entry.is_regular_file(status_error)) {
      continue;
    }
    const std::uintmax_t size = fs::file_size(file, status_error);
    if (status_error) {
      throw std::runtime_error("web root: cannot read " + file.string() + ": " +
                               status_error.message());
    }
    out.total_bytes_ += size;
    if (out.total_bytes_ > max_total_bytes) {
      throw std::runtime_error("web root " + out.root_.string() + " holds more than " +
                               std::to_string(max_total_bytes >> 20) + " MiB (reached at " +
                               file.string() + ", " + std::to_string(size) +
                               " bytes): is it the built app?");
    }
    contents.emplace(file.lexically_relative(out.root_).generic_string(), read_file(file, size));
  }
  if (ec) {
    throw std::runtime_error("web root " + out.root_.string() + ": cannot list: " + ec.message());
  }
  for (auto& [name, bytes] : contents) {
    if (is_precompressed_name(name)) continue;
    const FileType& type = file_type(name);
    File f;
    f.content_type = std::string(type.content_type);
    f.compressible = type.compressible;
    f.immutable = name.starts_with("assets/");
    f.identity.etag = etag_of(bytes, "");
    f.identity.bytes = std::move(bytes);
    if (auto br = contents.find(name + ".br"); br != contents.end()) {
      f.br = Representation{br->second, etag_of(br->second, "-br")};
    }
    if (auto gz = contents.find(name + ".gz"); gz != contents.end()) {
      f.gzip = Representation{gz->second, etag_of(gz->second, "-gz")};
    }
    out.files_.emplace(name, std::move(f));
  }
  return out;
}

const StaticFiles::File* StaticFiles::find(std::string_view path) const {
  const auto name = relative_path(path);
  if (!name) return nullptr;
  if (name->empty()) {
    const auto it = files_.find("index.html");
    return it == files_.end() ? nullptr : &it->second;
  }
  if (const auto it = files_.find(*name); it != files_.end()) return &it->second;
  if (const auto it = files_.find(*name + ".html"); it != files_.end()) return &it->second;
  return nullptr;
}

HttpResponse StaticFiles::handle(const HttpRequest& request) const {
  const std::string_view path = path_of(request);
  if (auto refused = refuse_method(request, path)) return std::move(*refused);
  const File* file = find(path);
  if (!file) return not_found(request, path);

  const Representation* chosen = &file->identity;
  std::string_view coding;
  if (file->br || file->gzip) {
    const AcceptedEncodings accepted =
        parse_accept_encoding(field_list(request, http::field::accept_encoding));
    const int br = file->br ? accepted.br : 0;
    const int gzip = file->gzip ? accepted.gzip : 0;
    if (br > 0 && br >= gzip) {
      chosen = &*file->br;
      coding = "br";
    } else if (gzip > 0) {
      chosen = &*file->gzip;
      coding = "gzip";
    }
  }
  const bool varies = file->compressible || file->br || file->gzip;
  const std::string_view cache = file->immutable ? kImmutable : kRevalidate;

  if (none_match_hits(request, chosen->etag)) {
    auto res = base_response(request, http::status::not_modified);
    res.set(http::field::etag, chosen->etag);
    res.set(http::field::cache_control, cache);
    if (varies) res.set(http::field::vary, "Accept-Encoding");
    res.set("X-Content-Type-Options", "nosniff");
    return res;
  }
  auto res = base_response(request, http::status::ok);
  res.set(http::field::content_type, file->content_type);
  res.set(http::field::etag, chosen->etag);
  res.set(http::field::cache_control, cache);
  if (varies) res.set(http::field::vary, "Accept-Encoding");
  if (!coding.empty()) res.set(http::field::content_encoding, coding);
  res.set("X-Content-Type-Options", "nosniff");
  if (file->content_type.starts_with("text/html")) res.set("Referrer-Policy", "no-referrer");
  if (request.method() == http::verb::head) {
    res.content_length(chosen->bytes.size());
  } else {
    res.body() = chosen->bytes;
    res.prepare_payload();
  }
  return res;
}

HttpResponse web_app_not_built(const HttpRequest& request) {
  const std::string_view path = path_of(request);
  if (auto refused = refuse_method(request, path)) return std::move(*refused);
  if (path == "/" || path == "/index.html" || path == "/leaderboard" ||
      path == "/leaderboard.html" || path == "/console" || path == "/console.html") {
    return error_response(
        request, http::status::not_found, "web_app_not_built",
        "the browser app is not built: run `npm ci && npm run build` in web/ (or pass --web-root)");
  }
  return not_found(request, path);
}

}  // namespace splitstream
