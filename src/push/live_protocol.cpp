#include "push/live_protocol.hpp"

#include <google/protobuf/util/json_util.h>

#include "engine/race_engine.hpp"

namespace splitstream {

LiveCatalog::LiveCatalog(const Event& event) : event_(event), categories_(event.races.size()) {
  for (const Participant& p : event.participants) {
    for (std::string& c : RaceEngine::categories_of(p))
      categories_[p.race].insert(std::move(c));
  }
  for (auto& set : categories_)
    set.insert(std::string(RaceEngine::kOverall));
}

std::variant<v1::ClientMessage, LiveRequestError> parse_client_message(std::string_view payload,
                                                                       bool binary) {
  v1::ClientMessage message;
  if (binary) {
    if (!message.ParseFromArray(payload.data(), static_cast<int>(payload.size())))
      return LiveRequestError{"invalid_message", "not a Protobuf ClientMessage"};
  } else {
    const auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(payload.data(), payload.size()), &message);
    if (!status.ok()) {
      return LiveRequestError{"invalid_message",
                              "not a JSON ClientMessage: " + std::string(status.message())};
    }
  }
  if (message.body_case() == v1::ClientMessage::BODY_NOT_SET)
    return LiveRequestError{"invalid_message", "expected \"subscribe\" or \"unsubscribe\""};
  return message;
}

namespace {

LiveRequestError invalid_limit(std::uint32_t max) {
  return {"invalid_limit", "limit must be 1.." + std::to_string(max)};
}

}  // namespace

std::variant<std::vector<SubscriptionShape>, LiveRequestError> resolve_subscribe(
    const LiveCatalog& catalog, const v1::Subscribe& s, const LiveLimits& limits) {
  const Event& event = catalog.event();
  std::vector<SubscriptionShape> shapes;
  SubscriptionShape shape;
  shape.kind = s.kind();
  auto find_race = [&](bool required) -> std::optional<LiveRequestError> {
    if (s.race_id().empty()) {
      if (required) return LiveRequestError{"unknown_race", "race_id is required"};
      return std::nullopt;
    }
    auto it = event.race_by_id.find(s.race_id());
    if (it == event.race_by_id.end())
      return LiveRequestError{"unknown_race", "no race \"" + s.race_id() + "\""};
    shape.race = it->second;
    return std::nullopt;
  };
  switch (s.kind()) {
    case v1::SUBSCRIPTION_KIND_STANDINGS: {
      if (auto e = find_race(true)) return *e;
      shape.category =
          s.category_id().empty() ? std::string(RaceEngine::kOverall) : s.category_id();
      if (!catalog.categories(shape.race).contains(shape.category)) {
        return LiveRequestError{
            "unknown_category",
            "race \"" + s.race_id() + "\" has no category \"" + shape.category + "\""};
      }
      shape.limit = s.limit() == 0 ? 10 : s.limit();
      if (shape.limit > limits.max_page_rows) return invalid_limit(limits.max_page_rows);
      shape.offset = s.offset();
      shape.key = "standings/" + s.race_id() + "/" + shape.category + "/" +
                  std::to_string(shape.offset) + "/" + std::to_string(shape.limit);
      shapes.push_back(std::move(shape));
      break;
    }
    case v1::SUBSCRIPTION_KIND_PASSINGS: {
      if (!s.timing_point_id().empty()) {
        auto tp = event.find_timing_point(s.timing_point_id());
        if (!tp) {
          return LiveRequestError{"unknown_timing_point",
                                  "no timing point \"" + s.timing_point_id() + "\""};
        }
        shape.timing_point = *tp;
      }
      shape.limit = s.limit() == 0 ? 50 : s.limit();
      if (shape.limit > limits.max_page_rows) return invalid_limit(limits.max_page_rows);
      // The snapshot size is not part of the key: every passings subscriber shares updates.
      shape.key = "passings/" + (s.timing_point_id().empty() ? "*" : s.timing_point_id());
      shapes.push_back(std::move(shape));
      break;
    }
    case v1::SUBSCRIPTION_KIND_RUNNERS: {
      if (s.bibs_size() == 0 || static_cast<std::uint32_t>(s.bibs_size()) > limits.max_bibs) {
        return LiveRequestError{"invalid_limit",
                                "bibs must list 1.." + std::to_string(limits.max_bibs) + " bibs"};
      }
      for (const std::string& bib : s.bibs()) {
        auto it = event.participant_by_bib.find(bib);
        if (it == event.participant_by_bib.end())
          return LiveRequestError{"unknown_bib", "no runner with bib \"" + bib + "\""};
        SubscriptionShape one;
        one.kind = s.kind();
        one.runner = it->second;
        one.key = "runner/" + bib;
        shapes.push_back(std::move(one));
      }
      break;
    }
    case v1::SUBSCRIPTION_KIND_MAP: {
      if (auto e = find_race(false)) return *e;
      shape.key = "map/" + (s.race_id().empty() ? std::string("*") : s.race_id());
      shapes.push_back(std::move(shape));
      break;
    }
    case v1::SUBSCRIPTION_KIND_DEVICES:
      shape.key = "console/devices";
      shapes.push_back(std::move(shape));
      break;
    case v1::SUBSCRIPTION_KIND_REVIEW:
      shape.key = "console/review";
      shapes.push_back(std::move(shape));
      break;
    default:
      return LiveRequestError{"invalid_message",
                              "kind must be STANDINGS, PASSINGS, RUNNERS, MAP, DEVICES or REVIEW"};
  }
  return shapes;
}

std::string encode_live_message(const v1::LiveMessage& message, LiveFormat format) {
  if (format == LiveFormat::protobuf) return message.SerializeAsString();
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

v1::LiveMessage error_message(const LiveRequestError& error) {
  v1::LiveMessage m;
  m.mutable_error()->set_code(error.code);
  m.mutable_error()->set_message(error.message);
  return m;
}

std::variant<std::vector<SubscriptionShape>, LiveRequestError> SubscriptionSet::add(
    std::vector<SubscriptionShape> shapes) {
  std::size_t fresh = 0;
  for (const SubscriptionShape& s : shapes)
    fresh += keys_.contains(s.key) ? 0 : 1;
  if (keys_.size() + fresh > max_) {
    return LiveRequestError{
        "too_many_subscriptions",
        "at most " + std::to_string(max_) + " subscriptions per connection; unsubscribe first"};
  }
  for (const SubscriptionShape& s : shapes)
    keys_.insert(s.key);
  return shapes;
}

bool SubscriptionSet::remove(std::string_view key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return false;
  keys_.erase(it);
  return true;
}

}  // namespace splitstream
