// The one function that puts a tree on disk (for the sandbox): every entry is checked again
// with the same path-safety rules as while unpacking, the whole tree before anything is
// written, and then created relative to directory descriptors opened one component at a time
// with O_NOFOLLOW, so no symlink (in the tree or planted in the destination) is ever followed.
// setuid, setgid, sticky and write bits are recorded in the manifest but never applied: files
// are written 0444, or 0555 when any execute bit is set, so an unprivileged sandbox user can
// read (and run) them.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/store/content_store.hpp>
#include <ecluse/unpack/path_safety.hpp>
#include <ecluse/unpack/tree.hpp>

#include <filesystem>
#include <vector>

namespace ecluse::unpack {

// Writes entries (one level of a tree: an archive's contents) under dest, an existing directory.
// Path-safety reason codes (path_safety.hpp) for a hostile manifest, nothing written;
// unpack.write_through_symlink when dest itself holds a symlink where the tree needs a
// directory; store.object_missing / store.io_error for the store and the destination.
Status materialise(const std::vector<Entry>& entries,
                   const store::ContentStore& objects,
                   const std::filesystem::path& dest,
                   const NameLimits& limits = {});

}  // namespace ecluse::unpack
