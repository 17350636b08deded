"""The workshop at HQ: progress of production tasks and piece counts, from verified records."""
