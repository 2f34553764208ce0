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
#include "api/correction_listing.hpp"
#include "api/correction_undo.hpp"
#include "api/officials.hpp"
#include "api/rest_api.hpp"
#include "core/time.hpp"
#include "engine/corrections.hpp"
#include "observe/log.hpp"
#include "store/correction_entry.hpp"
#include "store/replica_confirm.hpp"
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

// Outside the coroutines: GCC 12 and braced lists or ?: temporaries in them.
std::string_view query_of(std::string_view target) {
  const std::size_t question = target.find('?');
  if (question == std::string_view::npos) return {};
  return target.substr(question + 1);
}

std::variant<Correction, UndoRefused> not_in_log(const std::string& id) {
  return UndoRefused{"no correction " + id + " in this node's log"};
}

HttpResponse csv_response(const HttpRequest& request, std::string body) {
  HttpResponse res{http::status::ok, request.version()};
  res.set(http::field::server, "splitstream");
  res.set(http::field::content_type, "text/csv; charset=utf-8");
  res.set(http::field::content_disposition, "attachment; filename=\"corrections.csv\"");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(request.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// The steps below run on the strand that owns what they touch; each is a coroutine function
// with its arguments by value (GCC 12 destroys a coroutine lambda's captures twice).
asio::awaitable<std::optional<std::string>> check_here(std::shared_ptr<AdminContext> admin,
                                                       Correction c) {
  co_return check_correction(admin->engine, c);
}

// The XADD's outcome and, with --durability replicated, why the replicas did not confirm it.
struct Appended {
  boost::system::error_code error;
  RedisReply reply;
  std::optional<std::string> unconfirmed;
};

asio::awaitable<Appended> append_here(std::shared_ptr<AdminContext> admin,
                                      std::vector<std::string> command) {
  Appended out;
  auto [error, reply] = co_await admin->redis->command(std::move(command));
  out.error = error;
  out.reply = std::move(reply);
  if (!out.error && out.reply.is_string()) {
    // On the same connection as the XADD: WAIT covers it.
    ReplicaConfirmation confirmed = co_await confirm_on_replicas(*admin->redis);
    if (confirmed.error) out.unconfirmed = std::move(confirmed.detail);
  }
  co_return out;
}

asio::awaitable<std::optional<CorrectionRecord>> record_here(std::shared_ptr<AdminContext> admin,
                                                             std::string id) {
  const CorrectionRecord* r = admin->corrections.find(id);
  co_return r ? std::optional<CorrectionRecord>(*r) : std::nullopt;
}

asio::awaitable<std::string> log_here(std::shared_ptr<AdminContext> admin, CorrectionFilter filter,
                                      bool csv) {
  if (csv) co_return corrections_csv(admin->corrections, filter, admin->utc_offset_minutes);
  co_return corrections_json(admin->corrections, filter, admin->utc_offset_minutes);
}

// The correction that undoes stream entry `id`, or why there is none (404 when unknown).
asio::awaitable<std::variant<Correction, UndoRefused>> undo_here(
    std::shared_ptr<AdminContext> admin, std::string id, bool& known) {
  const CorrectionRecord* r = admin->corrections.find(id);
  known = r != nullptr;
  if (!r) co_return not_in_log(id);
  co_return undo_correction(*r);
}

std::string redis_problem(const Appended& appended) {
  return appended.error ? appended.error.message() : appended.reply.as_string();
}

std::string unconfirmed_message(const std::string& id, const std::string& problem) {
  return "the correction is in the stream as " + id + " but not confirmed (" + problem +
         "): it could be lost if the Redis primary fails now; send it again once the replicas "
         "are back (a correction is idempotent)";
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
  // The error shape of every refusal, so a client reads error.message alike; the id stays, since
  // the correction is in the stream all the same.
  if (error) o["error"] = {{"code", "invalid_correction"}, {"message", *error}};
  return boost::json::serialize(o);
}

// Checks `correction` against this node's engine, records it in the stream and answers once this
// node applied it (201), or 202 when it has not within two seconds.
asio::awaitable<HttpResponse> record_correction(HttpRequest request,
                                                std::shared_ptr<AdminContext> admin,
                                                Correction correction, std::string by) {
  correction.by = std::move(by);
  if (auto problem = co_await asio::co_spawn(admin->engine_strand, check_here(admin, correction),
                                             asio::use_awaitable)) {
    co_return error_response(request, http::status::unprocessable_entity, "invalid_correction",
                             *problem);
  }
  const Appended appended = co_await asio::co_spawn(
      admin->ingest_strand, append_here(admin, correction_xadd_command(admin->stream, correction)),
      asio::use_awaitable);
  if (appended.error || !appended.reply.is_string()) {
    co_return error_response(
        request, http::status::service_unavailable, "unavailable",
        "Redis: " + redis_problem(appended) + "; nothing was recorded, try again");
  }
  const std::string id = appended.reply.as_string();
  if (appended.unconfirmed) {
    co_return error_response(request, http::status::service_unavailable, "unavailable",
                             unconfirmed_message(id, *appended.unconfirmed));
  }
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

}  // namespace

// /api/v1/admin/corrections: GET lists what this node's engine applied; POST records a
// correction in the stream and answers once this node has applied it (201), or 202 when it
// has not within two seconds (every node applies it as it follows the stream).
asio::awaitable<HttpResponse> admin_corrections(HttpRequest request,
                                                std::shared_ptr<AdminContext> admin) {
  auto who = authorize_official(request, *admin->officials, role_needed(request), wall_clock_now(),
                                "making a correction");
  if (auto* denied = std::get_if<HttpResponse>(&who)) co_return std::move(*denied);
  const Official official = std::get<Official>(who);
  if (request.method() == http::verb::get || request.method() == http::verb::head) {
    const std::string_view query = query_of(request.target());
    CorrectionFilter filter;
    if (auto problem = parse_correction_filter(query, filter)) {
      co_return error_response(request, http::status::bad_request, "bad_request", *problem);
    }
    const auto params = parse_query(query);
    const auto format = params.find("format");
    bool csv = false;
    if (format != params.end()) {
      if (format->second != "csv" && format->second != "json") {
        co_return error_response(request, http::status::bad_request, "bad_request",
                                 "format must be json or csv, not \"" + format->second + "\"");
      }
      csv = format->second == "csv";
    }
    std::string body = co_await asio::co_spawn(admin->engine_strand, log_here(admin, filter, csv),
                                               asio::use_awaitable);
    if (csv) co_return csv_response(request, std::move(body));
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
  co_return co_await record_correction(std::move(request), admin, std::get<Correction>(parsed),
                                       official.name);
}

// POST /api/v1/admin/corrections/<id>/undo: records the correction that takes <id> back.
asio::awaitable<HttpResponse> admin_correction_undo(HttpRequest request,
                                                    std::shared_ptr<AdminContext> admin) {
  auto who = authorize_official(request, *admin->officials, OfficialRole::official,
                                wall_clock_now(), "undoing a correction");
  if (auto* denied = std::get_if<HttpResponse>(&who)) co_return std::move(*denied);
  const Official official = std::get<Official>(who);
  const std::string_view path = request.target().substr(0, request.target().find('?'));
  constexpr std::string_view kUndo = "/undo";
  const std::size_t prefix = kCorrectionsPath.size() + 1;
  if (!path.ends_with(kUndo) || path.size() <= prefix + kUndo.size()) {
    co_return error_response(request, http::status::not_found, "not_found",
                             "use POST /api/v1/admin/corrections/<id>/undo");
  }
  if (request.method() != http::verb::post) {
    auto res = error_response(request, http::status::method_not_allowed, "method_not_allowed",
                              "use POST to undo a correction");
    res.set(http::field::allow, "POST");
    co_return res;
  }
  const std::string id(path.substr(prefix, path.size() - prefix - kUndo.size()));
  bool known = false;
  auto undo = co_await asio::co_spawn(admin->engine_strand, undo_here(admin, id, known),
                                      asio::use_awaitable);
  if (auto* refused = std::get_if<UndoRefused>(&undo)) {
    if (!known) {
      co_return error_response(request, http::status::not_found, "not_found", refused->message);
    }
    co_return error_response(request, http::status::conflict, "cannot_undo", refused->message);
  }
  co_return co_await record_correction(std::move(request), admin, std::get<Correction>(undo),
                                       official.name);
}

}  // namespace splitstream
