// The browser app served from memory: path mapping, content types, Accept-Encoding negotiation
// over precompressed siblings, ETags and 304, HEAD, methods, traversal, and what load() refuses.
#include "http/static_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace splitstream {
namespace {

namespace fs = std::filesystem;
using Headers = std::vector<std::pair<http::field, std::string>>;

void write(const fs::path& file, std::string_view bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << bytes;
}

// A web/dist-like tree in a fresh temp dir: <tmp>/dist, with <tmp>/secret next to it.
class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    tmp_ = fs::temp_directory_path() /
           ("splitstream-static-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(tmp_);
    dist_ = tmp_ / "dist";
    write(tmp_ / "secret", "not for the web");
    write(dist_ / "index.html", "<!doctype html><title>map</title>");
    write(dist_ / "index.html.br", std::string("BR\0index", 8));
    write(dist_ / "index.html.gz", std::string("\x1f\x8bGZindex", 9));
    write(dist_ / "leaderboard.html", "<!doctype html><title>leaderboard</title>");
    write(dist_ / "favicon.svg", "<svg/>");
    write(dist_ / "favicon.svg.gz", "GZsvg");
    write(dist_ / "assets/app-3f2a91c0.js", "console.log('app');");
    write(dist_ / "assets/app-3f2a91c0.js.br", "BRjs");
    write(dist_ / "assets/app-3f2a91c0.js.gz", "GZjs");
    write(dist_ / "assets/app-3f2a91c0.js.map", "{\"version\":3}");
    write(dist_ / "assets/app-77e0d1aa.css", "body{margin:0}");
    write(dist_ / "assets/font-1b2c.woff2", "wOF2");
    write(dist_ / "data.json", "{}");
    write(dist_ / "logo.png", "\x89PNG");
    write(dist_ / "favicon.ico", "ico");
    write(dist_ / "robots.txt", "User-agent: *");
    write(dist_ / "blob.bin", "bin");
  }
  void TearDown() override { fs::remove_all(tmp_); }

  const StaticFiles& files() {
    if (!files_) files_ = StaticFiles::load(dist_);
    return *files_;
  }

  HttpResponse request(std::string target, const Headers& headers = {},
                       http::verb method = http::verb::get) {
    HttpRequest req{method, target, 11};
    req.set(http::field::host, "localhost");
    for (const auto& [field, value] : headers)
      req.insert(field, value);
    return files().handle(req);
  }

  fs::path tmp_;
  fs::path dist_;
  std::optional<StaticFiles> files_;
};

std::string header(const HttpResponse& res, http::field field) {
  const auto it = res.find(field);
  return it == res.end() ? std::string() : std::string(it->value());
}

std::string header(const HttpResponse& res, std::string_view name) {
  const auto it = res.find(name);
  return it == res.end() ? std::string() : std::string(it->value());
}

std::string error_code(const HttpResponse& res) {
  const auto body = boost::json::parse(res.body());
  return std::string(body.at("error").at("code").as_string());
}

TEST_F(StaticFilesTest, LoadsEveryFileButServesSiblingsOnlyThroughNegotiation) {
  EXPECT_EQ(files().file_count(), 12u);  // 17 files, 5 of them .br/.gz siblings
  EXPECT_EQ(files().root(), fs::canonical(dist_));
  EXPECT_GT(files().total_bytes(), 100u);
}

