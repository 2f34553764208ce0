// `splitstream serve` serving the browser app over real HTTP: pages, a hashed asset in its
// precompressed form, revalidation, /api/v1/config, the API's own 404s untouched; the default web
// root next to the build directory, the answer when the app is not built, and start-up errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/child_process.hpp"
#include "support/redis_server.hpp"
#include "support/serve_node.hpp"

namespace splitstream::testing {
using test_support::RedisServer;
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
const std::string kBin = SPLITSTREAM_BIN_DIR "/splitstream";
const std::string kDemo = SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025";
const std::string kTiles = "https://tile.example.org/{z}/{x}/{y}.png";
const std::string kAsset = "assets/app-3f2a91c0.js";

void write(const fs::path& file, std::string_view bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << bytes;
}

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A temp dir removed at the end; `under` puts it on the build tree's filesystem (hard links).
struct TempDir {
  explicit TempDir(const fs::path& under = fs::temp_directory_path()) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path = under / ("splitstream-webapp-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

// A built app as `npm run build` leaves it: pages, a hashed asset, precompressed siblings.
void write_app(const fs::path& dist) {
  write(dist / "index.html", "<!doctype html><title>Splitstream map</title>");
  write(dist / "index.html.gz", std::string("\x1f\x8b\x08\0index", 9));
  write(dist / "index.html.br", std::string("\x0b\x02\x80index\0br", 11));
  write(dist / "leaderboard.html", "<!doctype html><title>Splitstream leaderboard</title>");
  write(dist / "favicon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
  write(dist / kAsset, "import{m as a}from'./map.js';a();");
  write(dist / (kAsset + ".gz"), std::string("\x1f\x8b\x08\0\0\0\0\0js-gzip", 15));
  write(dist / (kAsset + ".br"), std::string("\x1b\x21\0\xff\x80js-brotli\0\x01", 16));
}

HttpResult get(int port, const std::string& path, const std::string& headers = "",
               const std::string& method = "GET") {
  return http_exchange(port, method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n" + headers +
                                 "Connection: close\r\n\r\n");
}

bool has(const HttpResult& r, const std::string& header_line) {
  return r.headers.find("\r\n" + header_line + "\r\n") != std::string::npos ||
         r.headers.ends_with("\r\n" + header_line);
}

std::string header_value(const HttpResult& r, const std::string& name) {
  const auto at = r.headers.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  const auto start = at + name.size() + 4;
  return r.headers.substr(start, r.headers.find("\r\n", start) - start);
}

class ServeWebApp : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = tmp_.path / "device-tokens";
    write(tokens_, "arch-main s3cret-main\n");
    dist_ = tmp_.path / "dist";
    write_app(dist_);
  }
  TempDir tmp_;
  fs::path tokens_;
  fs::path dist_;
};

TEST_F(ServeWebApp, ServesTheAppBesideTheApi) {
  RedisServer redis;
  const ServeNode node = start_serve_node(redis.port(), tokens_,
                                          {"--web-root", dist_.string(), "--map-tiles", kTiles,
                                           "--map-attribution", "\xC2\xA9 Example contributors"});
  const int port = node.http;
  ASSERT_EQ(http_get(port, "/readyz").status, 200);

  HttpResult r = http_get(port, "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, read(dist_ / "index.html"));
  EXPECT_TRUE(has(r, "Content-Type: text/html; charset=utf-8")) << r.headers;
  EXPECT_TRUE(has(r, "Cache-Control: no-cache")) << r.headers;
  EXPECT_TRUE(has(r, "Vary: Accept-Encoding")) << r.headers;
  EXPECT_TRUE(has(r, "X-Content-Type-Options: nosniff")) << r.headers;
  EXPECT_TRUE(has(r, "Referrer-Policy: no-referrer")) << r.headers;

  r = http_get(port, "/leaderboard?race=marathon");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, read(dist_ / "leaderboard.html"));

  // The hashed asset, precompressed with brotli: the very bytes of the .br file.
  r = get(port, "/" + kAsset, "Accept-Encoding: br, gzip\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, read(dist_ / (kAsset + ".br")));
  EXPECT_TRUE(has(r, "Content-Encoding: br")) << r.headers;
  EXPECT_TRUE(has(r, "Content-Type: text/javascript; charset=utf-8")) << r.headers;
  EXPECT_TRUE(has(r, "Cache-Control: public, max-age=31536000, immutable")) << r.headers;
  EXPECT_TRUE(has(r, "Vary: Accept-Encoding")) << r.headers;
  const std::string etag = header_value(r, "ETag");
  EXPECT_TRUE(etag.ends_with("-br\"")) << r.headers;
  // gzip when br is refused; identity without the header.
  r = get(port, "/" + kAsset, "Accept-Encoding: br;q=0, gzip\r\n");
  EXPECT_EQ(r.body, read(dist_ / (kAsset + ".gz")));
  EXPECT_TRUE(has(r, "Content-Encoding: gzip")) << r.headers;
  r = http_get(port, "/" + kAsset);
  EXPECT_EQ(r.body, read(dist_ / kAsset));
  EXPECT_EQ(header_value(r, "Content-Encoding"), "");

  // Revalidation with the ETag: 304, no body.
  r = get(port, "/" + kAsset, "Accept-Encoding: br, gzip\r\nIf-None-Match: " + etag + "\r\n");
  EXPECT_EQ(r.status, 304) << r.headers;
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(header_value(r, "ETag"), etag);
  // HEAD: the length of what GET would send, nothing sent.
  r = get(port, "/" + kAsset, "Accept-Encoding: br\r\n", "HEAD");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(header_value(r, "Content-Length"),
            std::to_string(read(dist_ / (kAsset + ".br")).size()));
  EXPECT_EQ(r.body, "");
  // The precompressed files themselves, traversal, other methods.
  EXPECT_EQ(http_get(port, "/" + kAsset + ".br").status, 404);
  r = http_get(port, "/assets/%2e%2e/%2e%2e/device-tokens");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body.find("s3cret"), std::string::npos);
  r = get(port, "/", "", "DELETE");
  EXPECT_EQ(r.status, 405);
  EXPECT_TRUE(has(r, "Allow: GET, HEAD")) << r.headers;

  // The app's settings.
  r = http_get(port, "/api/v1/config");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"map_tiles":{"url":")" + kTiles +
                        "\",\"attribution\":\"\xC2\xA9 Example contributors\"}}");
  EXPECT_TRUE(has(r, "Cache-Control: no-store")) << r.headers;

  // Everything else keeps its behaviour: the REST API (and its 404), health, /ws.
  r = http_get(port, "/api/v1/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(
      r.body,
      R"x({"error":{"code":"not_found","message":"no resource at /api/v1/nope (see docs/api.md)"}})x");
  r = http_get(port, "/api/v2/event");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":{"code":"not_found","message":"no resource at /api/v2/event"}})");
  r = http_get(port, "/api/v1/event");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("id":"pyongyang-2025")"), std::string::npos);
  EXPECT_EQ(http_get(port, "/healthz").body, R"({"status":"ok"})");
  EXPECT_EQ(http_get(port, "/ws").status, 426);
  r = http_get(port, "/nowhere");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":{"code":"not_found","message":"no resource at /nowhere"}})");
}

