#include "server/web_app.hpp"

#include <filesystem>
#include <string>
#include <system_error>

#include "observe/log.hpp"

namespace splitstream {

std::shared_ptr<const StaticFiles> load_web_app(const ServerConfig& config) {
  const std::string tiles = config.map_tiles.empty() ? std::string("no map tiles (--map-tiles)")
                                                     : "map tiles from " + config.map_tiles;
  if (config.map_tiles.empty() && !config.map_attribution.empty())
    log::warn("web", "--map-attribution is set but --map-tiles is not: no tiles to attribute");
  std::error_code ec;
  const std::filesystem::path executable = std::filesystem::read_symlink("/proc/self/exe", ec);
  const auto root = resolve_web_root(config.web_root, ec ? std::filesystem::path() : executable);
  if (!root) {
    log::info("web",
              "the browser app is not built: / answers 404 web_app_not_built (run `npm ci && npm "
              "run build` in web/, or pass --web-root); " +
                  tiles);
    return nullptr;
  }
  auto app = std::make_shared<const StaticFiles>(StaticFiles::load(*root));
  log::info("web", "browser app from " + app->root().string() + ": " +
                       std::to_string(app->file_count()) + " files, " +
                       std::to_string((app->total_bytes() + 1023) / 1024) +
                       " KiB in memory with precompressed copies; " + tiles);
  return app;
}

}  // namespace splitstream