TEST_F(StaticFilesTest, MapsPathsToFiles) {
  auto res = request("/");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "<!doctype html><title>map</title>");
  EXPECT_EQ(request("/index.html").body(), res.body());
  EXPECT_EQ(request("/index").body(), res.body());
  EXPECT_EQ(request("/?race=10k&bib=7").body(), res.body());  // query ignored
  EXPECT_EQ(request("/leaderboard").body(), "<!doctype html><title>leaderboard</title>");
  EXPECT_EQ(request("/leaderboard?race=marathon").body(),
            "<!doctype html><title>leaderboard</title>");
  EXPECT_EQ(request("/leaderboard.html").body(), "<!doctype html><title>leaderboard</title>");
  EXPECT_EQ(request("/assets/app-3f2a91c0.js").body(), "console.log('app');");
  EXPECT_EQ(request("/assets/app%2D3f2a91c0.js").body(), "console.log('app');");  // %-decoded
  for (const char* missing : {"/nope", "/assets", "/assets/", "/leaderboard/", "/Index.html",
                              "/assets/app-3f2a91c0", "/secret"}) {
    res = request(missing);
    EXPECT_EQ(res.result(), http::status::not_found) << missing;
    EXPECT_EQ(error_code(res), "not_found") << missing;
    EXPECT_EQ(header(res, http::field::content_type), "application/json") << missing;
  }
  EXPECT_EQ(request("/nope?x=1").body(),
            R"({"error":{"code":"not_found","message":"no resource at /nope"}})");
}

