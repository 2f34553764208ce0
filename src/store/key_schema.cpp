#include "store/key_schema.hpp"

namespace splitstream {

KeySchema::KeySchema(std::string_view event_id) : tag_("{ev:" + std::string(event_id) + "}") {}

std::string KeySchema::device(std::string_view device_id) const {
  return tag_ + ":dev:" + std::string(device_id);
}

std::string KeySchema::device_pending(std::string_view device_id) const {
  return device(device_id) + ":pending";
}

std::string KeySchema::decoder(std::string_view decoder_id) const {
  return tag_ + ":dec:" + std::string(decoder_id);
}

std::string KeySchema::decoder_seen(std::string_view decoder_id) const {
  return decoder(decoder_id) + ":seen";
}

std::string KeySchema::presence(std::string_view device_id) const {
  return tag_ + ":presence:" + std::string(device_id);
}

std::string KeySchema::runner(std::string_view bib) const {
  return tag_ + ":runner:" + std::string(bib);
}

std::string KeySchema::standings(std::string_view race, std::string_view category) const {
  return tag_ + ":standings:" + std::string(race) + ":" + std::string(category);
}

}  // namespace splitstream
