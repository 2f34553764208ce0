// Temporary lead copy (replaced by helper resp's).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>
#include "store/redis_reply.hpp"
namespace splitstream {
struct RespLimits { std::size_t max_bulk = 512u << 20; std::size_t max_elements = 1u << 24; int max_depth = 16; };
enum class RespScan { complete, incomplete, malformed };
struct RespScanResult { RespScan status = RespScan::incomplete; std::size_t length = 0; std::string error; };
RespScanResult scan_resp_reply(std::string_view data, const RespLimits& limits = {});
RedisReply build_resp_reply(std::string_view complete_reply);
void append_resp_command(std::string& out, const std::vector<std::string>& args);
}
