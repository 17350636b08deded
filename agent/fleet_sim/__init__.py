"""The fleet simulator: many light boxes in one process for benchmarks, chaos tests and demos."""