TEST_F(StaticFilesTest, ContentTypesByExtension) {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"/", "text/html; charset=utf-8"},
      {"/leaderboard", "text/html; charset=utf-8"},
      {"/assets/app-3f2a91c0.js", "text/javascript; charset=utf-8"},
      {"/assets/app-77e0d1aa.css", "text/css; charset=utf-8"},
      {"/favicon.svg", "image/svg+xml"},
      {"/data.json", "application/json"},
      {"/assets/app-3f2a91c0.js.map", "application/json"},
      {"/logo.png", "image/png"},
      {"/favicon.ico", "image/x-icon"},
      {"/assets/font-1b2c.woff2", "font/woff2"},
      {"/robots.txt", "text/plain; charset=utf-8"},
      {"/blob.bin", "application/octet-stream"},
  };
  for (const auto& [path, type] : expected) {
    const auto res = request(path);
    EXPECT_EQ(res.result(), http::status::ok) << path;
    EXPECT_EQ(header(res, http::field::content_type), type) << path;
    EXPECT_EQ(header(res, "X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(header(res, "Content-Security-Policy"), "") << path;
  }
  EXPECT_EQ(header(request("/"), "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(header(request("/leaderboard"), "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(header(request("/assets/app-3f2a91c0.js"), "Referrer-Policy"), "");
}

TEST(AcceptEncoding, TokensQValuesAndTheWildcard) {
  auto both = [](std::string_view h) {
    const auto a = parse_accept_encoding(h);
    return std::pair(a.br, a.gzip);
  };
  EXPECT_EQ(both(""), std::pair(0, 0));
  EXPECT_EQ(both("br, gzip"), std::pair(1000, 1000));
  EXPECT_EQ(both("gzip, deflate"), std::pair(0, 1000));
  EXPECT_EQ(both("BR;Q=0.5 ,  GZip ; q=0.25"), std::pair(500, 250));
  EXPECT_EQ(both("br;q=0, gzip;q=1.000"), std::pair(0, 1000));
  EXPECT_EQ(both("*"), std::pair(1000, 1000));
  EXPECT_EQ(both("*;q=0"), std::pair(0, 0));
  EXPECT_EQ(both("br;q=0, *;q=0.5"), std::pair(0, 500));
  EXPECT_EQ(both("x-gzip"), std::pair(0, 1000));
  EXPECT_EQ(both("identity"), std::pair(0, 0));
  EXPECT_EQ(both("br;q=2, gzip;q=0.x, *;q=.5"), std::pair(0, 0));  // malformed: ignored
  EXPECT_EQ(both("gzip;level=9;q=0.3"), std::pair(0, 300));
  EXPECT_EQ(both(",,br,"), std::pair(1000, 0));
}

TEST_F(StaticFilesTest, NegotiatesPrecompressedSiblings) {
  struct Case {
    std::string accept;  // "-": no header
    std::string encoding;
  };
  const std::vector<Case> cases = {
      {"-", ""},
      {"br, gzip", "br"},
      {"gzip, deflate, br", "br"},
      {"gzip", "gzip"},
      {"br;q=0, gzip", "gzip"},
      {"gzip;q=0.5, br;q=0.4", "gzip"},
      {"gzip;q=0.5, br;q=0.5", "br"},
      {"*", "br"},
      {"*;q=0", ""},
      {"br;q=0, *", "gzip"},
      {"gzip;q=0, br;q=0", ""},
      {"identity", ""},
      {"deflate", ""},
  };
  for (const Case& c : cases) {
    Headers h;
    if (c.accept != "-") h.emplace_back(http::field::accept_encoding, c.accept);
    const auto res = request("/assets/app-3f2a91c0.js", h);
    EXPECT_EQ(header(res, http::field::content_encoding), c.encoding) << c.accept;
    EXPECT_EQ(header(res, http::field::vary), "Accept-Encoding") << c.accept;
    EXPECT_EQ(header(res, http::field::content_type), "text/javascript; charset=utf-8");
    const std::string body = c.encoding == "br"     ? "BRjs"
                             : c.encoding == "gzip" ? "GZjs"
                                                    : "console.log('app');";
    EXPECT_EQ(res.body(), body) << c.accept;
    EXPECT_EQ(header(res, http::field::content_length), std::to_string(body.size()));
  }
  // Binary bytes come through as they are.
  auto res = request("/", {{http::field::accept_encoding, "br"}});
  EXPECT_EQ(res.body(), std::string("BR\0index", 8));
  // Two Accept-Encoding fields are one list.
  res = request("/", {{http::field::accept_encoding, "gzip;q=0.1"},
                      {http::field::accept_encoding, "br;q=0.9"}});
  EXPECT_EQ(header(res, http::field::content_encoding), "br");
  // Only a .gz sibling: gzip even for a client preferring br.
  res = request("/favicon.svg", {{http::field::accept_encoding, "br, gzip"}});
  EXPECT_EQ(header(res, http::field::content_encoding), "gzip");
  EXPECT_EQ(res.body(), "GZsvg");
  // Compressible without siblings: identity, still Vary. Not compressible: no Vary.
  res = request("/leaderboard", {{http::field::accept_encoding, "br, gzip"}});
  EXPECT_EQ(header(res, http::field::content_encoding), "");
  EXPECT_EQ(header(res, http::field::vary), "Accept-Encoding");
  res = request("/logo.png", {{http::field::accept_encoding, "br, gzip"}});
  EXPECT_EQ(header(res, http::field::vary), "");
  EXPECT_EQ(header(res, http::field::content_encoding), "");
}

TEST_F(StaticFilesTest, SiblingsAreNeverServedByTheirOwnNames) {
  for (const char* path : {"/index.html.br", "/index.html.gz", "/assets/app-3f2a91c0.js.br",
                           "/assets/app-3f2a91c0.js.gz", "/favicon.svg.gz"}) {
    const auto res = request(path, {{http::field::accept_encoding, "br, gzip"}});
    EXPECT_EQ(res.result(), http::status::not_found) << path;
    EXPECT_EQ(error_code(res), "not_found") << path;
  }
}

TEST_F(StaticFilesTest, CachingHashedAssetsForeverTheRestRevalidated) {
  const std::string forever = "public, max-age=31536000, immutable";
  EXPECT_EQ(header(request("/assets/app-3f2a91c0.js"), http::field::cache_control), forever);
  EXPECT_EQ(header(request("/assets/app-77e0d1aa.css"), http::field::cache_control), forever);
  for (const char* path : {"/", "/leaderboard", "/favicon.svg", "/data.json", "/logo.png"})
    EXPECT_EQ(header(request(path), http::field::cache_control), "no-cache") << path;
}

TEST_F(StaticFilesTest, StrongETagPerRepresentation) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
  const std::string identity = header(request("/assets/app-3f2a91c0.js"), http::field::etag);
  const std::string br =
      header(request("/assets/app-3f2a91c0.js", {{http::field::accept_encoding, "br"}}),
             http::field::etag);
  const std::string gz =
      header(request("/assets/app-3f2a91c0.js", {{http::field::accept_encoding, "gzip"}}),
             http::field::etag);
  // "<16 lowercase hex digits><suffix>" (no std::regex: GCC 12 warns inside it at -O1).
  auto is_etag = [](const std::string& tag, std::string_view suffix) {
    if (tag.size() != 18 + suffix.size() || tag.front() != '"' || tag.back() != '"') return false;
    for (std::size_t i = 1; i <= 16; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(tag[i])) && (tag[i] < 'a' || tag[i] > 'f'))
        return false;
    }
    return tag.substr(17, suffix.size()) == suffix;
  };
  EXPECT_TRUE(is_etag(identity, "")) << identity;
  EXPECT_TRUE(is_etag(br, "-br")) << br;
  EXPECT_TRUE(is_etag(gz, "-gz")) << gz;
  EXPECT_NE(identity, br);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(fnv1a64("console.log('app');")));
  EXPECT_EQ(identity, "\"" + std::string(hex) + "\"");
  EXPECT_NE(header(request("/"), http::field::etag),
            header(request("/leaderboard"), http::field::etag));
}

