#include "etl/queue/stream_reply.hpp"

namespace etl {
namespace {

error_code shape_error(const redis_reply& r) {
  return r.is_error() ? make_error_code(redis_errc::server_error)
                      : make_error_code(redis_errc::unexpected_reply);
}

}  // namespace

result<std::vector<stream_entry>> parse_stream_entries(const redis_reply& r,
                                                       std::vector<std::string>* deleted_ids) {
  if (!r.is_array()) {
    return shape_error(r);
  }
  std::vector<stream_entry> out;
  out.reserve(r.elements.size());
  for (const auto& e : r.elements) {
    if (!e.is_array() || e.elements.size() != 2 || !e.elements[0].is_text()) {
      return make_error_code(redis_errc::unexpected_reply);
    }
    const auto& fields = e.elements[1];
    if (fields.is_nil()) {
      if (!deleted_ids) {
        return make_error_code(redis_errc::unexpected_reply);
      }
      deleted_ids->push_back(e.elements[0].str);
      continue;
    }
    if (!fields.is_array() || fields.elements.size() % 2 != 0) {
      return make_error_code(redis_errc::unexpected_reply);
    }
    stream_entry entry;
    entry.id = e.elements[0].str;
    for (std::size_t i = 0; i < fields.elements.size(); i += 2) {
      const auto& k = fields.elements[i];
      const auto& v = fields.elements[i + 1];
      if (!k.is_text() || !v.is_text()) {
        return make_error_code(redis_errc::unexpected_reply);
      }
      entry.fields[k.str] = v.str;
    }
    out.push_back(std::move(entry));
  }
  return out;
}

result<std::vector<stream_entry>> parse_read_reply(const redis_reply& r,
                                                   const std::string& stream_name) {
  if (r.is_nil()) {
    return std::vector<stream_entry>{};
  }
  if (!r.is_array()) {
    return shape_error(r);
  }
  if (r.elements.empty()) {
    return std::vector<stream_entry>{};
  }
  if (r.elements.size() != 1) {
    return make_error_code(redis_errc::unexpected_reply);
  }
  const auto& s = r.elements[0];
  if (!s.is_array() || s.elements.size() != 2 || !s.elements[0].is_text() ||
      s.elements[0].str != stream_name) {
    return make_error_code(redis_errc::unexpected_reply);
  }
  std::vector<std::string> deleted;  // only when re-reading history; never with ">"
  return parse_stream_entries(s.elements[1], &deleted);
}

result<autoclaim_result> parse_autoclaim_reply(const redis_reply& r) {
  if (!r.is_array()) {
    return shape_error(r);
  }
  if (r.elements.size() != 2 && r.elements.size() != 3) {
    return make_error_code(redis_errc::unexpected_reply);
  }
  if (!r.elements[0].is_text()) {
    return make_error_code(redis_errc::unexpected_reply);
  }
  autoclaim_result out;
  out.next_cursor = r.elements[0].str;
  auto entries = parse_stream_entries(r.elements[1], &out.deleted_ids);
  if (!entries) {
    return entries.error();
  }
  out.entries = std::move(*entries);
  if (r.elements.size() == 3) {
    const auto& deleted = r.elements[2];
    if (!deleted.is_array()) {
      return make_error_code(redis_errc::unexpected_reply);
    }
    for (const auto& id : deleted.elements) {
      if (!id.is_text()) {
        return make_error_code(redis_errc::unexpected_reply);
      }
      out.deleted_ids.push_back(id.str);
    }
  }
  return out;
}

result<std::vector<pending_entry>> parse_pending_reply(const redis_reply& r) {
  if (!r.is_array()) {
    return shape_error(r);
  }
  std::vector<pending_entry> out;
  out.reserve(r.elements.size());
  for (const auto& e : r.elements) {
    if (!e.is_array() || e.elements.size() != 4 || !e.elements[0].is_text() ||
        !e.elements[1].is_text() || e.elements[2].type != redis_reply::kind::integer ||
        e.elements[3].type != redis_reply::kind::integer) {
      return make_error_code(redis_errc::unexpected_reply);
    }
    out.push_back(
        {e.elements[0].str, e.elements[1].str, e.elements[2].integer, e.elements[3].integer});
  }
  return out;
}

}  // namespace etl
