// Tests talk to their redis-server through hiredis's blocking API (setup and inspection, not
// the code under test): its reply trees become our RedisReply here.
#pragma once

#include <hiredis/hiredis.h>

#include <string>
#include <vector>

#include "store/redis_reply.hpp"

namespace splitstream {

// Copies a hiredis reply tree into a RedisReply. Pure: does not free or modify `reply`. Strings
// are copied by length, so they are binary-safe.
inline RedisReply convert_hiredis_reply(const redisReply& reply) {
  // hiredis caps nesting at a few levels, so recursion depth is bounded.
  switch (reply.type) {
    case REDIS_REPLY_STRING:
      return RedisReply::string(std::string(reply.str, reply.len));
    case REDIS_REPLY_STATUS:
      return RedisReply::status(std::string(reply.str, reply.len));
    case REDIS_REPLY_ERROR:
      return RedisReply::error(std::string(reply.str, reply.len));
    case REDIS_REPLY_INTEGER:
      return RedisReply::integer(reply.integer);
    case REDIS_REPLY_NIL:
      return RedisReply::nil();
    case REDIS_REPLY_ARRAY: {
      std::vector<RedisReply> elements;
      elements.reserve(reply.elements);
      for (std::size_t i = 0; i < reply.elements; ++i) {
        const redisReply* element = reply.element[i];
        elements.push_back(element != nullptr ? convert_hiredis_reply(*element)
                                              : RedisReply::nil());
      }
      return RedisReply::array(std::move(elements));
    }
    default:
      // Not produced by hiredis 0.14; surfaced as an error reply rather than dropped.
      return RedisReply::error("unsupported hiredis reply type " + std::to_string(reply.type));
  }
}

}  // namespace splitstream
