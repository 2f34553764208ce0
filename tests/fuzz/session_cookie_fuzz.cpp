// libFuzzer target: the officials' credentials on arbitrary bytes: a session value
// (Officials::verify_session), a Cookie header and a Bearer token (authorize_official), and an
// officials file (Officials::add_from_text).
//
// Invariants (abort on violation, so libFuzzer reports it):
//   * no crash, no throw, no leak;
//   * a value is accepted only if it is exactly what sign_session makes for its official and
//     expiry (one spelling per session: a changed byte is refused);
//   * a request is let through only for an official of the list; a refused one gets a 401 or 403
//     with a JSON error;
//   * each diagnostic of the officials file names the file and line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "api/officials.hpp"
#include "fuzz_support.hpp"

namespace {

using splitstream::fuzz::check;
namespace http = splitstream::http;

constexpr splitstream::TimeMs kNow = 1'743'900'000'000;
const std::string kKimToken = "0123456789abcdef-kim";  // as in tests/unit/officials_test.cpp
const std::string kLeeToken = "fedcba9876543210-lee";

const splitstream::Officials& officials() {
  static const splitstream::Officials list = [] {
    splitstream::Officials o;
    (void)o.add_from_text("official " + kKimToken + " J. Kim\nviewer " + kLeeToken + " Lee Mi-ra\n",
                          "fuzz");
    return o;
  }();
  return list;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const splitstream::Officials& list = officials();

  // A session value.
  const auto session = list.verify_session(text, kNow);
  if (const auto* ok = std::get_if<splitstream::OfficialSession>(&session)) {
    const auto again = list.sign_session(ok->official.name, ok->expires_ms);
    check(again && *again == text, "an accepted value is exactly the one signed for it");
    check(ok->expires_ms > kNow, "an accepted session has not expired");
  }

  // The same bytes as a Cookie header, then as a Bearer token, on an unsafe request.
  if (text.find_first_of("\r\n") == std::string_view::npos) {
    splitstream::HttpRequest request{http::verb::post, "/api/v1/admin/corrections", 11};
    request.set(http::field::cookie, text);
    if (size % 2 == 0) request.set("X-Splitstream-Console", "1");
    if (size % 3 == 0) request.set(http::field::authorization, std::string("Bearer ") += text);
    const auto who =
        splitstream::authorize_official(request, list, splitstream::OfficialRole::official, kNow);
    if (const auto* official = std::get_if<splitstream::Official>(&who)) {
      check(list.find_by_name(official->name) != nullptr, "only an official of the list passes");
    } else {
      const auto& refused = std::get<splitstream::HttpResponse>(who);
      check(refused.result() == http::status::unauthorized ||
                refused.result() == http::status::forbidden,
            "a refusal is a 401 or a 403");
      check(refused.body().rfind("{\"error\":", 0) == 0, "a refusal is a JSON error");
    }
  }

  // An officials file: its diagnostics name file and line.
  splitstream::Officials parsed;
  for (const auto& d : parsed.add_from_text(text, "officials.txt"))
    check(d.to_string().rfind("officials.txt:", 0) == 0, "a diagnostic names the file and line");
  return 0;
}
