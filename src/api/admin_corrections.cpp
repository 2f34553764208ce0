#include "api/admin_corrections.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <optional>

#include "api/admin_api.hpp"
#include "api/officials.hpp"
#include "api/rest_api.hpp"
#include "core/time.hpp"
#include "engine/corrections.hpp"
#include "observe/log.hpp"
#include "store/correction_entry.hpp"
#include "store/stream_follower.hpp"

// GCC 12 reports a mismatched new/delete on admin_corrections's coroutine frame, which Asio
// allocates and frees with its own operators: a false positive of that compiler (it appeared
// when the handler left an anonymous namespace), silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace splitstream {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kAppliedPoll{10};

asio::awaitable<void> pause(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(kNoThrow);
}

// The steps below run on the strand that owns what they touch; each is a coroutine function
// with its arguments by value (GCC 12 destroys a coroutine lambda's captures twice).
asio::awaitable<std::optional<std::string>> check_here(std::shared_ptr<AdminContext> admin,
                                                       Correction c) {
  co_return check_correction(admin->engine, c);
}

asio::awaitable<RedisConnection::CommandResult> append_here(std::shared_ptr<AdminContext> admin,
                                                            std::vector<std::string> command) {
  co_return co_await admin->redis->command(std::move(command));
}

asio::awaitable<std::optional<CorrectionRecord>> record_here(std::shared_ptr<AdminContext> admin,
                                                             std::string id) {
  const CorrectionRecord* r = admin->corrections.find(id);
  co_return r ? std::optional<CorrectionRecord>(*r) : std::nullopt;
}

asio::awaitable<std::string> log_here(std::shared_ptr<AdminContext> admin, std::size_t limit) {
  co_return corrections_json(admin->corrections, limit, admin->utc_offset_minutes);
}

// The engine's record of stream entry `id` once it has applied it (up to `wait`), else null.
asio::awaitable<std::optional<CorrectionRecord>> await_applied(std::shared_ptr<AdminContext> admin,
                                                               std::string id,
                                                               std::chrono::milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  for (;;) {
    if (compare_stream_ids(admin->pipeline.progress().last_id, id) >= 0) break;
    if (Clock::now() >= deadline) co_return std::nullopt;
    co_await pause(kAppliedPoll);
  }
  co_return co_await asio::co_spawn(admin->engine_strand, record_here(admin, id),
                                    asio::use_awaitable);
}

// Making a correction needs an official; reading the log (or being told a method is not
// allowed) a viewer.
OfficialRole role_needed(const HttpRequest& request) {
  if (request.method() == http::verb::post) return OfficialRole::official;
  return OfficialRole::viewer;
}

std::string correction_reply(const std::string& id, const Correction& c, bool applied,
                             const std::optional<std::string>& error, int offset) {
  boost::json::object o{{"id", id},
                        {"applied", applied},
                        {"correction", boost::json::parse(correction_json(c, offset))}};
  if (error) o["error"] = *error;
  return boost::json::serialize(o);
}

}  // namespace

asio::awaitable<HttpResponse> admin_corrections(HttpRequest request,
                                                std::shared_ptr<AdminContext> admin) {
  auto who = authorize_official(request, *admin->officials, role_needed(request), wall_clock_now(),
                                "making a correction");
  if (auto* denied = std::get_if<HttpResponse>(&who)) co_return std::move(*denied);
  const Official official = std::get<Official>(who);
  if (request.method() == http::verb::get || request.method() == http::verb::head) {
    const auto query = parse_query(
        request.target().substr(std::min(request.target().size(), request.target().find('?') + 1)));
    std::size_t limit = 1000;
    if (auto it = query.find("limit"); it != query.end()) {
      limit = static_cast<std::size_t>(std::strtoull(it->second.c_str(), nullptr, 10));
      if (limit == 0 || limit > 10'000) {
        co_return error_response(request, http::status::bad_request, "bad_request",
                                 "limit must be from 1 to 10000");
      }
    }
    std::string body =
        co_await asio::co_spawn(admin->engine_strand, log_here(admin, limit), asio::use_awaitable);
    co_return json_response(request, http::status::ok, std::move(body));
  }
  if (request.method() != http::verb::post) {
    auto res = error_response(request, http::status::method_not_allowed, "method_not_allowed",
                              "use GET to list corrections, POST to make one");
    res.set(http::field::allow, "GET, HEAD, POST");
    co_return res;
  }
  auto parsed = parse_correction_request(request.body(), admin->utc_offset_minutes);
  if (auto* bad = std::get_if<AdminRequestError>(&parsed)) {
    co_return error_response(request, http::status::bad_request, "bad_request", bad->message);
  }
  Correction correction = std::get<Correction>(parsed);
  correction.by = official.name;
  if (auto problem = co_await asio::co_spawn(admin->engine_strand, check_here(admin, correction),
                                             asio::use_awaitable)) {
    co_return error_response(request, http::status::unprocessable_entity, "invalid_correction",
                             *problem);
  }
  auto [ec, reply] = co_await asio::co_spawn(
      admin->ingest_strand, append_here(admin, correction_xadd_command(admin->stream, correction)),
      asio::use_awaitable);
  if (ec || !reply.is_string()) {
    co_return error_response(
        request, http::status::service_unavailable, "unavailable",
        "Redis: " + (ec ? ec.message() : reply.as_string()) + "; nothing was recorded, try again");
  }
  const std::string id = reply.as_string();
  log::info("corrections", "recorded",
            {{"id", id},
             {"kind", std::string(to_string(correction.kind))},
             {"bib", correction.bib},
             {"by", correction.by}});
  const auto record = co_await await_applied(admin, id, std::chrono::seconds(2));
  if (!record) {
    co_return json_response(
        request, http::status::accepted,
        correction_reply(id, correction, false, std::nullopt, admin->utc_offset_minutes));
  }
  co_return json_response(
      request, record->error ? http::status::unprocessable_entity : http::status::created,
      correction_reply(id, correction, !record->error, record->error, admin->utc_offset_minutes));
}

}  // namespace splitstream
