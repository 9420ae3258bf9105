//! The allocator of every mesh binary: mimalloc, also standing in for the C
//! library's malloc (the `override` feature), so SQLite's allocations use it
//! too. Profiles of the preauth path found a quarter of the CPU in glibc's
//! malloc and free, much of it threads contending for its arenas (a service
//! runs a tokio worker per core and a thread per SQLite connection).
//! Transparent huge pages are off (`no_thp`): with them, mimalloc's first
//! arena alone made an idle service 42 MiB resident instead of 19.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
