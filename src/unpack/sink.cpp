// The hashing and storing worker. Small entries are kept in memory until their digest is known,
// so content the store already has is never written again; larger ones go to a temporary file
// as they arrive and are dropped at the end if the store has them.
#include "sink.hpp"

#include <ecluse/core/fs.hpp>

namespace ecluse::unpack::detail {

namespace {

constexpr std::size_t k_pool = 8;
constexpr std::size_t k_in_memory = std::size_t{16} << 20U;

}  // namespace

struct Sink::Current {
  crypto::Sha256 hasher;
  std::string small;
  std::optional<std::pair<fs::UniqueFd, store::StagedObject>> temp;
  std::uint64_t size = 0;
};

Sink::Sink(const store::ContentStore& objects, StagedObjects& staged)
    : m_objects(objects), m_staged(staged) {
  for (std::size_t i = 0; i < k_pool; ++i) {
    m_pool.push_back(std::make_unique<Buffer>());
    m_free.push_back(m_pool.back().get());
  }
  m_worker = std::thread([this] { run(); });
}

Sink::~Sink() {
  if (m_worker.joinable()) {
    push(Message{Op::stop});
    m_worker.join();
  }
}

void Sink::push(Message m) {
  const std::lock_guard lock(m_mutex);
  m_queue.push_back(m);
  m_changed.notify_all();
}

std::size_t Sink::begin_entry() {
  push(Message{Op::begin});
  return m_entries++;
}

Sink::Buffer* Sink::buffer() {
  std::unique_lock lock(m_mutex);
  m_changed.wait(lock, [this] { return !m_free.empty(); });
  auto* b = m_free.back();
  m_free.pop_back();
  return b;
}

bool Sink::submit(Buffer* buf, std::size_t n) {
  {
    const std::lock_guard lock(m_mutex);
    if (m_error) {
      m_free.push_back(buf);
      return false;
    }
  }
  push(Message{Op::data, buf, n});
  return true;
}

void Sink::end_entry() {
  push(Message{Op::end});
}

void Sink::give_back(Buffer* buf) {
  const std::lock_guard lock(m_mutex);
  m_free.push_back(buf);
  m_changed.notify_all();
}

void Sink::run() {
  for (;;) {
    Message m;
    {
      std::unique_lock lock(m_mutex);
      m_changed.wait(lock, [this] { return !m_queue.empty(); });
      m = m_queue.front();
      m_queue.pop_front();
    }
    if (m.op == Op::stop) {
      return;
    }
    bool failed = false;
    {
      const std::lock_guard lock(m_mutex);
      failed = m_error.has_value();
    }
    auto done = failed ? Status{} : consume(m);
    if (m.buf != nullptr) {
      give_back(m.buf);
    }
    if (!done) {
      const std::lock_guard lock(m_mutex);
      m_error = std::move(done).error();
    }
  }
}

Status Sink::consume(const Message& m) {
  switch (m.op) {
    case Op::begin:
      return start_entry();
    case Op::data:
      return take(std::string_view(m.buf->bytes.data(), m.n));
    case Op::end:
      return finish_entry();
    case Op::stop:
      break;
  }
  return {};
}

Status Sink::start_entry() {
  ECLUSE_TRY(hasher, crypto::Sha256::create());
  m_current = std::make_unique<Current>(Current{std::move(hasher), {}, std::nullopt, 0});
  return {};
}

// Hashes a chunk; keeps it in memory while the entry is small, else in a temporary file.
Status Sink::take(std::string_view chunk) {
  auto& cur = *m_current;
  ECLUSE_CHECK(cur.hasher.update(chunk));
  cur.size += chunk.size();
  if (!cur.temp && cur.small.size() + chunk.size() <= k_in_memory) {
    cur.small.append(chunk);
    return {};
  }
  if (!cur.temp) {
    ECLUSE_TRY(temp, m_objects.create_temp());
    cur.temp.emplace(std::move(temp));
    ECLUSE_CHECK(fs::write_all(
        cur.temp->first.get(), cur.small, cur.temp->second.tmp_path(), reason::k_store_io));
    cur.small = std::string();
  }
  return fs::write_all(
      cur.temp->first.get(), chunk, cur.temp->second.tmp_path(), reason::k_store_io);
}

// The entry's digest decides: content already staged or stored is not kept twice.
Status Sink::finish_entry() {
  auto& cur = *m_current;
  ECLUSE_TRY(digest, cur.hasher.finish());
  const auto hex = digest.hex();
  StoredEntry out{digest, cur.size, {}};
  if (const auto it = m_staged.by_hex.find(hex); it != m_staged.by_hex.end()) {
    out.file = it->second.tmp_path();
  } else if (m_objects.contains(digest)) {
    out.file = m_objects.object_path(digest);
  } else if (cur.temp) {
    const auto tmp = cur.temp->second.tmp_path();
    cur.temp->second.release();
    cur.temp.reset();
    m_staged.by_hex.emplace(hex, store::StagedObject(tmp, digest, cur.size));
    out.file = tmp;
  } else {
    ECLUSE_TRY(staged, m_objects.stage_hashed(cur.small, digest));
    out.file = staged.tmp_path();
    m_staged.by_hex.emplace(hex, std::move(staged));
  }
  m_results.push_back(std::move(out));
  m_current.reset();  // a temporary left unused is removed here
  return {};
}

Result<std::vector<StoredEntry>> Sink::finish() {
  push(Message{Op::stop});
  m_worker.join();
  if (m_error) {
    return fail(*m_error);
  }
  return std::move(m_results);
}

}  // namespace ecluse::unpack::detail
