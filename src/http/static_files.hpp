// The built browser app (web/dist) served from memory: every file is read once at start-up, so
// answering a request does no I/O. Content types by extension, precompressed siblings (FILE.br,
// FILE.gz) chosen by Accept-Encoding, strong ETags and If-None-Match, long-lived caching for the
// content-hashed files under assets/ and revalidation for the rest.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "http/router.hpp"

namespace splitstream {

// The codings a client accepts, from its Accept-Encoding header (RFC 9110 12.5.3): each token's
// q-value in thousandths (q=0.5 is 500), `*` for the codings not named; 0 refuses. No header:
// none but identity.
struct AcceptedEncodings {
  int br = 0;
  int gzip = 0;
};
AcceptedEncodings parse_accept_encoding(std::string_view header);

// 64-bit FNV-1a.
std::uint64_t fnv1a64(std::string_view bytes);

class StaticFiles {
 public:
  static constexpr std::uint64_t kMaxTotalBytes = 64ull << 20;

  // Reads every regular file under `root` into memory. Throws std::runtime_error naming the file
  // when the files add up to more than `max_total_bytes`, when a symlink points outside `root`,
  // or when a file cannot be read; naming `root` when it is not a directory.
  static StaticFiles load(const std::filesystem::path& root,
                          std::uint64_t max_total_bytes = kMaxTotalBytes);

  // GET and HEAD: the file the path maps to ("/" -> index.html, "/X" -> X, else X.html), or a
  // JSON 404; other methods: 405. Never an I/O call.
  HttpResponse handle(const HttpRequest& request) const;

  const std::filesystem::path& root() const { return root_; }
  // Files served by their own names (precompressed siblings not counted).
  std::size_t file_count() const { return files_.size(); }
  // Bytes held in memory, siblings included.
  std::uint64_t total_bytes() const { return total_bytes_; }

 private:
  struct Representation {
    std::string bytes;
    std::string etag;  // quoted, strong
  };
  struct File {
    std::string content_type;
    bool compressible = false;  // by type: the response varies on Accept-Encoding
    bool immutable = false;     // under assets/: content-hashed names
    Representation identity;
    std::optional<Representation> br;
    std::optional<Representation> gzip;
  };

  const File* find(std::string_view path) const;

  std::filesystem::path root_;
  std::map<std::string, File, std::less<>> files_;  // by path relative to the root, '/'-separated
  std::uint64_t total_bytes_ = 0;
};

// The fallback while the browser app is not built: its pages ("/", "/index.html", "/leaderboard",
// "/leaderboard.html", "/console", "/console.html") answer 404 `web_app_not_built` with how to
// build it, other paths 404 `not_found`, methods other than GET and HEAD 405.
HttpResponse web_app_not_built(const HttpRequest& request);

}  // namespace splitstream
