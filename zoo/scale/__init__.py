"""Scale-out runners built on the run core: self-play on Ray actors, and torchrun data-parallel ranks."""