// A copy of the binary (a hard link, where it can be) at <dir>/build/bin/splitstream: its default
// web root is <dir>/web/dist.
fs::path place_binary(const fs::path& dir) {
  const fs::path exe = dir / "build" / "bin" / "splitstream";
  fs::create_directories(exe.parent_path());
  std::error_code ec;
  fs::create_hard_link(kBin, exe, ec);
  if (ec) fs::copy_file(kBin, exe);
  return exe;
}

std::unique_ptr<ChildProcess> start_without_redis(const fs::path& exe, int port,
                                                  const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"serve",
                                "--event",
                                kDemo,
                                "--http",
                                "127.0.0.1:" + std::to_string(port),
                                "--devices",
                                "127.0.0.1:" + std::to_string(free_port()),
                                "--redis",
                                "redis://127.0.0.1:" + std::to_string(free_port()),
                                "--log-level",
                                "error"};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<ChildProcess>(exe.string(), args);
}

TEST_F(ServeWebApp, DefaultWebRootIsWebDistBesideTheBuildDirectory) {
  const TempDir checkout(fs::path(SPLITSTREAM_BIN_DIR).parent_path());
  const fs::path exe = place_binary(checkout.path);
  write_app(checkout.path / "web" / "dist");
  const int port = free_port();
  auto server = start_without_redis(exe, port);
  ASSERT_NE(wait_for_http(port, "/healthz", 10s).status, 0) << "server did not come up";
  const HttpResult r = get(port, "/", "Accept-Encoding: gzip\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, read(checkout.path / "web" / "dist" / "index.html.gz"));
  EXPECT_EQ(http_get(port, "/api/v1/config").body, R"({"map_tiles":null})");
}

TEST_F(ServeWebApp, WithoutTheAppTheRootSaysHowToBuildIt) {
  const TempDir checkout(fs::path(SPLITSTREAM_BIN_DIR).parent_path());
  const fs::path exe = place_binary(checkout.path);  // no web/dist beside it
  const int port = free_port();
  auto server = start_without_redis(exe, port);
  ASSERT_NE(wait_for_http(port, "/healthz", 10s).status, 0) << "server did not come up";
  HttpResult r = http_get(port, "/");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body,
            R"x({"error":{"code":"web_app_not_built","message":"the browser app is not built: )x"
            R"x(run `npm ci && npm run build` in web/ (or pass --web-root)"}})x");
  r = http_get(port, "/assets/app.js");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find(R"("code":"not_found")"), std::string::npos);
}

