// guest-file-open/-close/-read/-write/-seek/-flush, with qemu-ga 7.2's
// replies and messages. Paths are checked by the files service's policy.
#include <unistd.h>

#include <cstring>

#include "qga/base64.hpp"
#include "qga/file_handles.hpp"
#include "qga/qga_agent.hpp"

namespace tether::agent::qga {
namespace {

[[noreturn]] void bad_count(std::int64_t n) {
  throw qga_error("value '" + std::to_string(n) + "' is invalid for argument count");
}

awaitable<json::value> file_read(command_call& c) {
  const auto handle = c.a.integer("handle");
  const auto count = c.a.opt_integer("count").value_or(4096);
  c.a.done();
  const int fd = c.agent.files().fd(handle);
  if (count < 0 || count > file_handles::max_read) bad_count(count);
  std::string buf(static_cast<std::size_t>(count), '\0');
  std::size_t got = 0;
  bool eof = false;
  while (got < buf.size()) {
    const ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (n == 0) {
      eof = true;
      break;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN) {
      break;  // a pipe with nothing more now
    } else {
      throw qga_error(std::string("failed to read file: ") + std::strerror(errno));
    }
  }
  buf.resize(got);
  co_return json::object{{"count", static_cast<std::int64_t>(got)}, {"buf-b64", encode_base64(buf)}, {"eof", eof}};
}

awaitable<json::value> file_write(command_call& c) {
  const auto handle = c.a.integer("handle");
  const auto data_b64 = c.a.string("buf-b64");
  const auto count = c.a.opt_integer("count");
  c.a.done();
  const int fd = c.agent.files().fd(handle);
  const std::string data = decode_base64(data_b64);
  if (count && (*count < 0 || static_cast<std::size_t>(*count) > data.size())) bad_count(*count);
  const std::size_t want = count ? static_cast<std::size_t>(*count) : data.size();
  std::size_t done = 0;
  while (done < want) {
    const ssize_t n = ::write(fd, data.data() + done, want - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      break;  // a full pipe: report what went
    } else {
      throw qga_error(std::string("failed to write to file: ") + std::strerror(errno));
    }
  }
  co_return json::object{{"count", static_cast<std::int64_t>(done)}, {"eof", false}};
}

awaitable<json::value> file_seek(command_call& c) {
  const auto handle = c.a.integer("handle");
  const auto offset = c.a.integer("offset");
  const auto* w = c.a.opt_value("whence");
  if (!w) throw qga_error("Parameter 'whence' is missing");
  c.a.done();
  int whence = SEEK_SET;
  // QGASeek: an enum name, or qemu-ga's old integer codes 0, 1, 2.
  if (w->is_string()) {
    const std::string_view s = w->get_string();
    if (s == "set") whence = SEEK_SET;
    else if (s == "cur") whence = SEEK_CUR;
    else if (s == "end") whence = SEEK_END;
    else bad_enum("whence", s);
  } else if (w->is_int64() || w->is_uint64()) {
    const auto code = w->is_int64() ? w->get_int64() : static_cast<std::int64_t>(w->get_uint64());
    if (code == 0) whence = SEEK_SET;
    else if (code == 1) whence = SEEK_CUR;
    else if (code == 2) whence = SEEK_END;
    else throw qga_error("invalid whence code " + std::to_string(code));
  } else {
    wrong_type("whence", "GuestFileWhence");
  }
  const int fd = c.agent.files().fd(handle);
  const off_t pos = ::lseek(fd, static_cast<off_t>(offset), whence);
  if (pos < 0) throw qga_error(std::string("failed to seek file: ") + std::strerror(errno));
  co_return json::object{{"position", static_cast<std::int64_t>(pos)}, {"eof", false}};
}

}  // namespace

void add_file_commands(std::vector<command_def>& t) {
  t.push_back({"guest-file-flush", "files", [](command_call& c) -> awaitable<json::value> {
                 const auto handle = c.a.integer("handle");
                 c.a.done();
                 // Writes go straight to the file (no stdio buffer to flush).
                 (void)c.agent.files().fd(handle);
                 co_return json::object{};
               }});
  t.push_back({"guest-file-seek", "files", file_seek});
  t.push_back({"guest-file-write", "files", file_write});
  t.push_back({"guest-file-read", "files", file_read});
  t.push_back({"guest-file-close", "files", [](command_call& c) -> awaitable<json::value> {
                 const auto handle = c.a.integer("handle");
                 c.a.done();
                 c.agent.files().close(handle);
                 co_return json::object{};
               }});
  t.push_back({"guest-file-open", "files", [](command_call& c) -> awaitable<json::value> {
                 const auto path = c.a.string("path");
                 const auto mode = c.a.opt_string("mode").value_or("r");
                 c.a.done();
                 co_return json::value(c.agent.files().open(path, mode));
               }});
}

}  // namespace tether::agent::qga