TEST_F(StaticFilesTest, IfNoneMatchAnswers304) {
  const std::string path = "/assets/app-3f2a91c0.js";
  const Headers br{{http::field::accept_encoding, "br, gzip"}};
  const std::string etag = header(request(path, br), http::field::etag);
  const std::string identity_etag = header(request(path), http::field::etag);
  for (const std::string& inm :
       {etag, "\"other\", " + etag, "W/" + etag, std::string("*"), "\"x\",W/" + etag + ",\"y\""}) {
    Headers h = br;
    h.emplace_back(http::field::if_none_match, inm);
    const auto res = request(path, h);
    EXPECT_EQ(res.result(), http::status::not_modified) << inm;
    EXPECT_EQ(res.body(), "") << inm;
    EXPECT_EQ(header(res, http::field::etag), etag) << inm;
    EXPECT_EQ(header(res, http::field::cache_control), "public, max-age=31536000, immutable");
    EXPECT_EQ(header(res, http::field::vary), "Accept-Encoding");
    EXPECT_EQ(header(res, http::field::content_length), "");
  }
  // Another representation's tag, a changed file's tag, garbage: the full answer.
  for (const std::string& inm : {identity_etag, std::string("\"0000000000000000\""),
                                 etag.substr(1, etag.size() - 2), std::string("W/")}) {
    Headers h = br;
    h.emplace_back(http::field::if_none_match, inm);
    const auto res = request(path, h);
    EXPECT_EQ(res.result(), http::status::ok) << inm;
    EXPECT_EQ(res.body(), "BRjs") << inm;
  }
  // HEAD revalidates too; the page (no-cache) as well.
  auto res = request("/", {{http::field::if_none_match, header(request("/"), http::field::etag)}},
                     http::verb::head);
  EXPECT_EQ(res.result(), http::status::not_modified);
  EXPECT_EQ(header(res, http::field::cache_control), "no-cache");
}

TEST_F(StaticFilesTest, HeadHasTheHeadersOfGetAndNoBody) {
  const Headers br{{http::field::accept_encoding, "br"}};
  const auto get = request("/assets/app-3f2a91c0.js", br);
  const auto head = request("/assets/app-3f2a91c0.js", br, http::verb::head);
  EXPECT_EQ(head.result(), http::status::ok);
  EXPECT_EQ(head.body(), "");
  EXPECT_EQ(header(head, http::field::content_length), "4");
  for (const auto field :
       {http::field::content_type, http::field::etag, http::field::cache_control, http::field::vary,
        http::field::content_encoding, http::field::content_length}) {
    EXPECT_EQ(header(head, field), header(get, field)) << field;
  }
}

TEST_F(StaticFilesTest, OtherMethodsAre405) {
  for (const auto method : {http::verb::post, http::verb::put, http::verb::delete_,
                            http::verb::patch, http::verb::options}) {
    for (const char* path : {"/", "/nope"}) {
      const auto res = request(path, {}, method);
      EXPECT_EQ(res.result(), http::status::method_not_allowed) << path;
      EXPECT_EQ(header(res, http::field::allow), "GET, HEAD");
      EXPECT_EQ(error_code(res), "method_not_allowed");
    }
  }
}