TEST_F(ServeWebApp, IngestOnlyNodesServeNoApp) {
  const int port = free_port();
  auto server =
      start_without_redis(kBin, port, {"--roles", "ingest", "--web-root", dist_.string()});
  ASSERT_NE(wait_for_http(port, "/healthz", 10s).status, 0) << "server did not come up";
  EXPECT_EQ(http_get(port, "/").body,
            R"({"error":{"code":"not_found","message":"no resource at /"}})");
  EXPECT_EQ(http_get(port, "/api/v1/config").status, 404);
}

// Runs serve through the shell to see what it says on stderr.
std::pair<std::optional<int>, std::string> run_failing(const fs::path& dir,
                                                       const std::string& flags) {
  const fs::path err = dir / "stderr.txt";
  ChildProcess p("/bin/sh", {"-c", "exec '" + kBin + "' serve --event '" + kDemo +
                                       "' --http 127.0.0.1:" + std::to_string(free_port()) +
                                       " --devices 127.0.0.1:" + std::to_string(free_port()) + " " +
                                       flags + " 2>'" + err.string() + "'"});
  const auto status = p.wait(10s);
  return {status, read(err)};
}

TEST_F(ServeWebApp, AWrongWebRootOrTileUrlStopsStartUpWithAClearMessage) {
  const fs::path empty = tmp_.path / "empty";
  fs::create_directories(empty);
  auto [status, err] = run_failing(tmp_.path, "--web-root '" + empty.string() + "'");
  EXPECT_EQ(status, 1);
  EXPECT_NE(err.find("web root " + empty.string() + " (--web-root) has no index.html"),
            std::string::npos)
      << err;
  std::tie(status, err) = run_failing(tmp_.path, "--map-tiles 'tile.example.org/{z}/{x}/{y}.png'");
  EXPECT_EQ(status, 2);
  EXPECT_NE(err.find("--map-tiles: map-tiles: expected a tile URL starting with http://"),
            std::string::npos)
      << err;
  fs::create_symlink(tmp_.path / "device-tokens", dist_ / "tokens.txt");
  std::tie(status, err) = run_failing(tmp_.path, "--web-root '" + dist_.string() + "'");
  EXPECT_EQ(status, 1);
  EXPECT_NE(err.find("tokens.txt is a symlink to"), std::string::npos) << err;
}

}  // namespace
}  // namespace splitstream::testing
