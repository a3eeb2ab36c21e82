//! MemoryDB kinds.

kinds![user];