TEST_F(StaticFilesTest, TraversalAndOddPathsAre404) {
  for (const char* path : {"/../secret",
                           "/assets/../../secret",
                           "/%2e%2e/secret",
                           "/%2E%2E/secret",
                           "/assets/%2e%2e/%2e%2e/secret",
                           "/..%2fsecret",
                           "/assets/..%2F..%2Fsecret",
                           "/..\\secret",
                           "/%5c..%5csecret",
                           "/assets\\app-3f2a91c0.js",
                           "/index.html%00",
                           "/index.html%00.png",
                           "//index.html",
                           "/./index.html",
                           "/assets/./app-3f2a91c0.js",
                           "/%zz",
                           "/%2",
                           "index.html",
                           "http://localhost/index.html",
                           "/%2e",
                           "/.."}) {
    const auto res = request(path);
    EXPECT_EQ(res.result(), http::status::not_found) << path;
    EXPECT_EQ(error_code(res), "not_found") << path;
    EXPECT_EQ(res.body().find("not for the web"), std::string::npos) << path;
  }
}

TEST_F(StaticFilesTest, SymlinksInsideTheRootAreServed) {
  fs::create_symlink("leaderboard.html", dist_ / "board.html");
  EXPECT_EQ(request("/board").body(), "<!doctype html><title>leaderboard</title>");
}

TEST_F(StaticFilesTest, RefusesSymlinksOutOfTheRootNamingThem) {
  fs::create_symlink("../../secret", dist_ / "assets" / "leak.txt");
  try {
    StaticFiles::load(dist_);
    FAIL() << "loaded a symlink out of the root";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("assets/leak.txt"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("outside the web root"), std::string::npos) << e.what();
  }
  fs::remove(dist_ / "assets" / "leak.txt");
  fs::create_symlink(tmp_, dist_ / "up");  // a directory link out
  EXPECT_THROW(StaticFiles::load(dist_), std::runtime_error);
  fs::remove(dist_ / "up");
  fs::create_symlink("/etc/hostname", dist_ / "host.txt");
  EXPECT_THROW(StaticFiles::load(dist_), std::runtime_error);
}

TEST_F(StaticFilesTest, RefusesMoreThan64MiBNamingTheFile) {
  // A sparse file: its size counts, no disk or memory is used (sizes are checked before reading).
  const fs::path big = dist_ / "assets" / "huge.bin";
  write(big, "");
  fs::resize_file(big, StaticFiles::kMaxTotalBytes);
  try {
    StaticFiles::load(dist_);
    FAIL() << "loaded more than 64 MiB";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("more than 64 MiB"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(fs::canonical(dist_).string()), std::string::npos)
        << e.what();
  }
  fs::resize_file(big, 1000);  // and a smaller limit, to see which file is named
  try {
    StaticFiles::load(dist_, 900);
    FAIL() << "loaded more than the limit";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("huge.bin"), std::string::npos) << e.what();
  }
}

TEST_F(StaticFilesTest, RefusesARootThatIsNotADirectory) {
  EXPECT_THROW(StaticFiles::load(tmp_ / "missing"), std::runtime_error);
  EXPECT_THROW(StaticFiles::load(tmp_ / "secret"), std::runtime_error);
}

TEST(WebAppNotBuilt, PagesSayHowToBuildTheAppOtherPathsAre404) {
  for (const char* path : {"/", "/?x=1", "/index.html", "/leaderboard", "/leaderboard.html",
                           "/console", "/console.html"}) {
    const HttpRequest req{http::verb::get, path, 11};
    const auto res = web_app_not_built(req);
    EXPECT_EQ(res.result(), http::status::not_found) << path;
    EXPECT_EQ(res.body(),
              R"x({"error":{"code":"web_app_not_built","message":"the browser app is not built: )x"
              R"x(run `npm ci && npm run build` in web/ (or pass --web-root)"}})x");
  }
  auto res = web_app_not_built(HttpRequest{http::verb::get, "/assets/app.js", 11});
  EXPECT_EQ(error_code(res), "not_found");
  res = web_app_not_built(HttpRequest{http::verb::post, "/", 11});
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
}

}  // namespace
}  // namespace splitstream
