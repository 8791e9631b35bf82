// The second core: entries' bytes go from the reading thread (which decompresses) to a worker
// thread that hashes them and stores the new ones, through a bounded set of buffers, so memory
// stays bounded whatever the archive's size. Private to src/unpack/.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/store/content_store.hpp>

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace ecluse::unpack::detail {

// Every object a drop's unpacking created, by digest, until the stage commits them all at once.
struct StagedObjects {
  std::map<std::string, store::StagedObject> by_hex;
};

// Where an entry's bytes are once stored: a staged temporary or an existing store object.
struct StoredEntry {
  crypto::Digest digest;
  std::uint64_t size = 0;
  std::filesystem::path file;
};

class Sink {
 public:
  static constexpr std::size_t k_buffer_bytes = std::size_t{1} << 20U;

  struct Buffer {
    std::vector<char> bytes = std::vector<char>(k_buffer_bytes);
  };

  Sink(const store::ContentStore& objects, StagedObjects& staged);
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;
  Sink(Sink&&) = delete;
  Sink& operator=(Sink&&) = delete;
  ~Sink();

  // Starts the next entry; returns its index in finish()'s result.
  std::size_t begin_entry();
  // A free buffer for the current entry's next bytes (waits while all are in flight).
  Buffer* buffer();
  // Hands the first n bytes of buf to the worker. False when the worker failed (see finish()).
  bool submit(Buffer* buf, std::size_t n);
  void end_entry();

  // Waits for the worker; every entry's digest, size and file, in begin_entry() order.
  Result<std::vector<StoredEntry>> finish();

 private:
  enum class Op { begin, data, end, stop };

  struct Message {
    Op op = Op::stop;
    Buffer* buf = nullptr;
    std::size_t n = 0;
  };

  void push(Message m);
  void run();
  Status consume(const Message& m);
  Status start_entry();
  Status take(std::string_view chunk);
  Status finish_entry();
  void give_back(Buffer* buf);

  const store::ContentStore& m_objects;
  StagedObjects& m_staged;

  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::deque<Message> m_queue;
  std::vector<std::unique_ptr<Buffer>> m_pool;
  std::vector<Buffer*> m_free;
  std::optional<Error> m_error;
  std::size_t m_entries = 0;
  bool m_stopped = false;

  // Worker-side state of the current entry.
  struct Current;
  std::unique_ptr<Current> m_current;
  std::vector<StoredEntry> m_results;
  std::thread m_worker;
};

}  // namespace ecluse::unpack::detail
