"""Static files served by the HQ API (the dashboard page)."""
