// The ecluse executable: everything lives in the library.
#include <ecluse/cli/main.hpp>

int main(int argc, char** argv) {
  return ecluse::cli::main(argc, argv);
}
