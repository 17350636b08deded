"""Static files served by the local API (the status page)."""
