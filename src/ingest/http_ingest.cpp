#include "ingest/http_ingest.hpp"

#include <google/protobuf/util/json_util.h>

#include "ingest/read_batch_json.hpp"

namespace splitstream {
namespace {

bool is_protobuf(std::string_view content_type) {
  return content_type.starts_with("application/x-protobuf") ||
         content_type.starts_with("application/protobuf") ||
         content_type.starts_with("application/octet-stream");
}

// The protocol's Error as an HTTP answer: bad credentials are 401/403, a store failure 503,
// anything else the client's fault.
HttpResponse protocol_error(const HttpRequest& request, const v1::Error& error) {
  http::status status = http::status::bad_request;
  std::string code = "invalid_batch";
  switch (error.code()) {
    case v1::ERROR_CODE_BAD_TOKEN:
      status = http::status::unauthorized;
      code = "bad_token";
      break;
    case v1::ERROR_CODE_UNKNOWN_DEVICE:
      status = http::status::forbidden;
      code = "unknown_device";
      break;
    case v1::ERROR_CODE_INTERNAL:
    case v1::ERROR_CODE_OVERLOADED:
      status = http::status::service_unavailable;
      code = "unavailable";
      break;
    default:
      break;
  }
  return error_response(request, status, code, error.text());
}

HttpResponse ack_response(const HttpRequest& request, const v1::Ack& ack) {
  const auto accept = request[http::field::accept];
  if (is_protobuf(accept) || (accept.empty() && is_protobuf(request[http::field::content_type]))) {
    HttpResponse res{http::status::ok, request.version()};
    res.set(http::field::content_type, "application/x-protobuf");
    res.keep_alive(request.keep_alive());
    res.body() = ack.SerializeAsString();
    res.prepare_payload();
    return res;
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(ack, &json, options);
  return json_response(request, http::status::ok, std::move(json));
}

// The first Error among the messages, if any.
const v1::Error* find_error(const DeviceProtocolOutput& out) {
  for (const v1::ServerMessage& m : out.send) {
    if (m.has_error()) return &m.error();
  }
  return nullptr;
}

}  // namespace

boost::asio::awaitable<HttpResponse> handle_http_ingest(HttpRequest request,
                                                        std::shared_ptr<DeviceIngest> ingest) {
  if (request.method() != http::verb::post) {
    HttpResponse res = error_response(request, http::status::method_not_allowed,
                                      "method_not_allowed", "/api/v1/reads takes POST");
    res.set(http::field::allow, "POST");
    co_return res;
  }
  const std::string_view auth = request[http::field::authorization];
  if (!auth.starts_with("Bearer ") || auth.size() <= 7) {
    co_return error_response(request, http::status::unauthorized, "missing_token",
                             "send the device's token as `Authorization: Bearer <token>`");
  }
  const std::string token(auth.substr(7));
  // The body: Protobuf or JSON.
  v1::DeviceMessage batch_message;
  v1::ReadBatch& batch = *batch_message.mutable_batch();
  const std::string_view content_type = request[http::field::content_type];
  if (is_protobuf(content_type)) {
    if (!batch.ParseFromString(request.body())) {
      co_return error_response(request, http::status::bad_request, "invalid_batch",
                               "the body is not a Protobuf ReadBatch");
    }
  } else if (content_type.starts_with("application/json")) {
    ReadBatchJsonLimits limits;
    limits.max_body_bytes = ingest->max_http_body_bytes;
    limits.max_reads = ingest->protocol.max_reads_per_batch;
    const ReadBatchJsonStatus parsed = parse_read_batch_json(request.body(), batch, limits);
    if (!parsed.ok()) {
      // (No ?: here: GCC 12 miscompiles some conditional temporaries in coroutines.)
      http::status status = http::status::bad_request;
      std::string code = "invalid_batch";
      if (parsed.error == ReadBatchJsonError::body_too_large ||
          parsed.error == ReadBatchJsonError::too_many_reads) {
        status = http::status::payload_too_large;
        code = "too_large";
      }
      co_return error_response(request, status, code, parsed.message);
    }
  } else {
    co_return error_response(request, http::status::unsupported_media_type,
                             "unsupported_media_type",
                             "send application/json or application/x-protobuf, not \"" +
                                 std::string(content_type) + "\"");
  }
  if (batch.reads_size() == 0) {
    co_return error_response(request, http::status::bad_request, "invalid_batch", "no reads");
  }
  // One device per request: its id comes from the reads.
  const std::string device = batch.reads(0).device_id();
  for (int i = 0; i < batch.reads_size(); ++i) {
    if (batch.reads(i).device_id().empty() || batch.reads(i).device_id() != device) {
      co_return error_response(request, http::status::bad_request, "invalid_batch",
                               "reads[" + std::to_string(i) +
                                   "].device_id: every read must name the same device over HTTP");
    }
  }
  if (ingest->draining()) {
    co_return error_response(request, http::status::service_unavailable, "shutting_down",
                             "the server is stopping; nothing was stored, retry");
  }
  // Counted while it may store reads, so a stopping server waits for its Ack.
  ingest->http_push_started();
  class Finished {
   public:
    explicit Finished(DeviceIngest& ingest) : ingest_(ingest) {}
    ~Finished() { ingest_.http_push_finished(); }

   private:
    DeviceIngest& ingest_;
  };
  const Finished finished(*ingest);
  // The one-shot session: Hello, the device's acked seq, the batch, Redis, the Ack.
  DeviceProtocol session(ingest->event, ingest->tokens, ingest->protocol, wall_clock_now());
  v1::DeviceMessage hello;
  hello.mutable_hello()->set_device_id(device);
  hello.mutable_hello()->set_token(token);
  hello.mutable_hello()->set_software("http");
  DeviceProtocolOutput out = session.on_message(hello, wall_clock_now());
  if (const v1::Error* error = find_error(out)) co_return protocol_error(request, *error);
  const ReadLogResult loaded = co_await ingest->read_log.acked_seq(device);
  if (loaded.error) {
    co_return error_response(request, http::status::service_unavailable, "unavailable",
                             "Redis: " + loaded.detail + "; retry later");
  }
  out = session.on_acked_seq_loaded(loaded.ingest.acked_seq, wall_clock_now());
  out = session.on_message(batch_message, wall_clock_now());
  DevicePresence* presence = ingest->presence(device);
  if (out.persist) {
    PersistRequest persist = std::move(*out.persist);
    const ReadLogResult stored = co_await ingest->read_log.append(
        persist.device_id, wall_clock_now(), std::move(persist.reads),
        std::move(persist.to_mark_rejected));
    if (stored.error) {
      co_return error_response(request, http::status::service_unavailable, "unavailable",
                               "Redis: " + stored.detail + "; nothing was acknowledged, retry");
    }
    if (presence)
      presence->record_stored(stored.ingest.appended, stored.ingest.gaps, wall_clock_now());
    out = session.on_persisted(stored.ingest.acked_seq, stored.ingest.gaps, wall_clock_now());
  }
  if (presence) {
    // A device that posts is present while it keeps posting (docs/api.md, GET /api/v1/devices).
    const DeviceSessionStats& st = session.stats();
    presence->http_post(wall_clock_now(), ingest->protocol.idle_timeout_ms);
    presence->record_refused(st.reads_rejected - st.reads_malformed, st.reads_malformed);
  }
  if (const v1::Error* error = find_error(out)) co_return protocol_error(request, *error);
  for (const v1::ServerMessage& m : out.send) {
    if (m.has_ack()) co_return ack_response(request, m.ack());
  }
  co_return error_response(request, http::status::internal_server_error, "internal",
                           "the batch produced no acknowledgement");
}

}  // namespace splitstream
