"""The box's Prometheus metrics: counters kept while it runs, and GET /metrics."""
