"""HQ's reports: sales, margin and clerk performance from aggregates kept as records arrive."""
